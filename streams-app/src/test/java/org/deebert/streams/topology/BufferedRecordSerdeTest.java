package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class BufferedRecordSerdeTest {

    private final BufferedRecordSerde serde = new BufferedRecordSerde();

    @Test
    void roundTripKeepsEveryFieldIncludingNullKeyAndNullHeaderValues() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("a", new byte[] {1, 2});
        headers.add("empty", null);
        BufferedRecord in = new BufferedRecord(null, new byte[] {0, 0, 0, 0, 1, 42}, 1234L, headers, "text-events", 3, 99L);

        BufferedRecord out = serde.deserializer().deserialize("t", serde.serializer().serialize("t", in));

        assertThat(out.key()).isNull();
        assertThat(out.rawValue()).containsExactly(0, 0, 0, 0, 1, 42);
        assertThat(out.timestamp()).isEqualTo(1234L);
        assertThat(out.headers().lastHeader("a").value()).containsExactly(1, 2);
        assertThat(out.headers().lastHeader("empty").value()).isNull();
        assertThat(out.topic()).isEqualTo("text-events");
        assertThat(out.partition()).isEqualTo(3);
        assertThat(out.offset()).isEqualTo(99L);
    }
}
