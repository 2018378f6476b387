package org.deebert.streams.classifier;

import java.util.List;

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
     * @throws IllegalArgumentException if a text is null or empty
     */
    List<Classification> classify(List<String> texts, ExitSetting setting);

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
