package org.deebert.streams.topology;

import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.deadletter.InvalidTextEventException;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.AfterEach;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.Test;

/**
 * The topology against {@link TopologyTestDriver}, a fake classifier and an in-memory Schema Registry.
 * Wall-clock time only moves when a test advances it, so buffered records are classified exactly when
 * a test lets the linger punctuator fire ({@link #lingerPasses()}).
 */
class ClassifierTopologyTest {

    private static final Duration LINGER = Duration.ofMillis(5);
    private static final Instant EVENT_TIME = Instant.parse("2024-05-01T10:00:00Z");

    private final TopologyHarness harness = new TopologyHarness("classifier-topology-test");
    private final InMemorySchemaRegistryClient registry = harness.registry();
    private final Topics topics = harness.topics();
    private final List<FakeClassifier> classifiers = new ArrayList<>();
    private ClassifierPool pool;
    private TopologyTestDriver driver;
    private TestInputTopic<String, TextEvent> input;
    private TestInputTopic<String, byte[]> rawInput;
    private TestInputTopic<byte[], byte[]> bytesKeyedInput;
    private TestInputTopic<String, ThresholdControl> control;
    private TestOutputTopic<String, ClassifiedEvent> output;
    private TestOutputTopic<byte[], byte[]> deadLetters;

    private void start(int maxBatchSize, int maxTextChars) {
        start(maxBatchSize, maxTextChars, StreamsConfig.EXACTLY_ONCE_V2);
    }

    private void start(int maxBatchSize, int maxTextChars, String processingGuarantee) {
        start(new TopologySettings(maxBatchSize, LINGER, maxTextChars), processingGuarantee);
    }

    private void start(TopologySettings settings, String processingGuarantee) {
        start(settings, processingGuarantee, false);
    }

    private void start(TopologySettings settings, String processingGuarantee, boolean textPairModel) {
        pool = new ClassifierPool(() -> {
            FakeClassifier c = new FakeClassifier(textPairModel);
            classifiers.add(c);
            return c;
        });
        driver = harness.start(settings, pool, processingGuarantee, null);
        input = harness.input();
        rawInput = harness.rawInput();
        bytesKeyedInput = harness.bytesKeyedInput();
        control = harness.control();
        output = harness.output();
        deadLetters = harness.deadLetters();
    }

