package org.deebert.streams.classifier;

/**
 * When an input leaves the model at an off-ramp. Each policy compares a per-input score, computed
 * from off-ramp outputs after every transformer layer, with the threshold S of an {@link ExitSetting}.
 * An input leaves at the first layer whose score is strictly below S; an input that never qualifies
 * leaves at the last layer (whose off-ramp is the original classifier).
 */
public enum ExitPolicy {
    /**
     * DeeBERT (Xin et al. 2020, section 3.2, Algorithm 1): score = entropy of off-ramp i's softmax,
     * {@code -sum_c p_c ln p_c}, in nats; range [0, ln C].
     */
    ENTROPY,
    /**
     * BADGE-style divergence exit (Zhu et al. 2023): score at layer i >= 2 = Jensen-Shannon
     * divergence between off-ramp i's and off-ramp i-1's distributions, in nats; range [0, ln 2].
     * Layer 1 never exits under this policy (there is no earlier off-ramp to compare with).
     */
    DIVERGENCE
}
