package org.deebert.streams.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.deebert.streams.model.SignatureNames;

/**
 * What an {@link EarlyExitClassifier}'s model sees and says without early exit, for parity checks against
 * Python's {@code reference_outputs.jsonl} and for debugging: every off-ramp's logits (the {@code serving_default}
 * signature) and the token ids of a text or a sentence pair. Not on the service's path. Thread-safe: each call holds
 * the classifier's lock, so it never runs beside a classification on the same instance.
 */
public final class OffRampProbe {

    private final EarlyExitClassifier classifier;

    /** @param classifier the loaded classifier to probe; closing it ends this probe too */
    public OffRampProbe(EarlyExitClassifier classifier) {
        this.classifier = Objects.requireNonNull(classifier, "classifier");
    }

    /**
     * {@link #allOffRampLogits(List, List)} for single texts.
     *
     * @throws IllegalArgumentException as there, and if the model is a sentence-pair model
     */
    public float[][][] allOffRampLogits(List<String> texts) {
        return allOffRampLogits(texts, null);
    }

    /**
     * Every off-ramp's logits without early exit, from the {@code serving_default} signature, in chunks of at most
     * the classifier's max batch size.
     *
     * @param texts     raw texts, each non-null and non-empty
     * @param textPairs the second texts of a sentence-pair model, as many, non-null and non-empty; null for a
     *                  single-text model
     * @return {@code [input][layer-1][label]} logits, float32 (B,n,C)
     * @throws IllegalArgumentException if a text or text pair is null or empty ({@link EmptyText}), or pairs are
     *     missing for a sentence-pair model or given to a single-text one
     */
    public float[][][] allOffRampLogits(List<String> texts, List<String> textPairs) {
        synchronized (classifier) {
            InputChecks.texts(classifier.modelCard(), texts, textPairs);
            SignatureRunner runner = classifier.runner();
            int numLayers = runner.numLayers();
            int classes = classifier.labels().size();
            int maxBatchSize = classifier.maxBatchSize();
            float[][][] result = new float[texts.size()][][];
            for (int from = 0; from < texts.size(); from += maxBatchSize) {
                int to = Math.min(texts.size(), from + maxBatchSize);
                BatchTokenizer.TokenizedBatch batch = classifier.tokenizer().encode(texts, textPairs, from, to);
                try (NDManager scope = runner.newScope()) {
                    NDArray mask = SignatureRunner.mask(scope, batch);
                    NDList out = runner.allOffRamps(scope, batch, mask);
                    float[] flat = out.get(SignatureNames.ALL_LOGITS).toFloatArray();
                    for (int r = 0; r < batch.rows(); r++) {
                        result[from + r] = new float[numLayers][];
                        for (int l = 0; l < numLayers; l++) {
                            int start = (r * numLayers + l) * classes;
                            result[from + r][l] = Arrays.copyOfRange(flat, start, start + classes);
                        }
                    }
                }
            }
            return result;
        }
    }

    /**
     * Token ids the model sees for a text: [CLS] ... [SEP], truncated to max_seq_length.
     *
     * @param text a non-null, non-empty text
     * @return the ids, as Python's {@code tokenizers} gives them for the same tokenizer.json
     * @throws IllegalArgumentException if the text is null or empty ({@link EmptyText}), or the model is a
     *     sentence-pair model
     */
    public long[] tokenIds(String text) {
        synchronized (classifier) {
            InputChecks.texts(classifier.modelCard(), Arrays.asList(text), null);
            return classifier.tokenizer().tokenIds(text);
        }
    }

    /**
     * Token ids and token type ids the model sees for a sentence pair: {@code [CLS] text [SEP] text_pair [SEP]},
     * truncated longest-first to max_seq_length, type 0 up to and including the first [SEP] and 1 after it.
     *
     * @param text     the first text, non-null and non-empty
     * @param textPair the second text, non-null and non-empty
     * @return {@code {ids, typeIds}}, as Python's {@code tokenizers} gives them for the same tokenizer.json
     * @throws IllegalArgumentException if a text is null or empty ({@link EmptyText}), or the model is a single-text model
     */
    public long[][] pairTokenIds(String text, String textPair) {
        synchronized (classifier) {
            InputChecks.texts(classifier.modelCard(), Arrays.asList(text), Arrays.asList(textPair));
            return classifier.tokenizer().pairTokenIds(text, textPair);
        }
    }
}
