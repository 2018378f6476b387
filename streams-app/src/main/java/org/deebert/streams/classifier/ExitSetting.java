package org.deebert.streams.classifier;

import java.util.Objects;

/**
 * The exit rule in force: a policy and its threshold S.
 *
 * @param policy    which score is compared with S
 * @param threshold S in nats, finite and {@code >= 0}. S = 0 sends every input to the last layer;
 *                  for {@link ExitPolicy#ENTROPY}, S > ln(number of labels) lets every input exit
 *                  at layer 1.
 */
public record ExitSetting(ExitPolicy policy, double threshold) {
    /** @throws IllegalArgumentException if S is negative, NaN or infinite */
    public ExitSetting {
        Objects.requireNonNull(policy, "policy");
        if (!Double.isFinite(threshold) || threshold < 0) {
            throw new IllegalArgumentException("threshold S must be a finite number >= 0, got " + threshold);
        }
    }

    /** Shorthand for the DeeBERT entropy rule with threshold {@code s} nats. */
    public static ExitSetting entropy(double s) {
        return new ExitSetting(ExitPolicy.ENTROPY, s);
    }
}
