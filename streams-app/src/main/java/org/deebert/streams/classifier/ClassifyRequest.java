package org.deebert.streams.classifier;

import java.util.List;
import java.util.Objects;

import org.deebert.streams.exit.ExitSetting;

/**
 * One classifier call: what to classify and under which exit setting.
 *
 * <p>What shadow samples cost: one that the policy lets out at layer k runs the {@code n - k} layers it would have
 * skipped (reported as {@link BatchStats#shadowLayerRows()}, included in {@link BatchStats#layerRowsExecuted()}),
 * and keeps its padding columns in the batch while it stays. Sampling a fraction r of the inputs adds about
 * {@code r * (n - mean exit layer) / mean exit layer} to the layers' cost; tokenizing and {@code embed} cost
 * nothing extra. Other inputs' results may differ from a call without shadow samples by float rounding only (they
 * share batches of another shape); with {@code shadow} null or all false the call is a plain one.
 *
 * @param texts     raw texts (for a sentence-pair model: the first texts), each non-null and non-empty
 *                  ({@link EmptyText}); truncated to the model's max sequence length. Not copied
 * @param textPairs for a sentence-pair model ({@link TextClassifier#textPair()}) the second texts, as many as
 *                  {@code texts}, each non-null and non-empty: the model reads {@code [CLS] texts[i] [SEP]
 *                  textPairs[i] [SEP]}; null for a single-text model. Not copied
 * @param setting   the exit policy and threshold in force (S in nats, or the patience in layers)
 * @param shadow    null, or one flag per input: a flagged input is a shadow sample of an accuracy budget, run through
 *                  every layer and traced ({@link Classification#shadow()}) while its result still reports the exit
 *                  its policy chose. Not copied and never modified by a classifier
 */
public record ClassifyRequest(List<String> texts, List<String> textPairs, ExitSetting setting, boolean[] shadow) {

    /** @throws NullPointerException if {@code texts} or {@code setting} is null */
    public ClassifyRequest {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(setting, "setting");
    }

    /**
     * @param texts   single texts
     * @param setting the exit setting
     * @return a request for a single-text model, without shadow samples
     */
    public static ClassifyRequest of(List<String> texts, ExitSetting setting) {
        return new ClassifyRequest(texts, null, setting, null);
    }

    /**
     * @param texts     the first texts
     * @param textPairs the second texts, or null for single texts
     * @param setting   the exit setting
     * @return a request without shadow samples
     */
    public static ClassifyRequest pairs(List<String> texts, List<String> textPairs, ExitSetting setting) {
        return new ClassifyRequest(texts, textPairs, setting, null);
    }

    /** Counts only: message text is never logged, and a request may end up in a log line. */
    @Override
    public String toString() {
        int sampled = 0;
        if (shadow != null) {
            for (boolean flag : shadow) {
                sampled += flag ? 1 : 0;
            }
        }
        return "ClassifyRequest[" + texts.size() + (textPairs == null ? " texts" : " text pairs") + ", setting="
                + setting + ", shadow samples=" + sampled + "]";
    }
}
