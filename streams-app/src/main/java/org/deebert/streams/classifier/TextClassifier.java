package org.deebert.streams.classifier;

import java.util.List;

import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.StartingSetting;

/**
 * Early-exit text classifier over one exported DeeBERT model (no Kafka inside).
 * Implementations are not required to be thread-safe; the topology uses one per stream thread.
 */
public interface TextClassifier extends AutoCloseable {

    /**
     * Classifies a batch with early exit (paper Algorithm 1, batched): after each layer, inputs whose
     * exit score is below S leave the batch and later layers run only on the rest.
     *
     * @param texts   raw texts, non-null and non-empty; truncated to the model's max sequence length
     * @param setting the exit policy and threshold S in force
     * @return one {@link Classification} per input, in input order
     * @throws IllegalArgumentException if a text is null or empty ({@link EmptyText}: no visible character)
     */
    List<Classification> classify(List<String> texts, ExitSetting setting);

    /**
     * Whether the model classifies sentence pairs (model card {@code input.text_pair}): then every input is a
     * text and a text pair, and {@link #classify(List, List, ExitSetting)} must be given both.
     *
     * @return true for a sentence-pair model; this default says false
     */
    default boolean textPair() {
        return false;
    }

    /**
     * As {@link #classify(List, ExitSetting)}, for single texts ({@code textPairs} null) or, for a sentence-pair
     * model ({@link #textPair()}), for pairs {@code [CLS] texts[i] [SEP] textPairs[i] [SEP]}.
     *
     * @param texts     raw texts (the first text of each pair), non-null and non-empty
     * @param textPairs the second texts, as many as {@code texts}, non-null and non-empty; null for a single-text model
     * @param setting   the exit policy and threshold S in force
     * @return one {@link Classification} per input, in input order
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}), or pairs are
     *     given to a single-text model or missing for a sentence-pair model
     */
    default List<Classification> classify(List<String> texts, List<String> textPairs, ExitSetting setting) {
        if (textPairs != null) {
            throw new IllegalArgumentException("model " + modelName() + " classifies single texts, not text pairs");
        }
        return classify(texts, setting);
    }

    /**
     * As {@link #classify(List, List, ExitSetting)}, with shadow samples: a row whose {@code shadow} flag is set
     * stays in the batch through every layer (it is not run twice), its {@link Classification} still reports the
     * exit the policy chose, and {@link Classification#shadow()} carries every off-ramp's answer. Shadow rows cost
     * the layers they would have skipped, nothing else.
     *
     * @param shadow one flag per input, or null for none; this default, for classifiers that cannot keep rows,
     *               ignores it and returns no traces
     * @throws IllegalArgumentException as {@link #classify(List, List, ExitSetting)}, and if {@code shadow} has
     *     another length than {@code texts}
     */
    default List<Classification> classify(List<String> texts, List<String> textPairs, ExitSetting setting,
                                          boolean[] shadow) {
        if (shadow != null && shadow.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + shadow.length + " shadow flags");
        }
        return classify(texts, textPairs, setting);
    }

    /** Labels in logit order, e.g. {@code [ham, spam]}. */
    List<String> labels();

    /** Number of transformer layers n (= number of off-ramps). */
    int numLayers();

    /** Model name from the model card, e.g. {@code deebert-spamassassin-minilm-l6}. */
    String modelName();

    /** Model version from the model card. */
    String modelVersion();

    /** The model card's recommended setting, applied before any control message arrives. */
    ExitSetting recommendedSetting();

    /**
     * The setting the service starts from, before any control message ({@code exit.setting}).
     * This default knows only the recommended one; {@link EarlyExitClassifier} reads the card's
     * {@code calibrated} settings too.
     *
     * @param choice recommended, or a policy's calibrated setting
     * @return the setting
     * @throws IllegalArgumentException if the model card lacks the chosen setting
     */
    default ExitSetting startingSetting(StartingSetting choice) {
        if (choice.calibratedPolicy() != null) {
            throw new IllegalArgumentException("model " + modelName() + " has no calibrated settings; "
                    + "start from exit.setting=recommended");
        }
        return recommendedSetting();
    }

    @Override
    void close();
}
