package org.deebert.streams.topology;

import org.deebert.streams.schema.TextEvent;

/** Checks a TextEvent before it is buffered for classification. */
public final class TextEventValidator {

    private final int maxTextChars;

    /**
     * @param maxTextChars the longest text accepted, in UTF-16 chars ({@link String#length()}); >= 1
     * @throws IllegalArgumentException if {@code maxTextChars < 1}
     */
    public TextEventValidator(int maxTextChars) {
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("max.text.chars must be >= 1, got " + maxTextChars);
        }
        this.maxTextChars = maxTextChars;
    }

    /**
     * @param event the decoded value, or null for a record without value
     * @throws InvalidTextEventException with code NULL_VALUE, MISSING_ID, EMPTY_TEXT or TEXT_TOO_LONG
     */
    public void validate(TextEvent event) {
        if (event == null) {
            throw new InvalidTextEventException(DeadLetterCode.NULL_VALUE, "record has no value");
        }
        if (event.getId() == null || event.getId().isBlank()) {
            throw new InvalidTextEventException(DeadLetterCode.MISSING_ID, "TextEvent has no id");
        }
        String text = event.getText();
        if (text == null || text.isBlank()) {
            throw new InvalidTextEventException(DeadLetterCode.EMPTY_TEXT, "TextEvent " + event.getId() + " has an empty text");
        }
        if (text.length() > maxTextChars) {
            throw new InvalidTextEventException(DeadLetterCode.TEXT_TOO_LONG, "TextEvent " + event.getId() + " has "
                    + text.length() + " chars, more than max.text.chars=" + maxTextChars);
        }
    }
}
