package org.deebert.streams.exit;

import java.util.Objects;

/**
 * The exit step of DeeBERT's Algorithm 1 (Xin et al. 2020, section 3.2) for one {@link ExitSetting} and model
 * depth: which score the policy reads at an off-ramp, and whether the input leaves there. The classifier's
 * batch loop and the replay of a {@link ShadowTrace} both go through it, so the policy-to-score choice and the
 * exit decision are written once. Immutable and thread-safe.
 *
 * <p>The decision: an input leaves at layer i when {@link ExitScores#exits} accepts its score there (ENTROPY
 * and DIVERGENCE: strictly below S, S_i or S^(y_i), nats; PATIENCE: a streak of at least t layers), and at
 * layer n in any case (the last off-ramp is the original classifier).
 */
public final class ExitRule {

    private final ExitSetting setting;
    private final int numLayers;

    /**
     * @param setting   the setting in force (checked against the model with {@link ExitSetting#validateFor(int, int)}
     *                  by the caller)
     * @param numLayers n, the model's number of layers (= off-ramps)
     * @throws IllegalArgumentException if {@code numLayers < 1}
     */
    public ExitRule(ExitSetting setting, int numLayers) {
        this.setting = Objects.requireNonNull(setting, "setting");
        if (numLayers < 1) {
            throw new IllegalArgumentException("a model has at least one layer, got " + numLayers);
        }
        this.numLayers = numLayers;
    }

    /**
     * The policy's score: the one place where a policy picks what it compares with its threshold.
     *
     * @param policy the policy
     * @param scores what the off-ramp offers
     * @param i      the index {@code scores} is read at
     * @return ENTROPY: the entropy (nats); DIVERGENCE: the Jensen-Shannon divergence from the previous off-ramp
     *     (nats, {@code +Infinity} at layer 1); PATIENCE: the streak (layers)
     * @throws IllegalArgumentException if {@code scores} does not keep the policy's score
     */
    public static double score(ExitPolicy policy, OffRampScores scores, int i) {
        return switch (policy) {
            case ENTROPY -> scores.entropy(i);
            case DIVERGENCE -> scores.divergence(i);
            case PATIENCE -> scores.streak(i);
        };
    }

    /**
     * @param scores what the off-ramp offers
     * @param i      the index {@code scores} is read at
     * @return {@link #score(ExitPolicy, OffRampScores, int)} for this rule's policy
     */
    public double score(OffRampScores scores, int i) {
        return score(setting.policy(), scores, i);
    }

    /**
     * @param layer 1-based layer
     * @param label the label index off-ramp {@code layer} predicts ({@link ExitScores#argmax}); picks S^(label)
     *              under per-label thresholds
     * @param score {@link #score} at that layer
     * @return whether the input leaves at this layer: always at layer n, else as {@link ExitScores#exits}
     */
    public boolean exits(int layer, int label, double score) {
        return layer == numLayers || ExitScores.exits(setting, layer, label, score);
    }

    /** @return the setting this rule applies */
    public ExitSetting setting() {
        return setting;
    }

    /** @return n, the number of layers (= off-ramps) */
    public int numLayers() {
        return numLayers;
    }
}
