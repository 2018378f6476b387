package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.InvalidTextEventException;
import org.deebert.streams.classifier.EmptyText;
import org.deebert.streams.schema.TextEvent;

/**
 * Checks a TextEvent before it is buffered for classification: it has an id and a text, and a
 * {@code text_pair} exactly when the model classifies sentence pairs. A text or text pair is empty when it has no
 * visible character ({@link EmptyText}: only spaces, no-break and ideographic spaces, controls, zero-width and bidi
 * marks, and the like). Exception messages never hold text.
 */
public final class TextEventValidator {

    private final int maxTextChars;
    private final boolean textPair;

    /**
     * @param maxTextChars the longest text (and text pair) accepted, each in UTF-16 chars ({@link String#length()}); >= 1
     * @param textPair     whether the model classifies sentence pairs (model card {@code input.text_pair})
     * @throws IllegalArgumentException if {@code maxTextChars < 1}
     */
    public TextEventValidator(int maxTextChars, boolean textPair) {
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("max.text.chars must be >= 1, got " + maxTextChars);
        }
        this.maxTextChars = maxTextChars;
        this.textPair = textPair;
    }

    /**
     * @param event the decoded value, or null for a record without value
     * @throws InvalidTextEventException with code NULL_VALUE, MISSING_ID, EMPTY_TEXT, TEXT_TOO_LONG,
     *     MISSING_TEXT_PAIR (a sentence-pair model, no text_pair) or UNEXPECTED_TEXT_PAIR (a single-text model,
     *     a non-null text_pair)
     */
    public void validate(TextEvent event) {
        if (event == null) {
            throw new InvalidTextEventException(DeadLetterCode.NULL_VALUE, "record has no value");
        }
        if (event.getId() == null || event.getId().isBlank()) {
            throw new InvalidTextEventException(DeadLetterCode.MISSING_ID, "TextEvent has no id");
        }
        String text = event.getText();
        if (EmptyText.is(text)) {
            throw new InvalidTextEventException(DeadLetterCode.EMPTY_TEXT, "TextEvent " + event.getId() + " has an empty text");
        }
        if (text.length() > maxTextChars) {
            throw new InvalidTextEventException(DeadLetterCode.TEXT_TOO_LONG, "TextEvent " + event.getId() + " has "
                    + text.length() + " chars, more than max.text.chars=" + maxTextChars);
        }
        String pair = event.getTextPair();
        if (!textPair) {
            if (pair != null) {
                throw new InvalidTextEventException(DeadLetterCode.UNEXPECTED_TEXT_PAIR, "TextEvent " + event.getId()
                        + " has a text_pair but the model classifies single texts");
            }
            return;
        }
        if (pair == null) {
            throw new InvalidTextEventException(DeadLetterCode.MISSING_TEXT_PAIR, "TextEvent " + event.getId()
                    + " has no text_pair but the model classifies text pairs");
        }
        if (EmptyText.is(pair)) {
            throw new InvalidTextEventException(DeadLetterCode.EMPTY_TEXT, "TextEvent " + event.getId()
                    + " has an empty text_pair");
        }
        if (pair.length() > maxTextChars) {
            throw new InvalidTextEventException(DeadLetterCode.TEXT_TOO_LONG, "TextEvent " + event.getId() + " has a "
                    + pair.length() + "-char text_pair, more than max.text.chars=" + maxTextChars);
        }
    }
}
