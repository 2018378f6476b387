package org.deebert.streams.input;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record's value does not fit the input format or its field mapping. Thrown by the decoders of
 * {@link InputDecoders} (so Kafka Streams' deserialization exception handler sees it) and mapped to a dead-letter
 * code by {@code deadletter.DeadLetterCode.of(Reason)}. The message names the field path, never a value.
 */
public class InputFieldException extends SerializationException {

    /** What is wrong with the value. */
    public enum Reason {
        /** A required mapped field (the text, a configured id) is absent, or null. */
        FIELD_MISSING,
        /** A mapped field, or a value on its path, has a type the mapping cannot use. */
        FIELD_TYPE,
        /** The value is not valid JSON (or not UTF-8), or is JSON but not an object ({@code json} format). */
        UNDECODABLE_JSON,
        /** The value is not valid UTF-8 ({@code string} format). */
        UNDECODABLE_TEXT
    }

    private final Reason reason;

    /**
     * @param reason  what is wrong
     * @param message names the field path (never a field's value)
     * @param cause   the parser's exception, or null
     */
    public InputFieldException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** @return what is wrong */
    public Reason reason() {
        return reason;
    }
}
