package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topics users already have, classified by the running service on real parts (the KRaft broker, the registry, the
 * committed model, real held-out e-mails): a foreign Avro record written by Apicurio's serializer with the text two
 * levels deep, JSON objects and plain strings ({@code input.format}). Each gives the labels and exit layers a
 * TextEvent run of the same texts gives; bad records and bad mappings are dead-lettered with their codes and their
 * bytes and headers unchanged; and nothing is lost: every record produced is, read with {@code read_committed},
 * either one output or one dead letter.
 */
@Timeout(900)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InputFormatsE2ETest {

    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(180);
    private static final int EMAILS = 16;

    /** Static: JUnit fills an instance field only after {@code @BeforeAll}, which needs it for the TextEvent run. */
    @TempDir
    static Path tempDir;

    private ClassifierPool pool;
    private List<Email> emails;
    /** What a TextEvent run gave for each e-mail id. */
    private final Map<String, Outcome> baseline = new HashMap<>();

    private record Outcome(String label, int exitLayer) {
        static Outcome of(ClassifiedEvent e) {
            return new Outcome(e.getLabel(), e.getExitLayer());
        }
    }

    @BeforeAll
    void classifyTheTextsAsTextEvents() {
        ReferenceEmails references = ReferenceEmails.load();
        pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
        ExitSetting card = pool.recommendedSetting();
        // Texts whose entropy sits within float noise of S may leave one layer apart in two batches of other
        // shapes: leave them out, so that any difference found is the format's.
        emails = references.spread(60).stream().filter(e -> !e.nearBoundary(card)).limit(EMAILS).toList();
        assertThat(emails).hasSize(EMAILS);
        try (RunningClassifier app = RunningClassifier.start("formats-text-event", pool, tempDir)) {
            List<TextEvent> events = new ArrayList<>();
            for (Email e : emails) {
                events.add(RunningClassifier.event(e.id(), e.text()));
            }
            app.produce(events);
            Set<String> ids = new HashSet<>(emails.stream().map(Email::id).toList());
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(ids, BATCH_TIMEOUT);
            for (String id : ids) {
                ClassifiedEvent result = app.decode(out.get(id).get(0).value());
                assertThat(result.getText()).as("text-event input keeps the text in the output").isNotNull();
                baseline.put(id, Outcome.of(result));
            }
        }
        assertThat(baseline.values().stream().map(Outcome::exitLayer).distinct().count())
                .as("the texts leave at more than one layer").isGreaterThan(1);
    }

    @AfterAll
    void closeModel() {
        if (pool != null) {
            pool.close();
        }
    }

    // A foreign schema: the text two levels down, a nullable text, an id of its own, a timestamp-millis.
    private static final Schema CONTENT = SchemaBuilder.record("Content").namespace("com.example.forum").fields()
            .optionalString("text").requiredString("lang").endRecord();
    private static final Schema BODY = SchemaBuilder.record("Body").namespace("com.example.forum").fields()
            .name("content").type(CONTENT).noDefault().endRecord();
    private static final Schema META = SchemaBuilder.record("Meta").namespace("com.example.forum").fields()
            .requiredString("comment_id")
            .name("posted_at").type(LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG))).noDefault()
            .endRecord();
    private static final Schema COMMENT = SchemaBuilder.record("Comment").namespace("com.example.forum").fields()
            .name("meta").type(META).noDefault().name("body").type(BODY).noDefault().endRecord();
    /** The same topic's older producer: its text is a number (a bad mapping for it: FIELD_TYPE). */
    private static final Schema LEGACY_COMMENT = SchemaBuilder.record("Comment").namespace("com.example.forum.v0").fields()
            .name("meta").type(META).noDefault()
            .name("body").type(SchemaBuilder.record("Body").fields()
                    .name("content").type(SchemaBuilder.record("Content").fields().requiredInt("text").endRecord()).noDefault()
                    .endRecord()).noDefault()
            .endRecord();
    /** Another producer whose records have no body at all (FIELD_MISSING). */
    private static final Schema NO_BODY = SchemaBuilder.record("Ping").namespace("com.example.forum").fields()
            .name("meta").type(META).noDefault().endRecord();

    private static GenericRecord comment(Schema schema, String commentId, Object text) {
        GenericRecord meta = new GenericData.Record(META);
        meta.put("comment_id", commentId);
        meta.put("posted_at", 1_700_000_000_000L);
        GenericRecord record = new GenericData.Record(schema);
        record.put("meta", meta);
        if (schema.getField("body") != null) {
            Schema bodySchema = schema.getField("body").schema();
            Schema contentSchema = bodySchema.getField("content").schema();
            GenericRecord content = new GenericData.Record(contentSchema);
            content.put("text", text);
            if (contentSchema.getField("lang") != null) {
                content.put("lang", "en");
            }
            GenericRecord body = new GenericData.Record(bodySchema);
            body.put("content", content);
            record.put("body", body);
        }
        return record;
    }

    @Test
    void aForeignAvroRecordWrittenByApicuriosSerializerIsClassifiedFromTwoLevelsDown() {
        Map<String, String> settings = Map.of("input.format", "avro", "input.field.id", "meta.comment_id",
                "input.field.text", "body.content.text", "input.field.event_time", "meta.posted_at");
        try (RunningClassifier app = RunningClassifier.start("formats-avro", pool, tempDir, settings);
             AvroKafkaSerializer<GenericRecord> apicurio = new AvroKafkaSerializer<>()) {
            apicurio.configure(Map.of(SerdeConfig.REGISTRY_URL, SharedInfrastructure.registry().apicurioApiUrl(),
                    SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, true, SerdeConfig.USE_ID, "contentId",
                    SerdeConfig.ENABLE_HEADERS, false, SerdeConfig.AUTO_REGISTER_ARTIFACT, true), false);
            String topic = app.names().input();
            Map<String, Email> good = new LinkedHashMap<>();
            List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
            for (Email e : emails) {
                good.put("avro/" + e.id(), e);
                records.add(new ProducerRecord<>(topic, "avro/" + e.id(),
                        apicurio.serialize(topic, comment(COMMENT, "c-" + e.id(), e.text()))));
            }
            // Bad records: a null text from the same producer, two other schemas under their own subjects, and bytes
            // that are not the wire format at all.
            ConfluentSchemaRegistryClient registry = new ConfluentSchemaRegistryClient(app.registryUrl());
            Map<String, DeadLetterCode> bad = new LinkedHashMap<>();
            bad.put("avro-bad/null-text", DeadLetterCode.FIELD_MISSING);
            records.add(bad(topic, "avro-bad/null-text",
                    apicurio.serialize(topic, comment(COMMENT, "c-null", null))));
            bad.put("avro-bad/text-is-a-number", DeadLetterCode.FIELD_TYPE);
            records.add(bad(topic, "avro-bad/text-is-a-number",
                    frame(registry, topic + "-legacy-value", comment(LEGACY_COMMENT, "c-int", 42))));
            bad.put("avro-bad/no-body", DeadLetterCode.FIELD_MISSING);
            records.add(bad(topic, "avro-bad/no-body",
                    frame(registry, topic + "-ping-value", comment(NO_BODY, "c-ping", null))));
            bad.put("avro-bad/not-wire-format", DeadLetterCode.NOT_WIRE_FORMAT);
            records.add(bad(topic, "avro-bad/not-wire-format",
                    "{\"text\": \"hello\"}".getBytes(StandardCharsets.UTF_8)));

            Map<String, RecordMetadata> written = produce(app, records);
            Map<String, ClassifiedEvent> out = awaitAndCheck(app, records, good.keySet(), bad);
            for (Map.Entry<String, Email> e : good.entrySet()) {
                ClassifiedEvent result = out.get(e.getKey());
                assertThat(result.getId()).isEqualTo("c-" + e.getValue().id());
                assertThat(result.getEventTime().toEpochMilli()).isEqualTo(1_700_000_000_000L);
                assertThat(result.getText()).as("output.include.text defaults to false for avro").isNull();
                assertThat(result.getInputTopic()).isEqualTo(topic);
                assertThat(result.getInputPartition()).isEqualTo(written.get(e.getKey()).partition());
                assertThat(result.getInputOffset()).isEqualTo(written.get(e.getKey()).offset());
                assertThat(Outcome.of(result)).as(e.getKey()).isEqualTo(baseline.get(e.getValue().id()));
            }
            assertThat(registry.getById(ConfluentWireFormat.parse(records.get(0).value()).schemaId()))
                    .as("the service registered nothing of its own under the input subject").isEqualTo(COMMENT);
        }
    }

    @Test
    void jsonObjectsAreClassifiedLikeTextEventsAndBadOnesDeadLettered() {
        Map<String, String> settings = Map.of("input.format", "json", "input.field.id", "id",
                "input.field.text", "message.body", "input.field.tenant", "tenant", "output.include.text", "true");
        try (RunningClassifier app = RunningClassifier.start("formats-json", pool, tempDir, settings)) {
            String topic = app.names().input();
            Map<String, Email> good = new LinkedHashMap<>();
            List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
            for (Email e : emails) {
                good.put("json/" + e.id(), e);
                String json = "{\"id\": " + quote("j-" + e.id()) + ", \"tenant\": \"acme\", \"message\": {\"body\": "
                        + quote(e.text()) + "}}";
                records.add(new ProducerRecord<>(topic, "json/" + e.id(), json.getBytes(StandardCharsets.UTF_8)));
            }
            Map<String, DeadLetterCode> bad = new LinkedHashMap<>();
            Map<String, String> badValues = new LinkedHashMap<>();
            badValues.put("json-bad/missing-body", "{\"id\": \"x\", \"message\": {}}");
            bad.put("json-bad/missing-body", DeadLetterCode.FIELD_MISSING);
            badValues.put("json-bad/missing-id", "{\"message\": {\"body\": \"hello\"}}");
            bad.put("json-bad/missing-id", DeadLetterCode.FIELD_MISSING);
            badValues.put("json-bad/body-is-an-object", "{\"id\": \"y\", \"message\": {\"body\": {\"text\": \"hi\"}}}");
            bad.put("json-bad/body-is-an-object", DeadLetterCode.FIELD_TYPE);
            badValues.put("json-bad/not-json", "{\"id\": \"z\", \"message\": ");
            bad.put("json-bad/not-json", DeadLetterCode.UNDECODABLE_JSON);
            badValues.put("json-bad/an-array", "[{\"id\": \"w\"}]");
            bad.put("json-bad/an-array", DeadLetterCode.UNDECODABLE_JSON);
            badValues.put("json-bad/blank-text", "{\"id\": \"v\", \"message\": {\"body\": \"  \"}}");
            bad.put("json-bad/blank-text", DeadLetterCode.EMPTY_TEXT);
            badValues.forEach((k, v) -> records.add(bad(topic, k,
                    v.getBytes(StandardCharsets.UTF_8))));

            produce(app, records);
            Map<String, ClassifiedEvent> out = awaitAndCheck(app, records, good.keySet(), bad);
            for (Map.Entry<String, Email> e : good.entrySet()) {
                ClassifiedEvent result = out.get(e.getKey());
                assertThat(result.getId()).isEqualTo("j-" + e.getValue().id());
                assertThat(result.getTenant()).isEqualTo("acme");
                assertThat(result.getText()).as("output.include.text=true").isEqualTo(e.getValue().text());
                assertThat(result.getInputTopic()).isEqualTo(topic);
                assertThat(Outcome.of(result)).as(e.getKey()).isEqualTo(baseline.get(e.getValue().id()));
            }
        }
    }

    @Test
    void plainStringsAreClassifiedLikeTextEventsWithTheKeyAsId() {
        try (RunningClassifier app = RunningClassifier.start("formats-string", pool, tempDir,
                Map.of("input.format", "string"))) {
            String topic = app.names().input();
            Map<String, Email> good = new LinkedHashMap<>();
            List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
            for (Email e : emails) {
                good.put("str/" + e.id(), e);
                records.add(new ProducerRecord<>(topic, "str/" + e.id(), e.text().getBytes(StandardCharsets.UTF_8)));
            }
            Map<String, DeadLetterCode> bad = new LinkedHashMap<>();
            bad.put("str-bad/latin-1", DeadLetterCode.UNDECODABLE_TEXT);
            records.add(bad(topic, "str-bad/latin-1",
                    "Caf\u00e9 cr\u00e8me, \u00e0 bient\u00f4t".getBytes(StandardCharsets.ISO_8859_1)));
            bad.put("str-bad/empty", DeadLetterCode.EMPTY_TEXT);
            records.add(bad(topic, "str-bad/empty", new byte[0]));

            produce(app, records);
            Map<String, ClassifiedEvent> out = awaitAndCheck(app, records, good.keySet(), bad);
            for (Map.Entry<String, Email> e : good.entrySet()) {
                ClassifiedEvent result = out.get(e.getKey());
                assertThat(result.getId()).isEqualTo(e.getKey());
                assertThat(result.getText()).isNull();
                assertThat(Outcome.of(result)).as(e.getKey()).isEqualTo(baseline.get(e.getValue().id()));
            }
        }
    }

    private static Map<String, RecordMetadata> produce(RunningClassifier app, List<ProducerRecord<String, byte[]>> records) {
        List<RecordMetadata> written = app.produceAllRaw(records);
        Map<String, RecordMetadata> byKey = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            byKey.put(records.get(i).key(), written.get(i));
        }
        return byKey;
    }

    /**
     * Waits for every good key on the output and every bad key on the dead-letter topic (read_committed), checks
     * that each record produced came out exactly once on exactly one of them, and that each dead letter has its
     * code, its original value bytes and its original headers.
     *
     * @return the decoded outputs by key
     */
    private static Map<String, ClassifiedEvent> awaitAndCheck(RunningClassifier app,
                                                              List<ProducerRecord<String, byte[]>> produced,
                                                              Set<String> good, Map<String, DeadLetterCode> bad) {
        Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(good, BATCH_TIMEOUT);
        Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = app.deadLetters().awaitKeys(bad.keySet(), BATCH_TIMEOUT);
        int outputs = out.values().stream().mapToInt(List::size).sum();
        int deadLetters = dead.values().stream().mapToInt(List::size).sum();
        assertThat(outputs + deadLetters).as("records in = outputs + dead letters").isEqualTo(produced.size());
        assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(good);
        assertThat(dead.keySet()).containsExactlyInAnyOrderElementsOf(bad.keySet());
        Map<String, byte[]> values = new HashMap<>();
        produced.forEach(r -> values.put(r.key(), r.value()));
        for (Map.Entry<String, DeadLetterCode> e : bad.entrySet()) {
            ConsumerRecord<byte[], byte[]> r = dead.get(e.getKey()).get(0);
            assertThat(header(r, DeadLetterCode.HEADER)).as(e.getKey()).isEqualTo(e.getValue().name());
            assertThat(r.value()).as(e.getKey()).isEqualTo(values.get(e.getKey()));
            assertThat(header(r, "trace-id")).as(e.getKey()).isEqualTo("t-" + e.getKey());
        }
        Map<String, ClassifiedEvent> decoded = new HashMap<>();
        for (String key : good) {
            assertThat(out.get(key)).as(key).hasSize(1);
            decoded.put(key, app.decode(out.get(key).get(0).value()));
        }
        return decoded;
    }

    /** @return a bad record with a {@code trace-id} header of {@code t-<key>}, which its dead letter must keep */
    private static ProducerRecord<String, byte[]> bad(String topic, String key, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", ("t-" + key).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, null, key, value, headers);
    }

    private static byte[] frame(ConfluentSchemaRegistryClient registry, String subject, GenericRecord record) {
        int id = registry.register(subject, record.getSchema());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        try {
            new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ConfluentWireFormat.frame(id, bytes.toByteArray());
    }

    private static String quote(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
