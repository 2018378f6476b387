package org.deebert.streams.exit;

/**
 * The scores an {@link ExitRule} may read at one off-ramp, for inputs (or layers) indexed by {@code i}: the
 * live rows of one batch at one layer in the classifier, the layers of one input in a {@link ShadowTrace}. Each
 * {@link ExitPolicy} reads exactly one of them ({@link ExitRule#score(ExitPolicy, OffRampScores, int)}), so an
 * implementation computes a score only when it is asked for it (the Jensen-Shannon divergence is not free).
 */
public interface OffRampScores {

    /**
     * @param i the implementation's index (a live row, or a 1-based layer)
     * @return entropy of the off-ramp's softmax, nats (the ENTROPY score)
     */
    double entropy(int i);

    /**
     * @param i the implementation's index
     * @return Jensen-Shannon divergence from the previous off-ramp, nats, {@code +Infinity} at layer 1 (the
     *     DIVERGENCE score)
     */
    double divergence(int i);

    /**
     * @param i the implementation's index
     * @return how many consecutive earlier off-ramps predicted the same label, layers (the PATIENCE score)
     * @throws IllegalArgumentException if the implementation does not keep streaks
     */
    double streak(int i);
}
