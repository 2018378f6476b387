package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.registry.RegisteredSchema;
import org.deebert.streams.registry.SchemaRegistryException;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.registry.SpecificAvroDeserializer;
import org.deebert.streams.registry.SpecificAvroSerializer;
import org.deebert.streams.registry.SubjectNameStrategy;
import org.deebert.streams.registry.WireFormatException;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Confluent's serializer settings against a real registry server (the embedded Apicurio registry's
 * Confluent-compatible API): {@code auto.register.schemas=false} looks up and never registers,
 * {@code use.latest.version} writes as the subject's latest version, the subject name strategies register where
 * Confluent's would, and a service whose subjects are not registered does not start.
 */
@Timeout(180)
class RegistrySerializerSettingsE2ETest {

    private final SchemaRegistryServer server = SharedInfrastructure.registry();
    private final ConfluentSchemaRegistryClient admin = new ConfluentSchemaRegistryClient(server.url());

    private static TextEvent event() {
        return TextEvent.newBuilder().setId("e-7").setText("a film").setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
                .setSource("settings-e2e").setAttributes(Map.of("lang", "en")).build();
    }

    private static String uniqueTopic() {
        return "sersettings-" + UUID.randomUUID();
    }

    private static SerializerSettings settings(boolean autoRegister, boolean useLatest, SubjectNameStrategy value) {
        return new SerializerSettings(autoRegister, useLatest, SubjectNameStrategy.TOPIC_NAME, value);
    }

    private SpecificAvroSerializer<TextEvent> serializer(SerializerSettings settings) {
        return new SpecificAvroSerializer<>(TextEvent.class, new ConfluentSchemaRegistryClient(server.url()), false, settings);
    }

    private boolean subjectExists(String subject) {
        try {
            admin.latestVersion(subject);
            return true;
        } catch (SchemaRegistryException e) {
            if (e.isNotFound()) {
                return false;
            }
            throw e;
        }
    }

    @Test
    void withRegistrationOffTheSerializerOnlyLooksUpAndNeverRegisters() {
        String topic = uniqueTopic();
        String subject = topic + "-value";
        SerializerSettings off = settings(false, false, SubjectNameStrategy.TOPIC_NAME);

        assertThatThrownBy(() -> serializer(off).serialize(topic, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED))
                .hasMessageContaining("subject " + subject).hasMessageContaining("auto.register.schemas is false");
        assertThat(subjectExists(subject)).as("subject registered by the failed attempt").isFalse();

        int id = admin.register(subject, TextEvent.getClassSchema());
        byte[] bytes = serializer(off).serialize(topic, event());

        assertThat(ConfluentWireFormat.parse(bytes).schemaId()).isEqualTo(id);
        assertThat(admin.latestVersion(subject).version()).isEqualTo(1);
        assertThat(new SpecificAvroDeserializer<>(TextEvent.class, new ConfluentSchemaRegistryClient(server.url()))
                .deserialize(topic, bytes)).isEqualTo(event());
    }

    @Test
    void useLatestVersionWritesAsTheLatestVersionAReaderOfThatIdDecodes() {
        String topic = uniqueTopic();
        String subject = topic + "-value";
        Schema latest = new Schema.Parser().parse(TextEvent.getClassSchema().toString()
                .replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"priority\",\"type\":\"int\",\"default\":3},"));
        admin.register(subject, TextEvent.getClassSchema());
        int latestId = admin.register(subject, latest);

        byte[] bytes = serializer(settings(false, true, SubjectNameStrategy.TOPIC_NAME)).serialize(topic, event());

        assertThat(ConfluentWireFormat.parse(bytes).schemaId()).isEqualTo(latestId);
        RegisteredSchema version = admin.latestVersion(subject);
        assertThat(version.id()).isEqualTo(latestId);
        assertThat(version.version()).as("no version added").isEqualTo(2);
        // A consumer resolves the latest schema (the writer, by id) to its own TextEvent: every field arrives.
        assertThat(new SpecificAvroDeserializer<>(TextEvent.class, new ConfluentSchemaRegistryClient(server.url()))
                .deserialize(topic, bytes)).isEqualTo(event());
    }

    @Test
    void useLatestVersionRefusesALatestVersionThatCannotReadTheRecords() {
        String topic = uniqueTopic();
        admin.register(topic + "-value", ClassifiedEvent.getClassSchema());

        assertThatThrownBy(() -> serializer(settings(false, true, SubjectNameStrategy.TOPIC_NAME)).serialize(topic, event()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.SCHEMA_REJECTED))
                .hasMessageContaining("subject " + topic + "-value").hasMessageContaining("cannot read");
    }

    @Test
    void subjectNameStrategiesRegisterWhereConfluentsWould() {
        String topic = uniqueTopic();

        byte[] byRecord = serializer(settings(true, false, SubjectNameStrategy.RECORD_NAME)).serialize(topic, event());
        byte[] byTopicRecord = serializer(settings(true, false, SubjectNameStrategy.TOPIC_RECORD_NAME))
                .serialize(topic, event());

        assertThat(subjectExists(topic + "-value")).isFalse();
        RegisteredSchema record = admin.latestVersion("org.deebert.streams.schema.TextEvent");
        RegisteredSchema topicRecord = admin.latestVersion(topic + "-org.deebert.streams.schema.TextEvent");
        assertThat(record.schema()).isEqualTo(TextEvent.getClassSchema());
        assertThat(topicRecord.schema()).isEqualTo(TextEvent.getClassSchema());
        assertThat(ConfluentWireFormat.parse(byRecord).schemaId()).isEqualTo(record.id());
        assertThat(ConfluentWireFormat.parse(byTopicRecord).schemaId()).isEqualTo(topicRecord.id());
    }

    @Test
    void aServiceWhoseSubjectsAreNotRegisteredFailsToStartNamingTheSubjectAndRegistersNothing() {
        String prefix = uniqueTopic();
        AppSettings settings = AppSettings.withDefaults(Map.of(
                "schema.registry.url", server.url(),
                "bootstrap.servers", "127.0.0.1:9",
                "topic.input", prefix + "-in",
                "topic.output", prefix + "-out",
                "topic.control", prefix + "-control",
                "topic.telemetry", prefix + "-telemetry",
                "auto.register.schemas", "false"));

        assertThatThrownBy(() -> StreamsService.create(settings, false))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("subject " + prefix + "-out-value")
                .hasMessageContaining("auto.register.schemas is false");
        for (String topic : new String[] {"-in", "-out", "-control", "-telemetry"}) {
            assertThat(subjectExists(prefix + topic + "-value")).as(prefix + topic).isFalse();
        }
    }
}
