package org.deebert.streams.model;

/**
 * SavedModel signature and tensor names of the export format, defined once on the Java side
 * ({@code model-export/docs/export-format.md}, "Signatures"). {@code n} = number of layers,
 * {@code H} = hidden size, {@code C} = number of labels; B (batch) and T (tokens) are dynamic.
 */
public final class SignatureNames {

    /**
     * Signature {@code embed}: input_ids, attention_mask (B,T) int32, plus token_type_ids (B,T) int32 in a
     * sentence-pair model ({@link ModelCard#textPair()}) -> hidden (B,T,H) float32.
     */
    public static final String EMBED = "embed";
    /**
     * Signature {@code serving_default}: input_ids, attention_mask (B,T) int32 (plus token_type_ids in a
     * sentence-pair model) -> all_logits (B,n,C) float32, every off-ramp's logits without early exit
     * (reference/debug).
     */
    public static final String SERVING_DEFAULT = "serving_default";

    /** Input token ids, int32 (B,T), right-padded with 0. */
    public static final String INPUT_IDS = "input_ids";
    /** Attention mask, int32 (B,T): 1 for real tokens, 0 for padding. */
    public static final String ATTENTION_MASK = "attention_mask";
    /**
     * Token type (segment) ids, int32 (B,T): 0 for [CLS], the text and its [SEP], 1 for the text pair and its
     * [SEP], 0 for padding. An input of {@code embed} and {@code serving_default} in sentence-pair models only.
     */
    public static final String TOKEN_TYPE_IDS = "token_type_ids";
    /** Hidden states fed into a layer, float32 (B,T,H). Output name of {@code embed}. */
    public static final String HIDDEN = "hidden";
    /** Hidden states leaving a layer, float32 (B,T,H). */
    public static final String HIDDEN_OUT = "hidden_out";
    /** Off-ramp logits, float32 (B,C). */
    public static final String LOGITS = "logits";
    /** Off-ramp softmax, float32 (B,C). */
    public static final String PROBS = "probs";
    /** Off-ramp entropy in nats, float32 (B). */
    public static final String ENTROPY = "entropy";
    /** Output of {@code serving_default}: float32 (B,n,C). */
    public static final String ALL_LOGITS = "all_logits";

    private static final String LAYER_PREFIX = "layer_";

    private SignatureNames() {
    }

    /**
     * Name of the signature that runs transformer layer {@code i} and its off-ramp.
     *
     * @param i 1-based layer number, {@code 1..n}
     * @return {@code "layer_" + i}
     * @throws IllegalArgumentException if {@code i < 1}
     */
    public static String layer(int i) {
        if (i < 1) {
            throw new IllegalArgumentException("layers are 1-based, got " + i);
        }
        return LAYER_PREFIX + i;
    }

    /**
     * Whether a signature name has the form {@code layer_<i>} with {@code i >= 1}.
     *
     * @param name a signature name
     * @return true for {@code layer_1}, {@code layer_2}, ...
     */
    public static boolean isLayer(String name) {
        if (!name.startsWith(LAYER_PREFIX) || name.length() == LAYER_PREFIX.length()) {
            return false;
        }
        String digits = name.substring(LAYER_PREFIX.length());
        return digits.chars().allMatch(Character::isDigit) && !digits.startsWith("0");
    }
}
