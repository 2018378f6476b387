package org.deebert.streams.input;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The format of the input topic's values ({@code input.format}). */
public enum InputFormat {
    /** Our own {@code TextEvent} Avro record in the Confluent wire format (the default). */
    TEXT_EVENT("text-event"),
    /** Any Avro record in the Confluent wire format, read with its writer schema; fields by {@code input.field.*}. */
    AVRO("avro"),
    /** One UTF-8 JSON object per record; fields by {@code input.field.*}. */
    JSON("json"),
    /** The value is the UTF-8 text itself; the key (UTF-8) is the id. */
    STRING("string");

    private final String key;

    InputFormat(String key) {
        this.key = key;
    }

    /** @return the name used in the settings, e.g. {@code text-event} */
    public String key() {
        return key;
    }

    /** @return whether values are mapped to an event by {@code input.field.*} paths */
    public boolean mapsFields() {
        return this == AVRO || this == JSON;
    }

    /**
     * @param value a setting value, any case, surrounding blanks ignored
     * @return the format
     * @throws IllegalArgumentException if no format has that name (the message lists the names)
     */
    public static InputFormat parse(String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (InputFormat f : values()) {
            if (f.key.equals(wanted)) {
                return f;
            }
        }
        throw new IllegalArgumentException("must be one of "
                + Arrays.stream(values()).map(InputFormat::key).collect(Collectors.joining(", ")) + ", got " + value);
    }
}
