package org.deebert.streams.classifier;

import java.util.Arrays;

/**
 * What one classifier call has found and cost so far, across its chunks: each input's {@link Classification},
 * the exit histogram, the layer calls and layer-rows run. Becomes the call's {@link BatchResult}. Not thread-safe (one call).
 */
final class BatchTally {

    private final Classification[] results;
    private final long[] histogram;
    private long layerCalls;
    private long layerRows;
    private long shadowLayerRows;
    private int chunks;

    /**
     * @param rows      inputs in the call
     * @param numLayers n, the length of the exit histogram
     */
    BatchTally(int rows, int numLayers) {
        this.results = new Classification[rows];
        this.histogram = new long[numLayers];
    }

    /** Records input {@code index}'s result, which left at {@code layer} (1-based) by its policy. */
    void exit(int index, Classification result, int layer) {
        results[index] = result;
        histogram[layer - 1]++;
    }

    /** @return input {@code index}'s result so far, or null */
    Classification result(int index) {
        return results[index];
    }

    /** Replaces input {@code index}'s result (with the same one plus its shadow trace); the histogram is unchanged. */
    void replace(int index, Classification result) {
        results[index] = result;
    }

    /** Counts one {@code layer_i} call on {@code live} inputs (the rows of one chunk, or of merged chunks). */
    void layerCall(int live) {
        layerCalls++;
        layerRows += live;
    }

    /** Counts one layer-row a shadow sample ran after its policy exit (already in {@link #layerRows}). */
    void shadowLayerRow() {
        shadowLayerRows++;
    }

    /** Counts one chunk (a length bucket, or max batch size inputs in arrival order), embedded in one call. */
    void chunk() {
        chunks++;
    }

    /**
     * @param elapsedMs wall-clock time of the call, milliseconds
     * @return the classifications in input order and the call's {@link BatchStats}
     */
    BatchResult toResult(double elapsedMs) {
        return new BatchResult(Arrays.asList(results),
                new BatchStats(results.length, chunks, layerCalls, layerRows, shadowLayerRows, histogram, elapsedMs));
    }
}
