package org.deebert.streams.classifier;

import org.deebert.streams.exit.ShadowTrace;

/**
 * The shadow samples of one call, indexed by their index in the call: which rows are sampled, whether each one's
 * policy exit is recorded yet, and what every off-ramp said about it ({@link ShadowTrace}). A shadow sample stays in
 * the batch after its exit, so it runs every layer; its result is recorded once, at the exit its policy chose, and
 * gets its trace at the end of the call. Not thread-safe (one call).
 */
final class ShadowRecorder {

    private final boolean[] sampled;
    private final boolean[] recorded;
    private final int[][] labels;
    private final double[][] entropies;
    private final double[][] divergences;

    private ShadowRecorder(boolean[] sampled, int numLayers) {
        int rows = sampled.length;
        this.sampled = sampled;
        this.recorded = new boolean[rows];
        this.labels = new int[rows][];
        this.entropies = new double[rows][];
        this.divergences = new double[rows][];
        for (int row = 0; row < rows; row++) {
            if (sampled[row]) {
                labels[row] = new int[numLayers];
                entropies[row] = new double[numLayers];
                divergences[row] = new double[numLayers];
            }
        }
    }

    /**
     * @param flags     one shadow flag per row of a call, or null
     * @return a copy of {@code flags}, or null when none is set (then the call takes the plain path)
     */
    static boolean[] sampledOrNull(boolean[] flags) {
        if (flags != null) {
            for (boolean flag : flags) {
                if (flag) {
                    return flags.clone();
                }
            }
        }
        return null;
    }

    /**
     * @param callSampled one flag per input of the call ({@link #sampledOrNull}), or null
     * @param numLayers   n
     * @return a recorder for the call, its rows indexed by call index, or null when {@code callSampled} is null
     */
    static ShadowRecorder forCall(boolean[] callSampled, int numLayers) {
        return callSampled == null ? null : new ShadowRecorder(callSampled, numLayers);
    }

    /** @return whether input {@code row} (its index in the call) is a shadow sample */
    boolean sampled(int row) {
        return sampled[row];
    }

    /**
     * Records what off-ramp {@code layer} said about shadow row {@code row}.
     *
     * @param label      its predicted label index
     * @param entropy    its softmax entropy, nats
     * @param divergence its Jensen-Shannon divergence from the previous off-ramp, nats ({@code +Infinity} at layer 1)
     */
    void trace(int row, int layer, int label, double entropy, double divergence) {
        labels[row][layer - 1] = label;
        entropies[row][layer - 1] = entropy;
        divergences[row][layer - 1] = divergence;
    }

    /** @return whether row {@code row}'s policy exit has been recorded */
    boolean recorded(int row) {
        return recorded[row];
    }

    /** Notes that row {@code row}'s policy exit has been recorded. */
    void markRecorded(int row) {
        recorded[row] = true;
    }

    /**
     * Adds each shadow row's trace to its result, once every chunk of the call has run.
     *
     * @param tally the call's results
     */
    void attachTraces(BatchTally tally) {
        for (int row = 0; row < sampled.length; row++) {
            if (sampled[row]) {
                Classification c = tally.result(row);
                tally.replace(row, new Classification(c.labelIndex(), c.label(), c.probabilities(),
                        c.exitLayer(), c.numLayers(), c.entropy(), c.exitScore(), c.numTokens(),
                        new ShadowTrace(labels[row], entropies[row], divergences[row])));
            }
        }
    }
}
