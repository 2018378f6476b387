package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.CommittedTopicReader;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ExpectedSaving;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's {@code /metrics}, {@code /health/*} and exit-telemetry topic, on the real parts the other
 * end-to-end tests use: the service assembled by {@code StreamsService} from the default settings (HTTP on a
 * free port), the committed model, real held-out emails, a real broker and the real registry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class ObservabilityE2ETest {

    /** Longest wait for outputs, telemetry records or a health change (the model runs on two shared CPU cores). */
    private static final Duration WAIT = Duration.ofSeconds(180);

    @TempDir
    Path tempDir;

    private final HttpClient http = HttpClient.newHttpClient();
    private ReferenceEmails references;
    private ClassifierPool pool;
    private ExitSetting recommended;

    @BeforeAll
    void loadModel() {
        references = ReferenceEmails.load();
        pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
        recommended = pool.recommendedSetting();
    }

    @AfterAll
    void closeModel() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void metricsHealthAndTelemetryDescribeWhatTheServiceClassified() throws Exception {
        List<Email> emails = references.spread(40);
        try (RunningClassifier app = RunningClassifier.start("obs", pool, tempDir)) {
            // Given: the service is RUNNING, so it is live and ready.
            HttpResponse<String> ready = get(app, "/health/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"status\":\"UP\"").contains("\"kafkaStreamsState\":\"RUNNING\"");
            assertThat(get(app, "/health/live").statusCode()).isEqualTo(200);

            // When: 40 emails and one record that is not in the wire format arrive.
            Map<String, TextEvent> events = new LinkedHashMap<>();
            for (Email e : emails) {
                events.put("obs/" + e.id(), RunningClassifier.event("obs/" + e.id(), e.text()));
            }
            app.produce(events.values());
            app.produceRaw("bad/not-wire-format", "plain bytes, no registry frame".getBytes(StandardCharsets.UTF_8));
            app.output().awaitKeys(events.keySet(), WAIT);
            app.deadLetters().awaitKeys(Set.of("bad/not-wire-format"), WAIT);

            // Then: /metrics counts every classified event once across the layers, and the dead letter by its code.
            String metrics = get(app, "/metrics").body();
            double exits = 0;
            for (int layer = 1; layer <= pool.numLayers(); layer++) {
                exits += value(metrics, "deebert_exits_total{layer=\"" + layer + "\"}");
            }
            assertThat(exits).isEqualTo(emails.size());
            assertThat(value(metrics, "deebert_events_classified_total")).isEqualTo(emails.size());
            assertThat(value(metrics, "deebert_dead_letters_total{code=\"" + DeadLetterCode.NOT_WIRE_FORMAT + "\"}")).isEqualTo(1);
            assertThat(value(metrics, "deebert_exit_threshold_nats")).isEqualTo(recommended.threshold());
            // The card's per-label S, one series per label, when its setting is label-conditional (NaN otherwise).
            for (int c = 0; c < pool.labels().size(); c++) {
                double expected = recommended.labelThresholds() == null ? Double.NaN : recommended.labelThresholds().get(c);
                assertThat(value(metrics, "deebert_exit_label_threshold_nats{label=\"" + pool.labels().get(c) + "\"}"))
                        .as("S for label %s", pool.labels().get(c)).isEqualTo(expected);
            }
            assertThat(value(metrics, "deebert_exit_threshold_source{source=\"model_card\"}")).isEqualTo(1);
            assertThat(value(metrics, "deebert_batch_size_sum")).isEqualTo(emails.size());
            assertThat(value(metrics, "deebert_event_latency_seconds_count")).isEqualTo(emails.size());
            assertThat(value(metrics, "deebert_health_degraded")).isZero();
            // Every classified event counted once under the label it was answered, and the model served.
            double labeled = 0;
            for (String label : pool.labels()) {
                labeled += value(metrics, "deebert_labels_total{label=\"" + label + "\"}");
            }
            assertThat(labeled).isEqualTo(emails.size());
            assertThat(value(metrics, "deebert_model_info{name=\"" + pool.modelName() + "\",version=\""
                    + pool.modelVersion() + "\"}")).isEqualTo(1);
            assertThat(value(metrics, "deebert_layers_run_total")).isBetween((double) emails.size(),
                    (double) emails.size() * pool.numLayers());
            assertThat(metrics).as("a Kafka Streams client metric").containsPattern("(?m)^kafka_stream_thread_\\w+");

            // And: the telemetry topic's records of this instance add up to the same exits, interval by interval.
            String instance = app.service().telemetryInstanceId();
            Deserializer<ExitTelemetry> decoder = app.topics().telemetry().valueSerde().deserializer();
            try (CommittedTopicReader telemetry = new CommittedTopicReader(app.bootstrapServers(),
                    app.topics().telemetry().name())) {
                List<ExitTelemetry> records = awaitTelemetry(telemetry, instance, decoder,
                        all -> all.stream().mapToLong(ExitTelemetry::getEvents).sum() == emails.size());
                ExitTelemetry busy = records.stream().filter(t -> t.getEvents() > 0).findFirst().orElseThrow();
                assertThat(busy.getModelName()).isEqualTo(pool.modelName());
                assertThat(busy.getModelVersion()).isEqualTo(pool.modelVersion());
                assertThat(busy.getInstanceId()).isEqualTo(instance);
                assertThat(busy.getExitHistogram()).hasSize(pool.numLayers());
                long[] histogram = busy.getExitHistogram().stream().mapToLong(Long::longValue).toArray();
                assertThat(busy.getEvents()).isEqualTo(java.util.Arrays.stream(histogram).sum()).isPositive();
                assertThat(busy.getExpectedSaving()).isEqualTo(ExpectedSaving.expectedSaving(histogram));
                assertThat(busy.getThreshold()).isEqualTo(recommended.threshold());
                assertThat(busy.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
                assertThat(busy.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                assertThat(records.stream().mapToLong(ExitTelemetry::getDeadLetters).sum()).isLessThanOrEqualTo(1);
                for (int i = 1; i < records.size(); i++) {
                    assertThat(records.get(i).getIntervalStart()).isEqualTo(records.get(i - 1).getIntervalEnd());
                }
            }
        }
    }

    @Test
    void anUndecodableControlRecordMakesTheServiceDegradedButStillReadyUntilAControlRecordDecodes() throws Exception {
        try (RunningClassifier app = RunningClassifier.start("obs-degraded", pool, tempDir)) {
            // Given: a control record in the wire format whose schema id the registry never issued
            // (as after a registry that lost its schemas).
            byte[] unknownSchemaId = ByteBuffer.allocate(9).put((byte) 0).putInt(1_999_999_999).putInt(0).array();
            app.produceControlRaw(pool.modelName(), unknownSchemaId);

            // Then: still ready (200), but DEGRADED with the reason, and counted.
            HttpResponse<String> degraded = awaitReady(app, body -> body.contains("\"status\":\"DEGRADED\""));
            assertThat(degraded.statusCode()).isEqualTo(200);
            assertThat(degraded.body()).contains(app.names().control()).contains("UNKNOWN_SCHEMA_ID");
            String metrics = get(app, "/metrics").body();
            assertThat(value(metrics, "deebert_control_records_undecodable_total")).isEqualTo(1);
            assertThat(value(metrics, "deebert_health_degraded")).isEqualTo(1);
            assertThat(value(metrics, "deebert_exit_threshold_nats")).isEqualTo(recommended.threshold());

            // When: a valid control record for the model follows, the control topic is readable again.
            app.produceControl(pool.modelName(), ThresholdControl.newBuilder().setThreshold(0.2)
                    .setPolicy(ExitPolicyName.ENTROPY).setModelName(pool.modelName()).setChangedBy("e2e-test")
                    .setReason("recovery").setChangedAt(Instant.now()).build());
            HttpResponse<String> up = awaitReady(app, body -> body.contains("\"status\":\"UP\""));
            assertThat(up.statusCode()).isEqualTo(200);
            app.awaitStoredSetting(s -> s != null && s.threshold() == 0.2, "S = 0.2");
            String after = get(app, "/metrics").body();
            assertThat(value(after, "deebert_health_degraded")).isZero();
            assertThat(value(after, "deebert_control_records_undecodable_total")).isEqualTo(1);
            assertThat(value(after, "deebert_exit_threshold_nats")).isEqualTo(0.2);
            assertThat(value(after, "deebert_exit_threshold_source{source=\"control_topic\"}")).isEqualTo(1);
        }
    }

    private HttpResponse<String> get(RunningClassifier app, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(app.httpBase() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> awaitReady(RunningClassifier app, Predicate<String> body) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            last = get(app, "/health/ready");
            if (body.test(last.body())) {
                return last;
            }
            Thread.sleep(100);
        }
        return fail("/health/ready did not change within " + WAIT.toSeconds() + " s; last answer " + last.body());
    }

    /** Reads the telemetry topic until this instance's records, in order, satisfy {@code done}. */
    private static List<ExitTelemetry> awaitTelemetry(CommittedTopicReader reader, String instance,
                                                      Deserializer<ExitTelemetry> decoder, Predicate<List<ExitTelemetry>> done) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<ExitTelemetry> records = List.of();
        while (System.nanoTime() < deadline) {
            records = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : reader.readAvailable().getOrDefault(instance, List.of())) {
                records.add(decoder.deserialize(r.topic(), r.headers(), r.value()));
            }
            if (done.test(records)) {
                return records;
            }
        }
        return fail("telemetry of " + instance + " incomplete after " + WAIT.toSeconds() + " s: " + records);
    }

    /** @return the value of the Prometheus sample line {@code series} (name and labels exactly as printed) */
    private static double value(String prometheusText, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)").matcher(prometheusText);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in /metrics");
        }
        return Double.parseDouble(m.group(1));
    }
}
