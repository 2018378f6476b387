package org.deebert.streams.input;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.deebert.streams.schema.TextEvent;

/**
 * Fills what a decoded value left open from the record it came in: formats other than {@code text-event} may
 * carry no id or event time ({@link FieldMapping}). Run on every decoded event before validation, also on events
 * decoded again after a restore, so both see the same id.
 */
public final class RecordFallbacks {

    private RecordFallbacks() {
    }

    /**
     * Sets, in place, a null id to the record key (UTF-8; bytes that are not valid UTF-8 become replacement
     * characters), or when the key is null or empty to {@code <topic>-<partition>-<offset>}; and a null event
     * time to the record timestamp. A TextEvent from the {@code text-event} format has both, so it is unchanged.
     *
     * @param event     a decoded event, or null (then nothing happens)
     * @param key       the record key bytes, or null
     * @param topic     the topic the record was read from
     * @param partition its partition
     * @param offset    its offset
     * @param timestamp its timestamp, ms since the epoch
     * @return {@code event}
     */
    public static TextEvent complete(TextEvent event, byte[] key, String topic, int partition, long offset,
                                     long timestamp) {
        if (event == null) {
            return null;
        }
        if (event.getId() == null) {
            event.setId(key != null && key.length > 0 ? new String(key, StandardCharsets.UTF_8)
                    : topic + "-" + partition + "-" + offset);
        }
        if (event.getEventTime() == null) {
            event.setEventTime(Instant.ofEpochMilli(timestamp));
        }
        return event;
    }
}
