package org.deebert.streams.classifier;

/**
 * What one {@link EarlyExitClassifier#classifyBatch} call cost, for metrics.
 *
 * @param rows              inputs classified
 * @param chunks            model passes the inputs were split into (at most max batch size rows each)
 * @param layerRowsExecuted sum over inputs of layers run (= sum of exit layers); {@code rows * n}
 *                          without early exit
 * @param exitHistogram     {@code exitHistogram[i-1]} = inputs that left at layer i, length n
 * @param elapsedMs         wall-clock time of the call including tokenization, milliseconds
 */
public record BatchStats(int rows, int chunks, long layerRowsExecuted, long[] exitHistogram, double elapsedMs) {

    /**
     * @return {@link ExpectedSaving#expectedSaving} of this call's exit histogram
     */
    public double expectedSaving() {
        return ExpectedSaving.expectedSaving(exitHistogram);
    }
}
