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

    @Override
    void close();
}
