package org.deebert.streams.exit;

import java.util.Locale;

/**
 * When an input leaves the model at an off-ramp. After every transformer layer each policy computes a
 * per-input score from the off-ramp outputs ({@link ExitScores#score}) and compares it with the
 * {@link ExitSetting} ({@link ExitScores#exits}); an input that never qualifies leaves at the last layer
 * (whose off-ramp is the original classifier). The Python side defines the same rules once in
 * {@code model-export/src/deebert_export/exits.py}; both are checked against
 * {@code model-export/tests/golden/exit_policies.json}.
 *
 * <p>Two spellings, converted here and nowhere else: the constant's name in upper case ({@code ENTROPY}), as the
 * Avro enum {@code ExitPolicyName}'s symbols and the threshold store spell it ({@link #fromName}, {@link #name()}),
 * and the lower case of the model card's {@code calibrated} keys, the {@code exit.setting} setting and the Python
 * tool ({@code entropy}; {@link #text()}), read in any case ({@link #fromText}). The CLI's {@code --policy} is read
 * by picocli, in any case, straight into this enum.
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

    /**
     * The policy whose constant name is exactly {@code name}: the spelling of the Avro enum
     * {@code ExitPolicyName}'s symbols and of the threshold store.
     *
     * @param name ENTROPY, DIVERGENCE or PATIENCE, upper case
     * @return the policy
     * @throws IllegalArgumentException if no policy has that name (in that case)
     * @throws NullPointerException     if {@code name} is null
     */
    public static ExitPolicy fromName(String name) {
        return valueOf(name);
    }

    /**
     * The policy named in any case: {@code entropy} as the model card, the settings and the Python tool spell it,
     * or {@code ENTROPY}, {@code Entropy}, ...; no blanks around the name.
     *
     * @param text the policy's name in any case
     * @return the policy
     * @throws IllegalArgumentException if no policy has that name
     * @throws NullPointerException     if {@code text} is null
     */
    public static ExitPolicy fromText(String text) {
        return valueOf(text.toUpperCase(Locale.ROOT));
    }

    /** @return the lower-case spelling, {@code entropy}, {@code divergence} or {@code patience} */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }
}
