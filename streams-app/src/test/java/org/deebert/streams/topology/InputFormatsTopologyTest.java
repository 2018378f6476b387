package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The topology with each input format ({@code input.format}) against {@link TopologyTestDriver} and a fake
 * classifier: ids and event times from the mapping or the record, provenance and {@code output.include.text} in
 * the output, the new dead-letter codes with the original bytes and headers, and the existing validation.
 */
class InputFormatsTopologyTest {

    private static final Duration LINGER = Duration.ofMillis(5);
    private static final Instant TS = Instant.ofEpochMilli(1_000);

    private TopologyHarness harness;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<String, ClassifiedEvent> output;
    private TestOutputTopic<byte[], byte[]> deadLetters;

    /**
     * at_least_once: under exactly-once TopologyTestDriver discards the dead letters of deserialization failures
     * (see ClassifierTopologyTest#undecodableBytesGoToTheDeadLetterTopicWithTheirCodeAndOriginalBytes); the
     * end-to-end tests cover them under exactly-once on a real broker.
     */
    private void start(Map<String, String> settings, int maxTextChars) {
        InputSettings in = InputSettings.parse(settings::get, k -> "ENV_" + k);
        harness = new TopologyHarness("input-formats-test", in);
        driver = harness.start(new TopologySettings(32, LINGER, maxTextChars, HeaderForwarding.DEFAULTS, in.includeText()),
                new ClassifierPool(FakeClassifier::new), StreamsConfig.AT_LEAST_ONCE, null);
        input = harness.bytesKeyedInput();
        output = harness.output();
        deadLetters = harness.deadLetters();
    }

    @AfterEach
    void close() {
        if (harness != null) {
            harness.close();
        }
    }

    private void pipe(String key, String value, Headers headers) {
        input.pipeInput(new TestRecord<>(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8), headers, TS));
    }

    private static String header(Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void jsonValuesAreClassifiedWithIdsFromTheMappingTheKeyOrTheRecordAndProvenanceWithoutTheText() {
        start(Map.of("input.format", "json", "input.field.text", "post.body", "input.field.event_time", "ts"), 100);
        pipe("k1", "{\"post\": {\"body\": \"buy cheap pills\"}, \"ts\": 1700000000123}", null);
        pipe(null, "{\"post\": {\"body\": \"see you at lunch\"}}", null);
        driver.advanceWallClockTime(LINGER.multipliedBy(200));

        List<TestRecord<String, ClassifiedEvent>> out = output.readRecordsToList();
        assertThat(out).hasSize(2);
        ClassifiedEvent first = out.get(0).value();
        assertThat(out.get(0).key()).isEqualTo("k1");
        assertThat(first.getId()).isEqualTo("k1");
        assertThat(first.getLabel()).isEqualTo(new FakeClassifier().labels().get(1));
        assertThat(first.getText()).as("output.include.text defaults to false for json").isNull();
        assertThat(first.getTextPair()).isNull();
        assertThat(first.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
        String topic = harness.topics().input().name();
        assertThat(first.getInputTopic()).isEqualTo(topic);
        assertThat(first.getInputPartition()).isZero();
        assertThat(first.getInputOffset()).isZero();
        ClassifiedEvent second = out.get(1).value();
        assertThat(second.getId()).as("no key: topic-partition-offset").isEqualTo(topic + "-0-1");
        assertThat(second.getEventTime()).as("no event_time mapped: the record timestamp").isEqualTo(TS);
        assertThat(second.getInputOffset()).isEqualTo(1L);
    }

    @Test
    void badJsonRecordsAreDeadLetteredWithTheNewCodesAndTheirBytesAndHeadersUnchanged() {
        start(Map.of("input.format", "json", "input.field.text", "post.body", "input.field.id", "id"), 10);
        Headers headers = new RecordHeaders().add("trace-id", "t-1".getBytes(StandardCharsets.UTF_8));
        Map<String, String> values = new java.util.LinkedHashMap<>();
        values.put("not-json", "{\"post\": ");
        values.put("array", "[1, 2]");
        values.put("missing", "{\"id\": \"m\", \"post\": {}}");
        values.put("no-id", "{\"post\": {\"body\": \"hello\"}}");
        values.put("wrong-type", "{\"id\": \"w\", \"post\": {\"body\": 42}}");
        values.put("empty", "{\"id\": \"e\", \"post\": {\"body\": \" \\u200b \"}}");
        values.put("too-long", "{\"id\": \"l\", \"post\": {\"body\": \"eleven char\"}}");
        values.forEach((k, v) -> pipe(k, v, headers));
        driver.advanceWallClockTime(LINGER.multipliedBy(200));

        assertThat(output.isEmpty()).isTrue();
        Map<String, DeadLetterCode> expected = Map.of("not-json", DeadLetterCode.UNDECODABLE_JSON,
                "array", DeadLetterCode.UNDECODABLE_JSON, "missing", DeadLetterCode.FIELD_MISSING,
                "no-id", DeadLetterCode.FIELD_MISSING, "wrong-type", DeadLetterCode.FIELD_TYPE,
                "empty", DeadLetterCode.EMPTY_TEXT, "too-long", DeadLetterCode.TEXT_TOO_LONG);
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).hasSize(values.size());
        for (TestRecord<byte[], byte[]> r : dead) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            assertThat(header(r.headers(), DeadLetterCode.HEADER)).as(key).isEqualTo(expected.get(key).name());
            assertThat(r.value()).as(key).isEqualTo(values.get(key).getBytes(StandardCharsets.UTF_8));
            assertThat(header(r.headers(), "trace-id")).as(key).isEqualTo("t-1");
        }
        TestRecord<byte[], byte[]> missing = dead.stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals("missing")).findFirst().orElseThrow();
        assertThat(header(missing.headers(), "__streams.errors.message")).contains("'post.body'");
    }

    @Test
    void plainStringsAreClassifiedKeyedByTheirIdWithTheTextWhenAskedFor() {
        start(Map.of("input.format", "string", "output.include.text", "true"), 100);
        pipe("s-1", "buy now", null);
        input.pipeInput(new TestRecord<>("s-2".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xff, 'x'}, null, TS));
        pipe("s-3", "", null);
        driver.advanceWallClockTime(LINGER.multipliedBy(200));

        TestRecord<String, ClassifiedEvent> out = output.readRecord();
        assertThat(out.key()).isEqualTo("s-1");
        assertThat(out.value().getId()).isEqualTo("s-1");
        assertThat(out.value().getText()).isEqualTo("buy now");
        assertThat(output.isEmpty()).isTrue();
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r.headers(), DeadLetterCode.HEADER))
                .containsExactly(DeadLetterCode.UNDECODABLE_TEXT.name(), DeadLetterCode.EMPTY_TEXT.name());
    }

    @Test
    void textEventsKeepTheirTextAndGainProvenance() {
        start(Map.of(), 100);
        TestInputTopic<String, TextEvent> events = harness.input();
        events.pipeInput("k", TextEvent.newBuilder().setId("e-1").setText("hello").setEventTime(TS).build());
        driver.advanceWallClockTime(LINGER.multipliedBy(200));
        ClassifiedEvent out = output.readValue();
        assertThat(out.getId()).isEqualTo("e-1");
        assertThat(out.getText()).isEqualTo("hello");
        assertThat(out.getInputTopic()).isEqualTo(harness.topics().input().name());
        assertThat(out.getInputPartition()).isZero();
        assertThat(out.getInputOffset()).isZero();
    }
}
