package org.deebert.streams.classifier;

import org.deebert.streams.exit.ExpectedSaving;

/**
 * What one {@link EarlyExitClassifier#classifyBatch(ClassifyRequest)} call cost, for metrics. A layer-row is one input run
 * through one transformer layer (and its off-ramp); {@code rows * n} layer-rows is the full model's cost.
 *
 * @param rows              inputs classified
 * @param chunks            chunks the inputs were split into, each embedded in one call padded to its own
 *                          longest input (at most max batch size rows each; with length buckets, one per bucket:
 *                          {@link ClassifierOptions.Buckets})
 * @param layerCalls        {@code layer_i} signature calls run, over all layers: at most {@code chunks * n}; fewer
 *                          when chunks emptied early, or when the survivors of several length buckets shared a
 *                          call ({@link GroupMerge})
 * @param layerRowsExecuted layer-rows actually run: the sum over inputs of their exit layers plus
 *                          {@code shadowLayerRows}; {@code rows * n} without early exit
 * @param shadowLayerRows   layer-rows run by shadow samples after the layer their policy let them exit at
 *                          (the sum over shadow inputs of {@code n - exitLayer}), i.e. what the shadow samples
 *                          cost beyond early exit; 0 in a call without shadow samples
 * @param exitHistogram     {@code exitHistogram[i-1]} = inputs that left at layer i by the policy (a shadow
 *                          sample counts at its policy exit, not at layer n), length n
 * @param elapsedMs         wall-clock time of the call including tokenization, milliseconds
 */
public record BatchStats(int rows, int chunks, long layerCalls, long layerRowsExecuted, long shadowLayerRows, long[] exitHistogram,
                         double elapsedMs) {

    /** The stats of a call without shadow samples ({@code shadowLayerRows} = 0). */
    public BatchStats(int rows, int chunks, long layerCalls, long layerRowsExecuted, long[] exitHistogram,
            double elapsedMs) {
        this(rows, chunks, layerCalls, layerRowsExecuted, 0L, exitHistogram, elapsedMs);
    }

    /**
     * @return {@link ExpectedSaving#expectedSaving} of this call's exit histogram (the policy's saving; the
     *     shadow samples' extra layers are not in it, see {@link #shadowLayerRows})
     */
    public double expectedSaving() {
        return ExpectedSaving.expectedSaving(exitHistogram);
    }
}
