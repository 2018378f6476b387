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
     * <p>Shadow samples ({@link ClassifyRequest#shadow()}): a flagged row stays in the batch through every layer
     * (it is not run twice), its {@link Classification} still reports the exit the policy chose, and
     * {@link Classification#shadow()} carries every off-ramp's answer. Shadow rows cost the layers they would have
     * skipped, nothing else.
     *
     * @param request the texts (and, for a sentence-pair model ({@link #textPair()}), the text pairs
     *                {@code [CLS] texts[i] [SEP] textPairs[i] [SEP]}), the exit policy and threshold S in force, and
     *                optional shadow flags
     * @return one {@link Classification} per input, in input order
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}: no visible
     *     character), pairs are given to a single-text model or missing for a sentence-pair model, or there are
     *     not as many shadow flags as texts
     */
    List<Classification> classify(ClassifyRequest request);

    /**
     * Whether the model classifies sentence pairs (model card {@code input.text_pair}): then every input is a
     * text and a text pair, and {@link #classify} must be given both.
     *
     * @return true for a sentence-pair model; this default says false
     */
    default boolean textPair() {
        return false;
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
