package org.deebert.streams.control;


/**
 * What the budget controller saw at its last decision, for metrics and telemetry.
 *
 * @param windowSamples   shadow samples in its window
 * @param disagreement    share of them whose answer at the threshold in force differs from the full model's, in [0, 1]
 * @param upperBound      the upper confidence bound of that share (Wilson score at the budget's confidence), in [0, 1]
 * @param threshold       the S the controller holds, nats
 * @param maxDisagreement the budget, a share in (0, 1)
 * @param guard           the label guard's figures at that S, or null when the budget has no guard
 */
public record ControllerStatus(int windowSamples, double disagreement, double upperBound, double threshold,
                               double maxDisagreement, Guard guard) {

    /** A status without a label guard. */
    public ControllerStatus(int windowSamples, double disagreement, double upperBound, double threshold,
                            double maxDisagreement) {
        this(windowSamples, disagreement, upperBound, threshold, maxDisagreement, null);
    }

    /**
     * The label guard's side of the window, at the threshold the controller holds.
     *
     * @param label            the protected label's name
     * @param maxRecallLoss    the guard's limit, a share in (0, 1)
     * @param protectedSamples window samples whose full-model answer is {@code label}
     * @param recallLoss       share of them answered otherwise at the threshold, in [0, 1]; 0 when there are none
     * @param upperBound       its Wilson upper bound at the budget's confidence, in [0, 1]; 1 when there are none
     */
    public record Guard(String label, double maxRecallLoss, int protectedSamples, double recallLoss, double upperBound) {
    }
}
