package org.deebert.streams.exit;

/**
 * When an input leaves the model at an off-ramp. After every transformer layer each policy computes a
 * per-input score from the off-ramp outputs ({@link ExitScores#score}) and compares it with the
 * {@link ExitSetting} ({@link ExitScores#exits}); an input that never qualifies leaves at the last layer
 * (whose off-ramp is the original classifier). The Python side defines the same rules once in
 * {@code model-export/src/deebert_export/exits.py}; both are checked against
 * {@code model-export/tests/golden/exit_policies.json}.
 */
public enum ExitPolicy {
    /**
     * DeeBERT (Xin et al. 2020, section 3.2, Algorithm 1): score = entropy of off-ramp i's softmax,
     * {@code -sum_c p_c ln p_c}, in nats, range [0, ln C]; leaves when the score is strictly below S
     * (or S_i when per-layer thresholds are set, or S^(y_i) of off-ramp i's predicted label y_i when
     * per-label thresholds are set).
     */
    ENTROPY,
    /**
     * BADGE-style divergence exit (Zhu et al. 2023): score at layer i >= 2 = Jensen-Shannon divergence
     * between off-ramp i's and off-ramp i-1's distributions, in nats, range [0, ln 2]; leaves when it is
     * strictly below S (or S_i, or S^(y_i)). Layer 1 scores +infinity (there is no earlier off-ramp to compare with),
     * so it never exits there, whatever S.
     */
    DIVERGENCE,
    /**
     * PABEE (Zhou et al. 2020, section 3.2): score at layer i = how many consecutive earlier off-ramps
     * (i-1, i-2, ...) predict the same label as off-ramp i, in layers (0 at layer 1); leaves when the
     * score reaches the patience t, i.e. at the first layer i where off-ramps i-t..i agree. t is an
     * integer in 1..n carried in {@link ExitSetting#threshold()}. Predicted label = argmax of the
     * off-ramp's softmax, a tie going to the lowest label index ({@link ExitScores#argmax}).
     */
    PATIENCE;

    /** @return whether the threshold is in nats and may be given per layer or per label (ENTROPY, DIVERGENCE) */
    public boolean comparesScoreInNats() {
        return this != PATIENCE;
    }
}
