package org.deebert.streams.classifier;

import java.util.List;

import org.deebert.streams.model.ModelCard;

/**
 * The checks every classifier call makes on its inputs before tokenizing: texts (and text pairs) are visible
 * ({@link EmptyText}), pairs are given exactly when the model classifies pairs, and lengths agree. Messages give
 * indices only, never text.
 */
final class InputChecks {

    private InputChecks() {
    }

    /**
     * @param card      the model's card ({@link ModelCard#textPair()} says whether it reads pairs)
     * @param texts     the texts (first texts of pairs)
     * @param textPairs the second texts, or null
     * @throws IllegalArgumentException if pairs are missing for a sentence-pair model or given to a single-text one,
     *     a text or text pair is null or empty, or there are not as many pairs as texts
     */
    static void texts(ModelCard card, List<String> texts, List<String> textPairs) {
        if (card.textPair() && textPairs == null) {
            throw new IllegalArgumentException("model " + card.name() + " classifies text pairs (model card input.text_pair)"
                    + " but no text pairs were given");
        }
        if (!card.textPair() && textPairs != null) {
            throw new IllegalArgumentException("model " + card.name() + " classifies single texts, not text pairs");
        }
        nonEmpty("text", texts);
        if (textPairs != null) {
            if (textPairs.size() != texts.size()) {
                throw new IllegalArgumentException(texts.size() + " texts but " + textPairs.size() + " text pairs");
            }
            nonEmpty("text pair", textPairs);
        }
    }

    /**
     * @param texts  the texts
     * @param shadow one shadow flag per text, or null
     * @throws IllegalArgumentException if {@code shadow} is not null and its length differs from the number of texts
     */
    static void shadowFlags(List<String> texts, boolean[] shadow) {
        if (shadow != null && shadow.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + shadow.length + " shadow flags");
        }
    }

    private static void nonEmpty(String what, List<String> texts) {
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (EmptyText.is(text)) {
                throw new IllegalArgumentException(what + " at index " + i + " is " + (text == null ? "null" : "empty"));
            }
        }
    }
}
