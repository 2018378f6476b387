package org.deebert.streams.input;

/**
 * Where the {@code avro} and {@code json} formats find each part of an event ({@code input.field.*}).
 *
 * @param id        {@code input.field.id}: a string or integral number; null = the record key (UTF-8), else
 *                  {@code <topic>-<partition>-<offset>}
 * @param text      {@code input.field.text}: the text to classify, a string (required)
 * @param textPair  {@code input.field.text_pair}: the second text for a sentence-pair model, a string; null = none
 * @param tenant    {@code input.field.tenant}: a string; null = none
 * @param eventTime {@code input.field.event_time}: epoch milliseconds, an integral JSON number or an Avro
 *                  {@code long} (plain or {@code timestamp-millis}); null = the record timestamp
 */
public record FieldMapping(FieldPath id, FieldPath text, FieldPath textPair, FieldPath tenant, FieldPath eventTime) {

    /** @throws IllegalArgumentException if {@code text} is null */
    public FieldMapping {
        if (text == null) {
            throw new IllegalArgumentException("the text field path is required");
        }
    }

    /**
     * @param text the text's path
     * @return a mapping of the text alone (ids from keys, event times from record timestamps)
     */
    public static FieldMapping textOnly(FieldPath text) {
        return new FieldMapping(null, text, null, null, null);
    }
}
