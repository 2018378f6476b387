package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

class RecordFallbacksTest {

    private static TextEvent unmapped() {
        return MappedFields.event(null, "hello", null, null, null);
    }

    @Test
    void theIdIsTheKeyAsUtf8AndTheEventTimeTheRecordTimestamp() {
        TextEvent e = RecordFallbacks.complete(unmapped(), "ключ-1".getBytes(StandardCharsets.UTF_8), "in", 3, 42, 1_000L);
        assertThat(e.getId()).isEqualTo("ключ-1");
        assertThat(e.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_000L));
    }

    @Test
    void withoutAKeyTheIdIsTopicPartitionOffset() {
        assertThat(RecordFallbacks.complete(unmapped(), null, "in", 3, 42, 0).getId()).isEqualTo("in-3-42");
        assertThat(RecordFallbacks.complete(unmapped(), new byte[0], "in", 0, 7, 0).getId()).isEqualTo("in-0-7");
    }

    @Test
    void mappedValuesAndTextEventsAreLeftAlone() {
        TextEvent e = TextEvent.newBuilder().setId("e-1").setText("t").setEventTime(Instant.ofEpochMilli(5)).build();
        TextEvent copy = TextEvent.newBuilder(e).build();
        RecordFallbacks.complete(e, "key".getBytes(StandardCharsets.UTF_8), "in", 0, 1, 99);
        assertThat(e).isEqualTo(copy);
        assertThat(RecordFallbacks.complete(null, null, "in", 0, 0, 0)).isNull();
    }
}
