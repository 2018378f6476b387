package org.deebert.streams.budget;

/**
 * One decision of {@link ThresholdChooser} and the window's figures behind it, for the telemetry topic and the
 * audit log.
 *
 * @param action                   HOLD, RAISE or LOWER, comparing {@code threshold} with the S in force
 *                                 as given (so clamping an out-of-range S counts as a move)
 * @param threshold                the S to hold, nats, in [minThreshold, maxThreshold]
 * @param samples                  shadow samples in the window
 * @param disagreementsAtThreshold samples whose answer at {@code threshold} differs from the full model's
 * @param disagreement             that count as a share of {@code samples}, in [0, 1]; 0 for an empty window
 * @param upperBound               Wilson upper bound of that share at the budget's confidence, in [0, 1];
 *                                 1 for an empty window
 * @param disagreementsAtCurrent   samples that disagree at the S in force (clamped into the range)
 * @param upperBoundAtCurrent      Wilson upper bound of their share, in [0, 1]
 * @param unattainable             whether even minThreshold breaks the budget (or the label guard) on this
 *                                 window (then {@code threshold} is minThreshold)
 * @param reason                   one line of English for the audit log, with the window's figures
 * @param guard                    the label guard's figures, or null when the budget has no guard
 */
public record ThresholdDecision(Action action, double threshold, int samples, long disagreementsAtThreshold,
                                double disagreement, double upperBound, long disagreementsAtCurrent,
                                double upperBoundAtCurrent, boolean unattainable, String reason, GuardFigures guard) {

    /** What the controller does with S. */
    public enum Action {
        /** S stays where it is. */
        HOLD,
        /** S moves up: more inputs leave early. */
        RAISE,
        /** S moves down: fewer inputs leave early. */
        LOWER
    }

    /**
     * The label guard's figures behind a decision: the window's samples whose full-model answer is the protected
     * label, and how many of them the exit answers otherwise.
     *
     * @param label               the protected label's name
     * @param maxRecallLoss       the guard's limit, a share in (0, 1)
     * @param samples             m, the window's samples whose full-model (last off-ramp) label is {@code label}
     * @param missedAtThreshold   of those, samples whose answer at the decision's S is another label
     * @param recallLoss          that count as a share of m, in [0, 1]; 0 when m = 0
     * @param upperBound          its Wilson upper bound at the budget's confidence, in [0, 1]; 1 when m = 0
     * @param missedAtCurrent     of those, samples missed at the S in force (clamped into the range)
     * @param upperBoundAtCurrent the Wilson upper bound of their share, in [0, 1]; 1 when m = 0
     */
    public record GuardFigures(String label, double maxRecallLoss, int samples, long missedAtThreshold,
                               double recallLoss, double upperBound, long missedAtCurrent, double upperBoundAtCurrent) {

        /** @return whether the window holds at least one sample of the protected label */
        public boolean evaluable() {
            return samples > 0;
        }
    }
}
