package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.registry.SchemaRegistryException;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.control.ControlMessageValidator;
import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ExitSettingInForce;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our registry client and serde against a real registry server (Apicurio's Confluent-compatible API),
 * and our wire format against an independent implementation of it (Apicurio's own Avro serdes, in
 * Confluent mode), in both directions.
 */
@Timeout(180)
class SchemaRegistryInteropTest {

    private final SchemaRegistryServer server = SharedInfrastructure.registry();
    private final ConfluentSchemaRegistryClient client = new ConfluentSchemaRegistryClient(server.url());

    private static TextEvent event() {
        return TextEvent.newBuilder()
                .setId("e-42")
                .setText("an utterly charming film")
                .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
                .setSource("interop-test")
                .setAttributes(Map.of("lang", "en"))
                .build();
    }

    private static String uniqueTopic() {
        return "interop-" + UUID.randomUUID();
    }

    @Test
    void concurrentRegistrationsOfOneSchemaOnAFreshSubjectAllSucceedWithOneId() throws Exception {
        // Several instances starting at once register the same schemas; none may fail on the race.
        // Fresh subjects, content the registry already holds (as when a second deployment starts on new topics).
        // Racing on content new to the registry is not exercised here: Apicurio 2.4.2's in-memory store
        // answered HTTP 500 to losers and then stopped answering at all under 8 such clients, which would
        // take every later test down with it; the client's handling of that 500 has a stand-in-server test.
        client.register(uniqueTopic() + "-value", TextEvent.getClassSchema());
        int rounds = 5;
        int clients = 8;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            for (int round = 0; round < rounds; round++) {
                String subject = uniqueTopic() + "-value";
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Integer>> ids = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    ids.add(pool.submit(() -> {
                        go.await();
                        return new ConfluentSchemaRegistryClient(server.url()).register(subject, TextEvent.getClassSchema());
                    }));
                }
                go.countDown();
                Set<Integer> distinct = new HashSet<>();
                for (Future<Integer> id : ids) {
                    distinct.add(id.get(60, TimeUnit.SECONDS));
                }
                assertThat(distinct).as("ids for %s", subject).hasSize(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldRegisterIdempotentlyAndFetchTheSchemaById() {
        String subject = uniqueTopic() + "-value";

        int id = client.register(subject, TextEvent.getClassSchema());
        int again = client.register(subject, TextEvent.getClassSchema());

        assertThat(again).isEqualTo(id);
        // A fresh client has no cache: this really goes to GET /schemas/ids/{id}.
        assertThat(new ConfluentSchemaRegistryClient(server.url()).getById(id)).isEqualTo(TextEvent.getClassSchema());
    }

    @Test
    void shouldReportAnUnknownIdAsNotFound() {
        assertThatThrownBy(() -> client.getById(987_654_321))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isNotFound()).isTrue();
                    assertThat(e.statusCode()).isEqualTo(404);
                });
    }

    @Test
    void shouldRejectAnIncompatibleSchemaChange() {
        String subject = uniqueTopic() + "-value";
        client.register(subject, TextEvent.getClassSchema());
        // id changes type from string to int: readers of the new schema cannot read existing data (not BACKWARD).
        Schema incompatible = SchemaBuilder.record("TextEvent").namespace("org.deebert.streams.schema").fields()
                .requiredInt("id").endRecord();

        assertThatThrownBy(() -> client.register(subject, incompatible))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isIncompatible()).isTrue();
                    assertThat(e.statusCode()).isEqualTo(409);
                });
    }

    @Test
    void textPairIsABackwardCompatibleAdditionThatOldBytesStillDecodeWith() throws Exception {
        // Given: subjects holding the schemas of release 0.1.0, before TextEvent and ClassifiedEvent had text_pair.
        String topic = uniqueTopic();
        Schema oldText = history("TextEvent-0.1.0.avsc");
        Schema oldClassified = history("ClassifiedEvent-0.1.0.avsc");
        assertThat(oldText.getField("text_pair")).isNull();
        int oldId = client.register(topic + "-value", oldText);
        client.register(topic + "-out-value", oldClassified);

        // When: the current schemas are registered on them, the real registry's BACKWARD check accepts both.
        int newId = client.register(topic + "-value", TextEvent.getClassSchema());
        client.register(topic + "-out-value", org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        assertThat(newId).isNotEqualTo(oldId);

        // Then: bytes an old producer writes decode into today's TextEvent with text_pair null, and new bytes
        // carry the pair.
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(oldText);
        old.put("id", "e-1");
        old.put("text", "an utterly charming film");
        old.put("event_time", 1_700_000_000_000L);
        old.put("attributes", Map.of());
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(body, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(oldText).write(old, encoder);
        encoder.flush();
        SpecificAvroSerde<TextEvent> serde = new SpecificAvroSerde<>(TextEvent.class, client, false);
        TextEvent read = serde.deserializer().deserialize(topic, ConfluentWireFormat.frame(oldId, body.toByteArray()));
        assertThat(read.getText()).isEqualTo("an utterly charming film");
        assertThat(read.getTextPair()).isNull();
        TextEvent pair = TextEvent.newBuilder(event()).setTextPair("a second text").build();
        assertThat(serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, pair)).getTextPair())
                .isEqualTo("a second text");
    }

    @Test
    void theAccuracyBudgetIsABackwardCompatibleAdditionThatOldControlMessagesStillMeanAFixedS() throws Exception {
        // Given: subjects holding ThresholdControl and ExitTelemetry as they were before accuracy budgets.
        String topic = uniqueTopic();
        Schema oldControl = history("ThresholdControl-before-budget.avsc");
        Schema oldTelemetry = history("ExitTelemetry-before-budget.avsc");
        assertThat(oldControl.getField("budget")).isNull();
        int oldId = client.register(topic + "-value", oldControl);
        client.register(topic + "-telemetry-value", oldTelemetry);

        // When: today's schemas are registered on them, the real registry's BACKWARD check accepts both.
        int newId = client.register(topic + "-value", ThresholdControl.getClassSchema());
        client.register(topic + "-telemetry-value", org.deebert.streams.schema.ExitTelemetry.getClassSchema());
        assertThat(newId).isNotEqualTo(oldId);

        // Then: a fixed-S message an old CLI wrote reads with budget null, and the validator keeps it a fixed S.
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(oldControl);
        old.put("threshold", 0.3);
        old.put("policy", new org.apache.avro.generic.GenericData.EnumSymbol(oldControl.getField("policy").schema(), "ENTROPY"));
        old.put("layer_thresholds", null);
        old.put("model_name", "m");
        old.put("changed_by", "ops");
        old.put("reason", "peak traffic");
        old.put("changed_at", 1_700_000_000_000L);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(body, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(oldControl).write(old, encoder);
        encoder.flush();
        SpecificAvroSerde<ThresholdControl> serde = new SpecificAvroSerde<>(ThresholdControl.class, client, false);
        ThresholdControl read = serde.deserializer().deserialize(topic, ConfluentWireFormat.frame(oldId, body.toByteArray()));
        assertThat(read.getBudget()).isNull();
        ExitSettingInForce inForce = new ControlMessageValidator("m", 6).validateMessage("m", read);
        assertThat(inForce.source()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
        assertThat(inForce.budget()).isNull();
        assertThat(inForce.setting().threshold()).isEqualTo(0.3);
    }

    @Test
    void labelThresholdsAreABackwardCompatibleAdditionThatOldMessagesReadAsOneSForEveryLabel() throws Exception {
        // Given: subjects holding ThresholdControl and ClassifiedEvent as they were before label-conditional thresholds.
        String topic = uniqueTopic();
        Schema oldControl = history("ThresholdControl-before-label-thresholds.avsc");
        Schema oldClassified = history("ClassifiedEvent-before-label-thresholds.avsc");
        assertThat(oldControl.getField("label_thresholds")).isNull();
        assertThat(oldClassified.getField("label_thresholds")).isNull();
        int oldId = client.register(topic + "-value", oldControl);
        client.register(topic + "-out-value", oldClassified);

        // When: today's schemas are registered on them, the real registry's BACKWARD check accepts both.
        int newId = client.register(topic + "-value", ThresholdControl.getClassSchema());
        client.register(topic + "-out-value", org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        assertThat(newId).isNotEqualTo(oldId);

        // Then: a message an old CLI wrote reads with label_thresholds null, which means one S for every label.
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(oldControl);
        old.put("threshold", 0.14);
        old.put("policy", new org.apache.avro.generic.GenericData.EnumSymbol(oldControl.getField("policy").schema(), "ENTROPY"));
        old.put("layer_thresholds", null);
        old.put("budget", null);
        old.put("model_name", "m");
        old.put("changed_by", "ops");
        old.put("reason", "before label thresholds");
        old.put("changed_at", 1_700_000_000_000L);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(body, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(oldControl).write(old, encoder);
        encoder.flush();
        SpecificAvroSerde<ThresholdControl> serde = new SpecificAvroSerde<>(ThresholdControl.class, client, false);
        ThresholdControl read = serde.deserializer().deserialize(topic, ConfluentWireFormat.frame(oldId, body.toByteArray()));
        assertThat(read.getLabelThresholds()).isNull();
        ControlMessageValidator validator = new ControlMessageValidator("m", 6, List.of("ham", "spam"));
        assertThat(validator.validate("m", read)).isEqualTo(org.deebert.streams.exit.ExitSetting.entropy(0.14));

        // And: a new message's thresholds by label name survive the registry round trip (String keys) and become
        // S by label index.
        ThresholdControl labelled = ThresholdControl.newBuilder(read).setLabelThresholds(Map.of("spam", 0.7, "ham", 0.0))
                .build();
        ThresholdControl back = serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, labelled));
        assertThat(back.getLabelThresholds()).containsOnly(Map.entry("ham", 0.0), Map.entry("spam", 0.7));
        assertThat(validator.validate("m", back).labelThresholds()).containsExactly(0.0, 0.7);
    }

    @Test
    void theLabelGuardIsABackwardCompatibleAdditionThatOldBudgetsStillReadWithoutAGuard() throws Exception {
        // Given: subjects holding ThresholdControl and ExitTelemetry as they were before the label guard.
        String topic = uniqueTopic();
        Schema oldControl = history("ThresholdControl-before-guard.avsc");
        Schema oldTelemetry = history("ExitTelemetry-before-guard.avsc");
        Schema oldBudget = oldControl.getField("budget").schema().getTypes().get(1);
        assertThat(oldBudget.getField("protected_label")).isNull();
        int oldId = client.register(topic + "-value", oldControl);
        client.register(topic + "-telemetry-value", oldTelemetry);

        // When: today's schemas are registered on them, the real registry's BACKWARD check accepts both.
        int newId = client.register(topic + "-value", ThresholdControl.getClassSchema());
        client.register(topic + "-telemetry-value", org.deebert.streams.schema.ExitTelemetry.getClassSchema());
        assertThat(newId).isNotEqualTo(oldId);

        // Then: a budget an old CLI wrote reads with both guard fields null, and the validator keeps it unguarded.
        org.apache.avro.generic.GenericRecord budget = new org.apache.avro.generic.GenericData.Record(oldBudget);
        budget.put("max_disagreement", 0.05);
        budget.put("sample_rate", 0.02);
        budget.put("min_threshold", 0.1);
        budget.put("max_threshold", 0.5);
        budget.put("window_events", 1000);
        budget.put("window_ms", 600_000L);
        budget.put("confidence", 0.95);
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(oldControl);
        old.put("threshold", 0.1);
        old.put("policy", new org.apache.avro.generic.GenericData.EnumSymbol(oldControl.getField("policy").schema(), "ENTROPY"));
        old.put("layer_thresholds", null);
        old.put("budget", budget);
        old.put("model_name", "m");
        old.put("changed_by", "ops");
        old.put("reason", "5 % budget");
        old.put("changed_at", 1_700_000_000_000L);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(body, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(oldControl).write(old, encoder);
        encoder.flush();
        SpecificAvroSerde<ThresholdControl> serde = new SpecificAvroSerde<>(ThresholdControl.class, client, false);
        ThresholdControl read = serde.deserializer().deserialize(topic, ConfluentWireFormat.frame(oldId, body.toByteArray()));
        assertThat(read.getBudget().getProtectedLabel()).isNull();
        assertThat(read.getBudget().getMaxRecallLoss()).isNull();
        ControlMessageValidator validator = new ControlMessageValidator("m", 6, List.of("ham", "spam"));
        ExitSettingInForce inForce = validator.validateMessage("m", read);
        assertThat(inForce.source()).isEqualTo(ExitSettingInForce.ACCURACY_BUDGET);
        assertThat(inForce.budget().maxDisagreement()).isEqualTo(0.05);
        assertThat(inForce.budget().guard()).isNull();

        // ... and a guarded budget written today round-trips through the registry with its guard.
        ThresholdControl guarded = ControlMessages.budgetSetting("m", ExitPolicy.ENTROPY,
                0.1, inForce.budget().withGuard(new Budget.LabelGuard("spam", 0.01)),
                "ops", "protect spam", Instant.ofEpochMilli(1_700_000_000_000L));
        ThresholdControl back = serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, guarded));
        assertThat(validator.validateMessage("m", back).budget().guard())
                .isEqualTo(new Budget.LabelGuard("spam", 0.01));
    }

    @Test
    void aRequiredProtectedLabelWouldHaveBeenRejectedAsIncompatible() {
        // The guard's label as a required string, without a default: readers could not read old budgets (not BACKWARD).
        String subject = uniqueTopic() + "-value";
        client.register(subject, history("ThresholdControl-before-guard.avsc"));
        Schema control = ThresholdControl.getClassSchema();
        Schema budget = control.getField("budget").schema().getTypes().get(1);
        List<Schema.Field> budgetFields = new ArrayList<>();
        for (Schema.Field f : budget.getFields()) {
            budgetFields.add(f.name().equals("protected_label")
                    ? new Schema.Field(f.name(), Schema.create(Schema.Type.STRING), "required on purpose", (Object) null)
                    : new Schema.Field(f, f.schema()));
        }
        Schema requiredBudget = Schema.createRecord(budget.getName(), budget.getDoc(), budget.getNamespace(), false,
                budgetFields);
        List<Schema.Field> controlFields = new ArrayList<>();
        for (Schema.Field f : control.getFields()) {
            controlFields.add(new Schema.Field(f, f.name().equals("budget")
                    ? Schema.createUnion(Schema.create(Schema.Type.NULL), requiredBudget) : f.schema()));
        }
        Schema requiredLabel = Schema.createRecord(control.getName(), control.getDoc(), control.getNamespace(), false,
                controlFields);
        assertThat(requiredLabel.getField("budget").schema().getTypes().get(1).getField("protected_label").hasDefaultValue())
                .isFalse();

        assertThatThrownBy(() -> client.register(subject, requiredLabel))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue());
    }

    @Test
    void aRequiredTextPairWouldHaveBeenRejectedAsIncompatible() {
        // The same field without a default: readers of the new schema could not read old data (not BACKWARD).
        String subject = uniqueTopic() + "-value";
        Schema oldText = history("TextEvent-0.1.0.avsc");
        client.register(subject, oldText);
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : oldText.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field("text_pair", Schema.create(Schema.Type.STRING), "required on purpose",
                (Object) null));
        Schema required = Schema.createRecord(oldText.getName(), oldText.getDoc(), oldText.getNamespace(), false, fields);

        assertThatThrownBy(() -> client.register(subject, required))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue());
    }

    /** A schema as released in 0.1.0; the enum it names (unchanged since) comes from today's class. */
    private static Schema history(String file) {
        try (java.io.InputStream in = SchemaRegistryInteropTest.class.getResourceAsStream("/avro-history/" + file)) {
            Schema.Parser parser = new Schema.Parser();
            parser.parse(org.deebert.streams.schema.ExitPolicyName.getClassSchema().toString());
            return parser.parse(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void provenanceAndANullableTextAreABackwardCompatibleChangeThatOldOutputsStillDecodeWith() throws Exception {
        // Given: an output subject holding ClassifiedEvent as it was before input formats (text a plain string, no
        // input_topic/input_partition/input_offset).
        String topic = uniqueTopic();
        Schema old = history("ClassifiedEvent-before-input-formats.avsc");
        assertThat(old.getField("text").schema().getType()).isEqualTo(Schema.Type.STRING);
        assertThat(old.getField("input_topic")).isNull();
        int oldId = client.register(topic + "-value", old);

        // When: today's schema is registered on it, the real registry's BACKWARD check accepts it.
        int newId = client.register(topic + "-value", org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        assertThat(newId).isNotEqualTo(oldId);
        assertThat(org.deebert.streams.schema.ClassifiedEvent.getClassSchema().getField("text").schema().isNullable())
                .isTrue();

        // Then: an output an older service wrote reads with its text and with null provenance.
        org.apache.avro.generic.GenericRecord record = new org.apache.avro.generic.GenericData.Record(old);
        for (Schema.Field f : old.getFields()) {
            Schema type = f.schema();
            Object value = switch (type.getType()) {
                case STRING -> "s";
                case INT -> 1;
                case LONG -> 1_700_000_000_000L;
                case DOUBLE -> 0.5;
                case ARRAY -> List.of(0.25f, 0.75f);
                case ENUM -> new org.apache.avro.generic.GenericData.EnumSymbol(type, type.getEnumSymbols().get(0));
                default -> null; // nullable unions
            };
            record.put(f.name(), value);
        }
        record.put("text", "an utterly charming film");
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(body, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(old).write(record, encoder);
        encoder.flush();
        org.deebert.streams.schema.ClassifiedEvent read = new SpecificAvroSerde<>(
                org.deebert.streams.schema.ClassifiedEvent.class, client, false).deserializer()
                .deserialize(topic, ConfluentWireFormat.frame(oldId, body.toByteArray()));
        assertThat(read.getText()).isEqualTo("an utterly charming film");
        assertThat(read.getInputTopic()).isNull();
        assertThat(read.getInputPartition()).isNull();
        assertThat(read.getInputOffset()).isNull();
    }

    @Test
    void shouldWriteBytesThatApicuriosConfluentModeDeserializerReads() {
        String topic = uniqueTopic();
        byte[] bytes = new SpecificAvroSerde<>(TextEvent.class, client, false).serializer().serialize(topic, event());

        try (AvroKafkaDeserializer<TextEvent> apicurio = new AvroKafkaDeserializer<>()) {
            apicurio.configure(apicurioConfig(Map.of(AvroKafkaSerdeConfig.USE_SPECIFIC_AVRO_READER, true)), false);
            assertThat(apicurio.deserialize(topic, bytes)).isEqualTo(event());
        }
    }

    @Test
    void shouldReadBytesThatApicuriosConfluentModeSerializerWrites() {
        String topic = uniqueTopic();
        byte[] bytes;
        try (AvroKafkaSerializer<TextEvent> apicurio = new AvroKafkaSerializer<>()) {
            apicurio.configure(apicurioConfig(Map.of(SerdeConfig.AUTO_REGISTER_ARTIFACT, true)), false);
            bytes = apicurio.serialize(topic, event());
        }
        // The id Apicurio wrote is the one the Confluent API gives for the same schema under the same subject.
        int confluentId = client.register(topic + "-value", TextEvent.getClassSchema());
        assertThat(bytes[0]).isEqualTo(ConfluentWireFormat.MAGIC_BYTE);
        assertThat(ConfluentWireFormat.parse(bytes).schemaId()).isEqualTo(confluentId);

        TextEvent read = new SpecificAvroSerde<>(TextEvent.class, new ConfluentSchemaRegistryClient(server.url()), false)
                .deserializer().deserialize(topic, bytes);

        assertThat(read).isEqualTo(event());
    }

    /**
     * Apicurio's serdes speak Apicurio's own API. In Confluent mode they write a 4-byte id, and the id
     * must be the content id: that is the number the registry's Confluent API calls a schema id.
     */
    private Map<String, Object> apicurioConfig(Map<String, Object> extra) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                SerdeConfig.REGISTRY_URL, server.apicurioApiUrl(),
                SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, true,
                SerdeConfig.USE_ID, "contentId",
                // Ids in the payload, not in Kafka headers: the Confluent wire format has no headers.
                SerdeConfig.ENABLE_HEADERS, false));
        config.putAll(extra);
        return config;
    }
}
