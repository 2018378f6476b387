package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class BufferedRecordSerdeTest {

    private final BufferedRecordSerde serde = new BufferedRecordSerde();

    @Test
    void aKeyThatIsNotUtf8RoundTripsByteForByte() {
        byte[] key = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF};
        BufferedRecord in = new BufferedRecord(key, new byte[] {0, 0, 0, 0, 1, 42}, 1L, new RecordHeaders(), "t", 0, 0L);

        assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", in)).key()).containsExactly(key);
    }

    @Test
    void aCorruptLengthIsRefusedWithoutAllocatingWhatItClaims() throws IOException {
        // A 9-byte entry whose key claims Integer.MAX_VALUE bytes: reading it must fail, not allocate 2 GiB.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeInt(Integer.MAX_VALUE);
            out.writeInt(0);
        }

        assertThatThrownBy(() -> serde.deserializer().deserialize("t", bytes.toByteArray()))
                .isInstanceOf(SerializationException.class).hasMessageContaining("corrupt buffered record");
    }

    @Test
    void anEntryWrittenWhenKeysWereStringsStillReads() throws IOException {
        // Version 1 as written before keys were kept as bytes: the key was the UTF-8 encoding of a String.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            byte[] key = "k-\u00e9".getBytes(StandardCharsets.UTF_8);
            out.writeInt(key.length);
            out.write(key);
            out.writeInt(2);
            out.write(new byte[] {7, 8});
            out.writeLong(5L);
            out.writeInt(0); // no headers
            byte[] topic = "text-events".getBytes(StandardCharsets.UTF_8);
            out.writeInt(topic.length);
            out.write(topic);
            out.writeInt(1);
            out.writeLong(42L);
        }

        BufferedRecord read = serde.deserializer().deserialize("t", bytes.toByteArray());

        assertThat(new String(read.key(), StandardCharsets.UTF_8)).isEqualTo("k-\u00e9");
        assertThat(read.rawValue()).containsExactly(7, 8);
        assertThat(read.topic()).isEqualTo("text-events");
        assertThat(read.offset()).isEqualTo(42L);
        assertThat(serde.serializer().serialize("t", read)).as("same layout").isEqualTo(bytes.toByteArray());
    }

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
