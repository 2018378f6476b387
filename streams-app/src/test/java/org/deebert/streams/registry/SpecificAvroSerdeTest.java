package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;

class SpecificAvroSerdeTest {

    private static final String TOPIC = "text-events";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final SpecificAvroSerde<TextEvent> serde = new SpecificAvroSerde<>(TextEvent.class, registry, false);

    private static TextEvent event() {
        return TextEvent.newBuilder()
                .setId("e-1")
                .setText("a gripping, funny film")
                .setEventTime(Instant.ofEpochMilli(1_700_000_000_123L))
                .setTenant("acme")
                .setAttributes(Map.of("lang", "en"))
                .build();
    }

    @Test
    void shouldRoundTripARecordWithLogicalTypesNullsAndMaps() {
        byte[] bytes = serde.serializer().serialize(TOPIC, event());

        TextEvent read = serde.deserializer().deserialize(TOPIC, bytes);

        assertThat(read).isEqualTo(event());
        assertThat(read.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
        assertThat(read.getSource()).isNull();
    }

    @Test
    void shouldRegisterUnderTopicValueSubjectOnceAndFrameWithItsId() {
        byte[] first = serde.serializer().serialize(TOPIC, event());
        serde.serializer().serialize(TOPIC, event());

        assertThat(registry.versions(TOPIC + "-value")).containsExactly(TextEvent.getClassSchema());
        assertThat(registry.registrations()).isEqualTo(1);
        int id = ConfluentWireFormat.parse(first).schemaId();
        assertThat(registry.getById(id)).isEqualTo(TextEvent.getClassSchema());
    }

    @Test
    void shouldUseTheKeySubjectWhenConfiguredAsKey() {
        SpecificAvroSerde<TextEvent> keySerde = new SpecificAvroSerde<>(TextEvent.class, registry, false);
        keySerde.configure(Map.of(), true);

        keySerde.serializer().serialize(TOPIC, event());

        assertThat(registry.versions(TOPIC + "-key")).hasSize(1);
        assertThat(registry.versions(TOPIC + "-value")).isEmpty();
    }

    @Test
    void shouldMapNullToNullBothWays() {
        // Tombstones on the compacted control topic have null values.
        assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
        assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
    }

    @Test
    void shouldResolveAnOlderWriterSchemaToTheReaderClass() {
        // A producer still on a TextEvent schema without source/tenant/attributes: the defaults fill them in.
        Schema older = SchemaBuilder.record("TextEvent").namespace("org.deebert.streams.schema").fields()
                .requiredString("id")
                .requiredString("text")
                .name("event_time").type(org.apache.avro.LogicalTypes.timestampMillis()
                        .addToSchema(Schema.create(Schema.Type.LONG))).noDefault()
                .endRecord();
        int olderId = registry.register("legacy-value", older);
        GenericRecord legacy = new GenericData.Record(older);
        legacy.put("id", "e-2");
        legacy.put("text", "dull");
        legacy.put("event_time", 5L);

        TextEvent read = serde.deserializer().deserialize(TOPIC, ConfluentWireFormat.frame(olderId, encode(older, legacy)));

        assertThat(read.getId()).isEqualTo("e-2");
        assertThat(read.getEventTime()).isEqualTo(Instant.ofEpochMilli(5));
        assertThat(read.getSource()).isNull();
        assertThat(read.getAttributes()).isEmpty();
    }

    @Test
    void shouldReadTheEnumDefaultOfThresholdControl() {
        SpecificAvroSerde<ThresholdControl> controls = new SpecificAvroSerde<>(ThresholdControl.class, registry, false);
        ThresholdControl control = ThresholdControl.newBuilder()
                .setThreshold(0.3).setModelName("sst2").setChangedBy("ops").setReason("test")
                .setChangedAt(Instant.ofEpochMilli(1)).build();

        ThresholdControl read = controls.deserializer().deserialize("control",
                controls.serializer().serialize("control", control));

        assertThat(read.getPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(read.getThreshold()).isEqualTo(0.3);
    }

    @Test
    void shouldRoundTripPerLayerThresholdsAsDoubles() {
        SpecificAvroSerde<ThresholdControl> controls = new SpecificAvroSerde<>(ThresholdControl.class, registry, false);
        ThresholdControl control = ThresholdControl.newBuilder()
                .setThreshold(0.0).setLayerThresholds(java.util.List.of(0.0, 0.1, 0.2)).setModelName("sst2")
                .setChangedBy("ops").setReason("test").setChangedAt(Instant.ofEpochMilli(1)).build();

        ThresholdControl read = controls.deserializer().deserialize("control",
                controls.serializer().serialize("control", control));

        assertThat(read.getLayerThresholds()).containsExactly(0.0, 0.1, 0.2);
    }

    @Test
    void shouldReportUnknownSchemaId() {
        byte[] bytes = ConfluentWireFormat.frame(999, new byte[] {2, 'x'});

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, bytes))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.UNKNOWN_SCHEMA_ID));
    }

    @Test
    void shouldReportGarbageAsNotWireFormat() {
        byte[] garbage = "{\"id\": \"plain json\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, garbage))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.NOT_WIRE_FORMAT));
    }

    @Test
    void shouldReportAvroTruncatedInsideAStringAsALengthBeyondTheRecord() {
        byte[] bytes = serde.serializer().serialize(TOPIC, event());
        // Cuts into the attributes map's last value: its length prefix now claims more than the record holds.
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 2);

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, truncated))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.LENGTH_EXCEEDS_RECORD));
    }

    @Test
    void shouldReportTrailingBytesAsUndecodable() {
        byte[] bytes = serde.serializer().serialize(TOPIC, event());
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, longer))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.UNDECODABLE_AVRO));
    }

    @Test
    void shouldReportAnUnreachableRegistry() {
        byte[] bytes = serde.serializer().serialize(TOPIC, event());
        SpecificAvroSerde<TextEvent> fresh = new SpecificAvroSerde<>(TextEvent.class, registry, false);
        registry.setUnavailable(true);

        assertThatThrownBy(() -> fresh.deserializer().deserialize(TOPIC, bytes))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.REGISTRY_UNAVAILABLE));
        assertThatThrownBy(() -> fresh.serializer().serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.REGISTRY_UNAVAILABLE));
    }

    @Test
    void shouldReportARejectedSchema() {
        // Registered first, a schema whose required field TextEvent lacks makes TextEvent backward-incompatible.
        Schema other = SchemaBuilder.record("TextEvent").namespace("org.deebert.streams.schema").fields()
                .requiredString("id").requiredString("something_else").endRecord();
        registry.register(TOPIC + "-value", other);

        assertThatThrownBy(() -> serde.serializer().serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED));
    }

    private static byte[] encode(Schema schema, GenericRecord record) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        try {
            new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
            encoder.flush();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
