package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConfluentWireFormatTest {

    @Test
    void shouldWriteMagicByteThenBigEndianIdThenPayload() {
        byte[] framed = ConfluentWireFormat.frame(0x01020304, new byte[] {7, 8});

        assertThat(framed).containsExactly(0x00, 0x01, 0x02, 0x03, 0x04, 7, 8);
    }

    @Test
    void shouldParseWhatItFrames() {
        byte[] framed = ConfluentWireFormat.frame(123456, new byte[] {9, 10, 11});

        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(framed);

        assertThat(frame.schemaId()).isEqualTo(123456);
        assertThat(frame.payloadOffset()).isEqualTo(5);
        assertThat(frame.payloadLength()).isEqualTo(3);
        assertThat(frame.bytes()).isSameAs(framed);
    }

    @Test
    void shouldAcceptAnEmptyPayload() {
        // An Avro record without fields encodes to zero bytes: the header alone is a valid message.
        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(new byte[] {0, 0, 0, 0, 42});

        assertThat(frame.schemaId()).isEqualTo(42);
        assertThat(frame.payloadLength()).isZero();
    }

    @Test
    void shouldRejectAWrongMagicByte() {
        assertThatThrownBy(() -> ConfluentWireFormat.parse(new byte[] {(byte) 0xAB, 0, 0, 0, 1, 2}))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.NOT_WIRE_FORMAT))
                .hasMessageContaining("magic byte 0xab");
    }

    @Test
    void shouldRejectMessagesShorterThanTheHeader() {
        assertThatThrownBy(() -> ConfluentWireFormat.parse(new byte[] {0, 0, 0, 1}))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.NOT_WIRE_FORMAT))
                .hasMessageContaining("too short");
    }

    @Test
    void shouldReadNegativeIdsAsSignedInts() {
        // Confluent ids are Java ints; the top bit set must not overflow into a long or throw.
        assertThat(ConfluentWireFormat.parse(new byte[] {0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}).schemaId())
                .isEqualTo(-1);
    }
}