    private void start() {
        start(32, 100);
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private static TextEvent event(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setEventTime(EVENT_TIME).setSource("test").build();
    }

    private static TextEvent pairEvent(String id, String text, String textPair) {
        return TextEvent.newBuilder(event(id, text)).setTextPair(textPair).build();
    }

    private static ThresholdControl controlMessage(String model, double s) {
        return ThresholdControl.newBuilder().setThreshold(s).setPolicy(ExitPolicyName.ENTROPY).setModelName(model)
                .setChangedBy("tester").setReason("test").setChangedAt(EVENT_TIME).build();
    }

    /**
     * Lets the wall-clock punctuator fire once: everything buffered is classified. Advances well past
     * linger: a record's arrival time includes the real time the processor spent classifying earlier
     * batches since the (mock) wall clock last moved.
     */
    private void lingerPasses() {
        driver.advanceWallClockTime(LINGER.multipliedBy(200));
    }

    private ClassifiedEvent classifyOne(String id) {
        input.pipeInput(id, event(id, "hello"));
        lingerPasses();
        TestRecord<String, ClassifiedEvent> out = output.readRecord();
        assertThat(out.key()).isEqualTo(id);
        return out.value();
    }

    private static String header(Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void everyInputYieldsOneOutputWithTheInputsKeyTimestampAndHeaders() {
        start();
        Headers headers = new RecordHeaders().add("trace-id", "t-1".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new TestRecord<>("k1", event("e1", "buy cheap pills"), headers, Instant.ofEpochMilli(1000)));
        input.pipeInput(new TestRecord<>("k2", event("e2", "see you at lunch"), null, Instant.ofEpochMilli(2000)));
        lingerPasses();

        TestRecord<String, ClassifiedEvent> first = output.readRecord();
        assertThat(first.key()).isEqualTo("k1");
        assertThat(first.timestamp()).isEqualTo(1000L);
        assertThat(header(first.headers(), "trace-id")).isEqualTo("t-1");
        ClassifiedEvent v = first.value();
        assertThat(v.getId()).isEqualTo("e1");
        assertThat(v.getLabel()).isEqualTo("spam");
        assertThat(v.getLabelIndex()).isEqualTo(1);
        assertThat(v.getProbabilities()).containsExactly(0.1f, 0.9f);
        assertThat(v.getModelName()).isEqualTo(FakeClassifier.MODEL);
        assertThat(v.getEventTime()).isEqualTo(EVENT_TIME);
        assertThat(v.getSource()).isEqualTo("test");
        assertThat(v.getThreshold()).isEqualTo(FakeClassifier.DEFAULT_S);
        assertThat(v.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
        assertThat(v.getExitLayer()).isEqualTo(FakeClassifier.exitLayerFor(FakeClassifier.DEFAULT_S));

        TestRecord<String, ClassifiedEvent> second = output.readRecord();
        assertThat(second.key()).isEqualTo("k2");
        assertThat(second.timestamp()).isEqualTo(2000L);
        assertThat(second.value().getLabel()).isEqualTo("ham");
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void bufferedRecordsAreEmittedInOrderOnlyWhenTheLingerPunctuatorFires() {
        start();
        for (int i = 0; i < 5; i++) {
            input.pipeInput("k" + i, event("e" + i, "text " + i));
        }
        assertThat(output.isEmpty()).as("nothing leaves before the linger punctuator fires").isTrue();

        lingerPasses();

        List<String> keys = new ArrayList<>();
        for (TestRecord<String, ClassifiedEvent> r : output.readRecordsToList()) {
            keys.add(r.key());
            assertThat(r.value().getBatchSize()).isEqualTo(5);
        }
        assertThat(keys).containsExactly("k0", "k1", "k2", "k3", "k4");
        assertThat(classifiers.get(0).batchSizes).containsExactly(5);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void aFullBufferIsClassifiedWithoutWaitingForThePunctuator() {
        start(2, 100);
        input.pipeInput("k0", event("e0", "a"));
        input.pipeInput("k1", event("e1", "b"));
        input.pipeInput("k2", event("e2", "c"));

        assertThat(output.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("k0", "k1");
        assertThat(output.isEmpty()).as("the third record waits for the punctuator").isTrue();

        lingerPasses();
        assertThat(output.readRecord().key()).isEqualTo("k2");
        assertThat(classifiers.get(0).batchSizes).containsExactly(2, 1);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void aControlMessageChangesTheThresholdForLaterEvents() {
        start();
        ClassifiedEvent before = classifyOne("before");

        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, 0.5));
        ClassifiedEvent after = classifyOne("after");

        assertThat(before.getExitLayer()).isEqualTo(3);
        assertThat(after.getExitLayer()).isEqualTo(1);
        assertThat(after.getThreshold()).isEqualTo(0.5);
        assertThat(after.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void aPatienceOrPerLayerControlMessageIsAppliedAndRecordedOnTheOutput() {
        start();
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 2))
                .setPolicy(ExitPolicyName.PATIENCE).build());
        ClassifiedEvent patience = classifyOne("patience");
        java.util.List<Double> perLayer = java.util.List.of(0.0, 0.1, 0.2, 0.0);
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 0))
                .setLayerThresholds(perLayer).build());
        ClassifiedEvent listed = classifyOne("listed");
        // Invalid for a 4-layer model: patience 5, and a list of 3: both leave the per-layer setting in force.
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 5))
                .setPolicy(ExitPolicyName.PATIENCE).build());
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 0))
                .setLayerThresholds(java.util.List.of(0.1, 0.1, 0.1)).build());
        ClassifiedEvent unchanged = classifyOne("unchanged");

        assertThat(patience.getExitPolicy()).isEqualTo(ExitPolicyName.PATIENCE);
        assertThat(patience.getThreshold()).isEqualTo(2.0);
        assertThat(patience.getLayerThresholds()).isNull();
        assertThat(listed.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(listed.getLayerThresholds()).isEqualTo(perLayer);
        assertThat(unchanged.getLayerThresholds()).isEqualTo(perLayer);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void labelThresholdsByNameAreAppliedByLabelIndexAndRecordedOnTheOutput() {
        start();
        // Given: ham strict, spam loose, keyed by the model's label names; then invalid ones that must change nothing.
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 0.2))
                .setLabelThresholds(java.util.Map.of("ham", 0.0, "spam", 0.7)).build());
        ClassifiedEvent labelled = classifyOne("labelled");
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 0.2))
                .setLabelThresholds(java.util.Map.of("phishing", 0.7)).build()); // not one of the model's labels
        control.pipeInput(FakeClassifier.MODEL, ThresholdControl.newBuilder(controlMessage(FakeClassifier.MODEL, 2))
                .setPolicy(ExitPolicyName.PATIENCE).setLabelThresholds(java.util.Map.of("spam", 0.7)).build());
        ClassifiedEvent unchanged = classifyOne("unchanged");

        assertThat(labelled.getLabelThresholds()).containsExactly(0.0, 0.7);
        assertThat(labelled.getThreshold()).isEqualTo(0.2);
        assertThat(labelled.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
        assertThat(unchanged.getLabelThresholds()).containsExactly(0.0, 0.7);
        assertThat(unchanged.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void aTombstoneRestoresTheModelCardThreshold() {
        start();
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, 0.0));
        ClassifiedEvent overridden = classifyOne("overridden");

        control.pipeInput(FakeClassifier.MODEL, (ThresholdControl) null);
        ClassifiedEvent restored = classifyOne("restored");

        assertThat(overridden.getExitLayer()).isEqualTo(4);
        assertThat(restored.getThreshold()).isEqualTo(FakeClassifier.DEFAULT_S);
        assertThat(restored.getExitLayer()).isEqualTo(3);
        assertThat(restored.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void invalidControlMessagesLeaveTheThresholdUnchanged() {
        start();
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, 0.5)); // valid: S = 0.5
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, -0.1)); // negative S
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, Double.NaN)); // NaN
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, Double.POSITIVE_INFINITY));
        control.pipeInput(FakeClassifier.MODEL, controlMessage("other-model", 0.0)); // model_name differs from key
        control.pipeInput("other-model", controlMessage(FakeClassifier.MODEL, 0.0)); // key is not our model
        control.pipeInput("other-model", controlMessage("other-model", 0.0)); // for another model entirely
        control.pipeInput((String) null, controlMessage(FakeClassifier.MODEL, 0.0)); // no key

        ClassifiedEvent result = classifyOne("e");

        assertThat(result.getThreshold()).isEqualTo(0.5);
        assertThat(result.getExitLayer()).isEqualTo(1);
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void invalidTextEventsGoToTheDeadLetterTopicWithTheirCodeWhileGoodOnesAreClassified() {
        start(32, 100);
        input.pipeInput("good-1", event("g1", "hello"));
        input.pipeInput("empty", event("x1", ""));
        input.pipeInput("blank", event("x2", "  \n\t "));
        input.pipeInput("too-long", event("x3", "a".repeat(101)));
        input.pipeInput("no-id", event("", "hello"));
        input.pipeInput("good-2", event("g2", "a".repeat(100)));
        lingerPasses();

        assertThat(output.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("good-1", "good-2");
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactly("empty", "blank", "too-long", "no-id");
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly("EMPTY_TEXT", "EMPTY_TEXT", "TEXT_TOO_LONG", "MISSING_ID");
        TestRecord<byte[], byte[]> tooLong = dead.get(2);
        assertThat(header(tooLong.headers(), DeadLetterHeaders.EXCEPTION)).isEqualTo(InvalidTextEventException.class.getName());
        assertThat(header(tooLong.headers(), DeadLetterHeaders.TOPIC)).isEqualTo(topics.input().name());
        assertThat(header(tooLong.headers(), DeadLetterHeaders.PARTITION)).isEqualTo("0");
        assertThat(header(tooLong.headers(), DeadLetterHeaders.OFFSET)).isEqualTo("3");
        assertThat(header(tooLong.headers(), DeadLetterHeaders.MESSAGE)).doesNotContain("aaaa");
        // The dead-letter value is the original wire-format bytes, decodable as the original event.
        TextEvent original = topics.input().valueSerde().deserializer().deserialize(topics.input().name(), tooLong.value());
        assertThat(original.getId()).isEqualTo("x3");
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void aSentencePairModelClassifiesEventsWithATextPairAndDeadLettersThoseWithoutOne() {
        start(new TopologySettings(32, LINGER, 100), StreamsConfig.EXACTLY_ONCE_V2, true);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logged);
        try {
            // Given a sentence-pair model: the label comes from the text pair here, which the model must see.
            input.pipeInput("pair", pairEvent("p1", "secret subject", "buy cheap pills"));
            input.pipeInput("no-pair", event("x1", "secret subject")); // an old producer's event: no text_pair
            input.pipeInput("blank-pair", pairEvent("x2", "secret subject", " \n "));
            input.pipeInput("long-pair", pairEvent("x3", "secret subject", "b".repeat(101)));
            lingerPasses();
        } finally {
            root.detachAppender(logged);
        }

        TestRecord<String, ClassifiedEvent> out = output.readRecord();
        assertThat(out.key()).isEqualTo("pair");
        assertThat(out.value().getLabel()).isEqualTo("spam");
        assertThat(out.value().getText()).isEqualTo("secret subject");
        assertThat(out.value().getTextPair()).isEqualTo("buy cheap pills");
        assertThat(output.isEmpty()).isTrue();
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactly("no-pair", "blank-pair", "long-pair");
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly("MISSING_TEXT_PAIR", "EMPTY_TEXT", "TEXT_TOO_LONG");
        // One WARN line per bad record, naming its code, never its text.
        List<String> warnings = logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).contains("MISSING_TEXT_PAIR", topics.input().name() + "-0 offset 1");
        assertThat(warnings).allSatisfy(m -> assertThat(m).doesNotContain("secret").doesNotContain("bbbb"));
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void aSingleTextModelDeadLettersEventsThatCarryATextPair() {
        start();
        input.pipeInput("single", event("s1", "buy cheap pills"));
        input.pipeInput("pair", pairEvent("x1", "hello", "buy cheap pills"));
        input.pipeInput("empty-pair", pairEvent("x2", "hello", ""));
        lingerPasses();

        TestRecord<String, ClassifiedEvent> out = output.readRecord();
        assertThat(out.key()).isEqualTo("single");
        assertThat(out.value().getTextPair()).isNull();
        assertThat(output.isEmpty()).isTrue();
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8)).containsExactly("pair", "empty-pair");
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly("UNEXPECTED_TEXT_PAIR", "UNEXPECTED_TEXT_PAIR");
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void undecodableBytesGoToTheDeadLetterTopicWithTheirCodeAndOriginalBytes() {
        // at_least_once here only because of a TopologyTestDriver limit: a deserialization failure is handled
        // when the record is enqueued, before any commit, and under exactly-once the driver's
        // MockProducer.clear() then discards the still-uncommitted dead-letter record. A real broker keeps it
        // in the open transaction (the end-to-end tests cover that path).
        start(32, 100, StreamsConfig.AT_LEAST_ONCE);
        int textEventId = registry.register(topics.input().name() + "-value", TextEvent.getClassSchema());
        byte[] notWireFormat = "plain text, no header".getBytes(StandardCharsets.UTF_8);
        byte[] unknownSchemaId = framed(9999, new byte[] {2, 'h', 'i'});
        byte[] undecodableAvro = framed(textEventId, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});

        input.pipeInput("good-1", event("g1", "hello"));
        rawInput.pipeInput("garbage", notWireFormat);
        rawInput.pipeInput("unknown-id", unknownSchemaId);
        rawInput.pipeInput("bad-avro", undecodableAvro);
        input.pipeInput("good-2", event("g2", "world"));
        lingerPasses();

        assertThat(output.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("good-1", "good-2");
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly("NOT_WIRE_FORMAT", "UNKNOWN_SCHEMA_ID", "UNDECODABLE_AVRO");
        assertThat(dead).extracting(TestRecord::value).containsExactly(notWireFormat, unknownSchemaId, undecodableAvro);
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterHeaders.OFFSET)).containsExactly("1", "2", "3");
        assertThat(dead).allSatisfy(r -> {
            assertThat(header(r.headers(), DeadLetterHeaders.EXCEPTION)).isNotBlank();
            assertThat(header(r.headers(), DeadLetterHeaders.TOPIC)).isEqualTo(topics.input().name());
        });
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void aRecordTheClassifierFailsOnIsDeadLetteredAndTheRestOfItsBatchIsClassified() {
        start();
        input.pipeInput("before", event("e1", "fine"));
        input.pipeInput("bad", event("e2", "boom"));
        input.pipeInput("after", event("e3", "also fine"));
        lingerPasses();

        assertThat(output.readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("before", "after");
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("bad");
        assertThat(header(dead.headers(), DeadLetterCode.HEADER)).isEqualTo("CLASSIFIER_FAILURE");
        assertThat(header(dead.headers(), DeadLetterHeaders.EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
        assertThat(header(dead.headers(), DeadLetterHeaders.OFFSET)).isEqualTo("1");
        assertThat(topics.input().valueSerde().deserializer().deserialize(topics.input().name(), dead.value()).getId())
                .isEqualTo("e2");
        // One failed batch of 3, then one call per event.
        assertThat(classifiers.get(0).batchSizes).containsExactly(3, 1, 1, 1);
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void exitLayerMetricsCountClassifiedEventsPerLayer() {
        start();
        input.pipeInput("a", event("a", "x"));
        input.pipeInput("b", event("b", "y"));
        lingerPasses();
        control.pipeInput(FakeClassifier.MODEL, controlMessage(FakeClassifier.MODEL, 0.5));
        input.pipeInput("c", event("c", "z"));
        lingerPasses();

        ExitMetrics.Snapshot snapshot = ExitMetrics.read(driver.metrics(), 4);

        assertThat(snapshot.exitHistogram()).containsExactly(1, 0, 2, 0);
        assertThat(snapshot.classifiedTotal()).isEqualTo(3);
        assertThat(snapshot.meanBatchSize()).isEqualTo(1.5);
        assertThat(snapshot.thresholdS()).isEqualTo(0.5);
        assertThat(output.readRecordsToList()).hasSize(3);
        assertThat(output.isEmpty()).isTrue();
    }

    /** Not valid UTF-8: 0xC3 starts a two-byte sequence that 0x28 does not continue, and 0xFF never occurs. */
    private static final byte[] NON_UTF8_KEY = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF};

    private byte[] wire(TextEvent e) {
        return topics.input().valueSerde().serializer().serialize(topics.input().name(), e);
    }

    private static Headers spoofedHeaders() {
        return new RecordHeaders()
                .add("trace-id", "t-1".getBytes(StandardCharsets.UTF_8))
                .add(DeadLetterCode.HEADER, "CLASSIFIER_FAILURE".getBytes(StandardCharsets.UTF_8))
                .add(DeadLetterHeaders.EXCEPTION, "java.lang.Spoofed".getBytes(StandardCharsets.UTF_8))
                .add("deebert.anything", "x".getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> headerKeys(Headers headers) {
        List<String> keys = new ArrayList<>();
        headers.forEach(h -> keys.add(h.key()));
        return keys;
    }

    @Test
    void reservedInputHeadersNeverReachTheOutputWhileOthersDoByDefault() {
        start();
        input.pipeInput(new TestRecord<>("k1", event("e1", "hello"), spoofedHeaders(), Instant.ofEpochMilli(1000)));
        lingerPasses();

        TestRecord<String, ClassifiedEvent> out = output.readRecord();
        // Only the custom header: a classified record must not look dead-lettered because its input said so.
        assertThat(headerKeys(out.headers())).containsExactly("trace-id");
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void headersForwardNoneForwardsNothingAndAnAllowListOnlyItsNames() {
        start(new TopologySettings(32, LINGER, 100, HeaderForwarding.parse("none", 64)), StreamsConfig.EXACTLY_ONCE_V2);
        input.pipeInput(new TestRecord<>("k1", event("e1", "hello"), spoofedHeaders(), Instant.ofEpochMilli(1000)));
        lingerPasses();
        assertThat(output.readRecord().headers().toArray()).isEmpty();
        close();

        start(new TopologySettings(32, LINGER, 100, HeaderForwarding.parse("traceparent, tracestate", 64)),
                StreamsConfig.EXACTLY_ONCE_V2);
        Headers headers = spoofedHeaders()
                .add("traceparent", "00-abc-def-01".getBytes(StandardCharsets.UTF_8))
                .add("tracestate", "a=b".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new TestRecord<>("k1", event("e1", "hello"), headers, Instant.ofEpochMilli(1000)));
        lingerPasses();
        assertThat(headerKeys(output.readRecord().headers())).containsExactly("traceparent", "tracestate");
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void atMostHeadersForwardMaxHeadersAreForwardedInInputOrder() {
        start(new TopologySettings(32, LINGER, 100, HeaderForwarding.parse("all", 64)), StreamsConfig.EXACTLY_ONCE_V2);
        Headers many = new RecordHeaders();
        for (int i = 0; i < 1000; i++) {
            many.add("h" + i, new byte[] {(byte) i});
        }
        input.pipeInput(new TestRecord<>("k1", event("e1", "hello"), many, Instant.ofEpochMilli(1000)));
        lingerPasses();

        List<String> forwarded = headerKeys(output.readRecord().headers());
        assertThat(forwarded).hasSize(64);
        assertThat(forwarded.get(0)).isEqualTo("h0");
        assertThat(forwarded.get(63)).isEqualTo("h63");
        assertThat(output.isEmpty()).isTrue();
    }

    @Test
    void deadLetterRecordsKeepTheInputHeadersExceptSpoofedReservedOnes() {
        start();
        input.pipeInput(new TestRecord<>("empty", event("x1", ""), spoofedHeaders(), Instant.ofEpochMilli(1000)));
        input.pipeInput(new TestRecord<>("bad", event("e2", "boom"), spoofedHeaders(), Instant.ofEpochMilli(2000)));
        lingerPasses();

        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).hasSize(2);
        assertThat(dead).allSatisfy(r -> {
            assertThat(header(r.headers(), "trace-id")).isEqualTo("t-1");
            assertThat(r.headers().headers(DeadLetterCode.HEADER)).hasSize(1);
            assertThat(r.headers().headers(DeadLetterHeaders.EXCEPTION)).hasSize(1);
            assertThat(r.headers().headers("deebert.anything")).isEmpty();
        });
        assertThat(header(dead.get(0).headers(), DeadLetterCode.HEADER)).isEqualTo("EMPTY_TEXT");
        assertThat(header(dead.get(0).headers(), DeadLetterHeaders.EXCEPTION)).isEqualTo(InvalidTextEventException.class.getName());
        assertThat(header(dead.get(1).headers(), DeadLetterCode.HEADER)).isEqualTo("CLASSIFIER_FAILURE");
        assertThat(header(dead.get(1).headers(), DeadLetterHeaders.EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
        assertThat(output.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void aKeyThatIsNotUtf8LeavesByteForByteOnTheOutputAndEveryDeadLetterPath() {
        // at_least_once for the deserialization path (see undecodableBytesGoToTheDeadLetterTopic...).
        start(32, 100, StreamsConfig.AT_LEAST_ONCE);
        bytesKeyedInput.pipeInput(NON_UTF8_KEY, wire(event("g1", "hello")));
        bytesKeyedInput.pipeInput(NON_UTF8_KEY, wire(event("x1", ""))); // processing exception handler
        bytesKeyedInput.pipeInput(NON_UTF8_KEY, "not wire format".getBytes(StandardCharsets.UTF_8)); // deserialization
        bytesKeyedInput.pipeInput(NON_UTF8_KEY, wire(event("e2", "boom"))); // classifier failure in the batch
        lingerPasses();

        TestOutputTopic<byte[], ClassifiedEvent> bytesKeyedOutput = driver.createOutputTopic(topics.output().name(),
                new ByteArrayDeserializer(), topics.output().valueSerde().deserializer());
        TestRecord<byte[], ClassifiedEvent> out = bytesKeyedOutput.readRecord();
        assertThat(out.key()).containsExactly(NON_UTF8_KEY);
        assertThat(out.value().getId()).isEqualTo("g1");
        assertThat(bytesKeyedOutput.isEmpty()).isTrue();
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly("EMPTY_TEXT", "NOT_WIRE_FORMAT", "CLASSIFIER_FAILURE");
        assertThat(dead).allSatisfy(r -> assertThat(r.key()).containsExactly(NON_UTF8_KEY));
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void everyBadRecordLogsExactlyOneWarnLineWithoutStackTraceOrText() {
        // at_least_once for the deserialization path (see undecodableBytesGoToTheDeadLetterTopic...).
        start(32, 100, StreamsConfig.AT_LEAST_ONCE);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logged);
        try {
            input.pipeInput("good", event("g1", "secret good text"));
            input.pipeInput("empty", event("", "secret no-id text")); // processing exception handler, offset 1
            rawInput.pipeInput("garbage", "secret garbage text".getBytes(StandardCharsets.UTF_8)); // deserialization, 2
            input.pipeInput("bad", event("e2", "secret boom text")); // classifier failure in the batch, offset 3
            lingerPasses();
        } finally {
            root.detachAppender(logged);
        }

        List<ILoggingEvent> warnings = logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
        assertThat(warnings).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
                m -> assertThat(m).contains("MISSING_ID", topics.input().name() + "-0 offset 1",
                        InvalidTextEventException.class.getName()),
                m -> assertThat(m).contains("NOT_WIRE_FORMAT", topics.input().name() + "-0 offset 2"),
                m -> assertThat(m).contains("CLASSIFIER_FAILURE", topics.input().name() + "-0 offset 3",
                        IllegalStateException.class.getName(), "simulated model failure"));
        assertThat(warnings).allSatisfy(e -> {
            assertThat(e.getThrowableProxy()).as("no stack trace at WARN").isNull();
            assertThat(e.getFormattedMessage()).doesNotContain("secret").doesNotContain("\n");
        });
        assertThat(output.readRecordsToList()).hasSize(1);
        assertThat(deadLetters.readRecordsToList()).hasSize(3);
    }

    private static byte[] framed(int schemaId, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(schemaId).put(body).array();
    }
}
