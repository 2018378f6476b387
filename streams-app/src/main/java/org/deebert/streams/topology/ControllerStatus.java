package org.deebert.streams.topology;

/**
 * What the budget controller saw at its last decision, for metrics and telemetry.
 *
 * @param windowSamples   shadow samples in its window
 * @param disagreement    share of them whose answer at the threshold in force differs from the full model's, in [0, 1]
 * @param upperBound      the upper confidence bound of that share (Wilson score at the budget's confidence), in [0, 1]
 * @param threshold       the S the controller holds, nats
 * @param maxDisagreement the budget, a share in (0, 1)
 */
public record ControllerStatus(int windowSamples, double disagreement, double upperBound, double threshold,
                               double maxDisagreement) {
}
