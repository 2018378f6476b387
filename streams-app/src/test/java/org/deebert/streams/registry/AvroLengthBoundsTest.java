package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tiny records whose Avro body claims a huge length or item count: each must be refused as
 * LENGTH_EXCEEDS_RECORD before Avro allocates what it claims, while good records of any size still read.
 * Each of these killed a service without the check with OutOfMemoryError on a 512 MiB heap.
 */
class AvroLengthBoundsTest {

    private static final String TOPIC = "text-events";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final SpecificAvroSerde<TextEvent> serde = new SpecificAvroSerde<>(TextEvent.class, registry, false);
    private final int schemaId = registry.register(TOPIC + "-value", TextEvent.getClassSchema());

    /**
     * The hostile TextEvent bodies, each 10-40 bytes: (name, body). Each starts with valid fields and then one
     * field's length or block count claims far more than the record holds.
     */
    static Object[][] hostileBodies() {
        return new Object[][] {
            // A reproduction as reported, byte for byte: id "x", text "poison", then attributes with a block
            // count of 2^30 (varint 80 80 80 80 08).
            {"map block count 2^30 (the reproduction)",
                HexFormat.of().parseHex("02780c706f69736f6e000200008080808008026b0276")},
            {"map block count 2^28", body(head("x", "poison"), varint(1L << 28), str("k"), str("v"), varint(0))},
            {"map block count -2^30", body(head("x", "poison"), varint(-(1L << 30)), varint(4), str("k"), str("v"),
                varint(0))},
            {"text length 2,147,483,639", body(str("x"), varint(2_147_483_639L), "tail".getBytes(StandardCharsets.UTF_8))},
            {"id length 1 GB", body(varint(1L << 30), "abc".getBytes(StandardCharsets.UTF_8))},
            {"map block count Long.MIN_VALUE", body(head("x", "poison"), varint(Long.MIN_VALUE), varint(0))},
            {"negative block count whose byte size exceeds the record",
                body(head("x", "poison"), varint(-1), varint(1L << 40), str("k"), str("v"), varint(0))},
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileBodies")
    void aBodyClaimingMoreThanTheRecordHoldsIsRefusedBeforeDecoding(String name, byte[] body) {
        byte[] record = ConfluentWireFormat.frame(schemaId, body);
        assertThat(record.length).as("the whole record is tiny").isLessThan(64);

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, record))
                .isInstanceOfSatisfying(WireFormatException.class, e -> {
                    assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.LENGTH_EXCEEDS_RECORD);
                    assertThat(e.getMessage()).contains("bytes left in the record").doesNotContain("poison");
                });
    }

    @Test
    void goodRecordsWithLongTextsAndLargeMapsStillRead() {
        Map<String, String> attributes = new HashMap<>();
        for (int i = 0; i < 5_000; i++) {
            attributes.put("k" + i, "v" + i);
        }
        TextEvent event = TextEvent.newBuilder().setId("e-1").setText("long text ".repeat(100_000))
                .setEventTime(Instant.ofEpochMilli(1L)).setAttributes(attributes).build();

        byte[] bytes = serde.serializer().serialize(TOPIC, event);

        assertThat(serde.deserializer().deserialize(TOPIC, bytes)).isEqualTo(event);
    }

    @Test
    void aBodyThatEndsBetweenFieldsIsLeftToAvrosReaderAndStaysUndecodable() {
        // Ends where the attributes map should start: nothing over-claims, Avro's reader meets the end.
        byte[] body = head("x", "poison");

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, ConfluentWireFormat.frame(schemaId, body)))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.UNDECODABLE_AVRO));
    }

    @Test
    void itemsThatTakeNoBytesAreCappedPerCollection() {
        Schema nulls = SchemaBuilder.array().items().nullType();
        byte[] atCap = body(varint(AvroLengthBounds.MAX_ZERO_WIDTH_ITEMS), varint(0));
        byte[] overCap = body(varint(AvroLengthBounds.MAX_ZERO_WIDTH_ITEMS / 2), varint(AvroLengthBounds.MAX_ZERO_WIDTH_ITEMS),
                varint(0));

        assertThatCode(() -> AvroLengthBounds.check(nulls, atCap, 0, atCap.length)).doesNotThrowAnyException();
        assertThatThrownBy(() -> AvroLengthBounds.check(nulls, overCap, 0, overCap.length))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.LENGTH_EXCEEDS_RECORD));
    }

    @Test
    void anArrayOfDoublesMayNotClaimMoreItemsThanItsBytesCanHold() {
        Schema doubles = SchemaBuilder.array().items().doubleType();
        // 3 items claimed, 16 bytes present: 24 are needed.
        byte[] body = body(varint(3), new byte[16], varint(0));

        assertThatThrownBy(() -> AvroLengthBounds.check(doubles, body, 0, body.length))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getMessage()).contains("at least 8 bytes each"));
    }

    /** id and text as given, then text_pair null, event_time 1, source and tenant null: up to the attributes map. */
    private static byte[] head(String id, String text) {
        return body(str(id), str(text), varint(0), varint(1), varint(0), varint(0));
    }

    private static byte[] str(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return body(varint(utf8.length), utf8);
    }

    /** Avro's zig-zag varint encoding of a long. */
    private static byte[] varint(long value) {
        long n = (value << 1) ^ (value >> 63);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7f) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    private static byte[] body(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
