package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

/**
 * {@link SerializerSettings} through {@link SpecificAvroSerializer}, on the in-memory registry: registration off,
 * the latest version, subject-name strategies. The same against a real registry server is the end-to-end
 * RegistrySerializerSettingsE2ETest.
 */
class SerializerSettingsTest {

    private static final String TOPIC = "events";
    private static final String SUBJECT = TOPIC + "-value";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    private static TextEvent event() {
        return TextEvent.newBuilder().setId("e-1").setText("a film").setEventTime(Instant.ofEpochMilli(1_700_000_000_123L))
                .setAttributes(Map.of("lang", "en")).build();
    }

    /** TextEvent with a field in front that the class does not have, with a default: it can read the class's records. */
    static Schema withLeadingPriority() {
        return new Schema.Parser().parse(TextEvent.getClassSchema().toString()
                .replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"priority\",\"type\":\"int\",\"default\":7},"));
    }

    private SpecificAvroSerializer<TextEvent> serializer(SerializerSettings settings) {
        return new SpecificAvroSerializer<>(TextEvent.class, registry, false, settings);
    }

    private static SerializerSettings lookUpOnly(boolean useLatest) {
        return new SerializerSettings(false, useLatest, SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.TOPIC_NAME);
    }

    @Test
    void withRegistrationOffAnUnregisteredSchemaFailsNamingTheSubjectAndRegistersNothing() {
        assertThatThrownBy(() -> serializer(lookUpOnly(false)).serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED))
                .hasMessageContaining("subject " + SUBJECT)
                .hasMessageContaining("auto.register.schemas is false");
        assertThat(registry.subjects()).isEmpty();
        assertThat(registry.registrations()).isZero();
    }

    @Test
    void withRegistrationOffARegisteredSchemaIsFramedWithItsIdWithoutRegistering() {
        int id = registry.register(SUBJECT, TextEvent.getClassSchema());
        int before = registry.registrations();

        byte[] bytes = serializer(lookUpOnly(false)).serialize(TOPIC, event());

        assertThat(ConfluentWireFormat.parse(bytes).schemaId()).isEqualTo(id);
        assertThat(registry.registrations()).isEqualTo(before);
        assertThat(new SpecificAvroDeserializer<>(TextEvent.class, registry).deserialize(TOPIC, bytes)).isEqualTo(event());
    }

    @Test
    void useLatestVersionWritesTheRecordAsTheLatestSchemaUnderItsId() throws IOException {
        Schema latest = withLeadingPriority();
        registry.register(SUBJECT, TextEvent.getClassSchema());
        int latestId = registry.register(SUBJECT, latest);

        byte[] bytes = serializer(lookUpOnly(true)).serialize(TOPIC, event());

        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(bytes);
        assertThat(frame.schemaId()).isEqualTo(latestId);
        // The body is in the latest schema's layout (its id says so): read with it as the writer schema.
        GenericRecord read = new GenericDatumReader<GenericRecord>(latest).read(null, DecoderFactory.get()
                .binaryDecoder(frame.bytes(), frame.payloadOffset(), frame.payloadLength(), null));
        assertThat(read.get("priority")).isEqualTo(7);
        assertThat(read.get("text").toString()).isEqualTo("a film");
        assertThat(new SpecificAvroDeserializer<>(TextEvent.class, registry).deserialize(TOPIC, bytes)).isEqualTo(event());
        assertThat(registry.versions(SUBJECT)).hasSize(2);
    }

    @Test
    void useLatestVersionWithTheSameSchemaWritesItUnchanged() {
        int id = registry.register(SUBJECT, TextEvent.getClassSchema());
        byte[] latest = serializer(lookUpOnly(true)).serialize(TOPIC, event());
        byte[] registered = serializer(SerializerSettings.DEFAULT).serialize(TOPIC, event());

        assertThat(ConfluentWireFormat.parse(latest).schemaId()).isEqualTo(id);
        assertThat(latest).isEqualTo(registered);
    }

    @Test
    void useLatestVersionRefusesALatestVersionThatCannotReadTheRecords() {
        Schema required = new Schema.Parser().parse(TextEvent.getClassSchema().toString()
                .replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"priority\",\"type\":\"int\"},"));
        registry.register(SUBJECT, required);

        assertThatThrownBy(() -> serializer(lookUpOnly(true)).serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED))
                .hasMessageContaining("latest version 1")
                .hasMessageContaining("subject " + SUBJECT)
                .hasMessageContaining("priority");
    }

    @Test
    void useLatestVersionOnASubjectWithoutVersionsFailsNamingIt() {
        assertThatThrownBy(() -> serializer(lookUpOnly(true)).serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED))
                .hasMessageContaining("subject " + SUBJECT + " has no registered version");
        assertThat(registry.subjects()).isEmpty();
    }

    @Test
    void autoRegisterWinsOverUseLatestVersionAsInConfluentsSerializers() {
        registry.register(SUBJECT, withLeadingPriority());
        SerializerSettings both = new SerializerSettings(true, true, SubjectNameStrategy.TOPIC_NAME,
                SubjectNameStrategy.TOPIC_NAME);

        byte[] bytes = serializer(both).serialize(TOPIC, event());

        assertThat(registry.getById(ConfluentWireFormat.parse(bytes).schemaId())).isEqualTo(TextEvent.getClassSchema());
    }

    @Test
    void subjectNameStrategiesPickTheSubjectRegisteredUnder() {
        serializer(new SerializerSettings(true, false, SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.RECORD_NAME))
                .serialize(TOPIC, event());
        serializer(new SerializerSettings(true, false, SubjectNameStrategy.TOPIC_NAME,
                SubjectNameStrategy.TOPIC_RECORD_NAME)).serialize(TOPIC, event());
        new SpecificAvroSerializer<>(TextEvent.class, registry, true, new SerializerSettings(true, false,
                SubjectNameStrategy.TOPIC_RECORD_NAME, SubjectNameStrategy.TOPIC_NAME)).serialize("keys", event());

        assertThat(registry.subjects()).containsExactlyInAnyOrder("org.deebert.streams.schema.TextEvent",
                "events-org.deebert.streams.schema.TextEvent", "keys-org.deebert.streams.schema.TextEvent");
    }

    @Test
    void anUnavailableRegistryIsReportedAsSuchWithRegistrationOff() {
        registry.setUnavailable(true);
        assertThatThrownBy(() -> serializer(lookUpOnly(false)).serialize(TOPIC, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.REGISTRY_UNAVAILABLE));
    }
}
