package org.deebert.streams.input;

import java.time.Instant;
import java.util.HashMap;
import org.deebert.streams.schema.TextEvent;

/**
 * One decoded value seen through its field paths, the part the {@code avro} and {@code json} decoders do
 * differently; {@link #toEvent} is the part they share. Each getter returns null when the path is missing (a field
 * absent, or null, on the way or at the end) and throws FIELD_TYPE when it leads through, or to, a value of the
 * wrong type.
 */
interface MappedFields {

    /**
     * @return the string at {@code path}, or null when missing or null
     * @throws InputFieldException FIELD_TYPE when it is not a string
     */
    String string(FieldPath path);

    /**
     * @return the string, or the decimal form of the integral number, at {@code path}; null when missing or null
     * @throws InputFieldException FIELD_TYPE when it is neither
     */
    String id(FieldPath path);

    /**
     * @return the epoch milliseconds at {@code path}, or null when missing or null
     * @throws InputFieldException FIELD_TYPE when it is not an integral number of milliseconds
     */
    Long epochMillis(FieldPath path);

    /**
     * Maps a value to an event: required fields (the text; the id when mapped) must be present and not null,
     * optional ones (text pair, tenant, event time) may be missing or null. The id and event time are left null
     * when not mapped, for {@link RecordFallbacks#complete} to fill from the record.
     *
     * @param fields  the value
     * @param mapping where each part is
     * @return an event with {@code source} null and no attributes
     * @throws InputFieldException FIELD_MISSING or FIELD_TYPE; the message names the path and its setting
     */
    static TextEvent toEvent(MappedFields fields, FieldMapping mapping) {
        String text = required(fields.string(mapping.text()), mapping.text(), InputSettings.TEXT_KEY);
        String id = mapping.id() == null ? null
                : required(fields.id(mapping.id()), mapping.id(), InputSettings.ID_KEY);
        String pair = mapping.textPair() == null ? null : fields.string(mapping.textPair());
        String tenant = mapping.tenant() == null ? null : fields.string(mapping.tenant());
        Long time = mapping.eventTime() == null ? null : fields.epochMillis(mapping.eventTime());
        return event(id, text, pair, time, tenant);
    }

    /**
     * An event that may still lack its id and event time. Built field by field: the generated constructor and
     * setter of {@code event_time} do not take null, while {@link TextEvent#put(String, Object)} does.
     *
     * @param id        the id, or null for {@link RecordFallbacks#complete} to fill
     * @param text      the text
     * @param textPair  the text pair, or null
     * @param epochMs   the event time in ms since the epoch, or null for the record timestamp
     * @param tenant    the tenant, or null
     * @return the event, {@code source} null, no attributes
     */
    static TextEvent event(String id, String text, String textPair, Long epochMs, String tenant) {
        TextEvent e = new TextEvent();
        e.put("id", id);
        e.put("text", text);
        e.put("text_pair", textPair);
        e.put("event_time", epochMs == null ? null : Instant.ofEpochMilli(epochMs));
        e.put("source", null);
        e.put("tenant", tenant);
        e.put("attributes", new HashMap<String, String>());
        return e;
    }

    private static String required(String value, FieldPath path, String key) {
        if (value == null) {
            throw new InputFieldException(InputFieldException.Reason.FIELD_MISSING,
                    "input field '" + path + "' (" + key + ") is missing or null", null);
        }
        return value;
    }

    /** @return a FIELD_TYPE exception: {@code 'path' is a <actual>, not <expected>} */
    static InputFieldException wrongType(String path, String actual, String expected) {
        return new InputFieldException(InputFieldException.Reason.FIELD_TYPE,
                "input field '" + path + "' is " + actual + ", not " + expected, null);
    }
}
