package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.topology.ClassifierMetrics;
import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meters and the HTTP endpoint on a Kafka Streams instance that is created but never started (no
 * broker needed): its client metrics exist from construction, and the threshold store cannot be queried,
 * so the model card's S is in force. One instance for the class (closing one that cannot reach its broker
 * takes seconds); fresh meters for each test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceMetricsTest {

    @TempDir
    static Path stateDir;

    private Map<MetricName, Metric> classifierSensors;
    private HealthState health;
    private KafkaStreams streams;
    private ServiceMetrics metrics;

    @BeforeAll
    void createStreams() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "service-metrics-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        streams = new KafkaStreams(new Topology().addSource("in", "in"), p);
    }

    @AfterAll
    void closeStreams() {
        streams.close();
    }

    @BeforeEach
    void bind() {
        classifierSensors = new HashMap<>();
        health = new HealthState();
        metrics = new ServiceMetrics(health);
        metrics.bind(streams, new ClassifierTotals(() -> classifierSensors, 3),
                new ExitSettingProbe(streams, "spam", ExitSetting.entropy(0.1417)), 3, List.of("ham", "spam"));
    }

    @AfterEach
    void close() {
        metrics.close();
    }

    @Test
    void prometheusTextHasEveryNamedSeries() {
        sensor("exit-total", Map.of(ClassifierMetrics.EXIT_LAYER_TAG, "1"), 4);
        sensor("exit-total", Map.of(ClassifierMetrics.EXIT_LAYER_TAG, "3"), 2);
        sensor("classified-total", Map.of(), 6);
        metrics.batchClassified(6, 0.120);
        metrics.eventClassified(0.2);
        metrics.deadLettered(DeadLetterCode.NOT_WIRE_FORMAT);

        String text = metrics.scrape();

        assertThat(value(text, "deebert_exits_total{layer=\"1\"}")).isEqualTo(4);
        assertThat(value(text, "deebert_exits_total{layer=\"2\"}")).isZero();
        assertThat(value(text, "deebert_exits_total{layer=\"3\"}")).isEqualTo(2);
        assertThat(value(text, "deebert_events_classified_total")).isEqualTo(6);
        assertThat(text).contains("deebert_events_per_second ");
        assertThat(value(text, "deebert_exit_threshold_nats")).isEqualTo(0.1417);
        assertThat(value(text, "deebert_exit_label_threshold_nats{label=\"spam\"}")).isNaN();
        assertThat(value(text, "deebert_exit_threshold_source{source=\"model_card\"}")).isEqualTo(1);
        assertThat(value(text, "deebert_exit_threshold_source{source=\"control_topic\"}")).isZero();
        assertThat(value(text, "deebert_batch_size_count")).isEqualTo(1);
        assertThat(value(text, "deebert_batch_size_sum")).isEqualTo(6);
        assertThat(value(text, "deebert_classifier_batch_latency_seconds_count")).isEqualTo(1);
        assertThat(text).contains("deebert_classifier_batch_latency_seconds_bucket{le=\"0.25\"} 1");
        assertThat(value(text, "deebert_event_latency_seconds_count")).isEqualTo(1);
        assertThat(value(text, "deebert_dead_letters_total{code=\"NOT_WIRE_FORMAT\"}")).isEqualTo(1);
        assertThat(value(text, "deebert_dead_letters_total{code=\"CLASSIFIER_FAILURE\"}")).isZero();
        assertThat(value(text, "deebert_control_records_undecodable_total")).isZero();
        assertThat(value(text, "deebert_health_degraded")).isZero();
        // Kafka Streams' own client metrics, through Micrometer's binder; our sensors only under deebert_*.
        assertThat(text).containsPattern("(?m)^kafka_stream_");
        assertThat(text).doesNotContain("kafka_deebert");
    }

    @Test
    void modelInfoLabelCountsAndLayersRunAreExported() {
        sensor("exit-total", Map.of(ClassifierMetrics.EXIT_LAYER_TAG, "1"), 4);
        sensor("exit-total", Map.of(ClassifierMetrics.EXIT_LAYER_TAG, "3"), 2);
        metrics.describeModel("deebert-spam", "7");
        metrics.eventLabeled("spam");
        metrics.eventLabeled("spam");
        metrics.eventLabeled("ham");

        String text = metrics.scrape();

        assertThat(value(text, "deebert_model_info{name=\"deebert-spam\",version=\"7\"}")).isEqualTo(1);
        assertThat(value(text, "deebert_labels_total{label=\"spam\"}")).isEqualTo(2);
        assertThat(value(text, "deebert_labels_total{label=\"ham\"}")).isEqualTo(1);
        assertThat(value(text, "deebert_model_layers")).isEqualTo(3);
        // The Kafka Streams instance here is never started: not ready.
        assertThat(value(text, "deebert_health_ready")).isZero();
        // 4 events left at layer 1 and 2 at layer 3: 4 * 1 + 2 * 3 layers computed.
        assertThat(value(text, "deebert_layers_run_total")).isEqualTo(10);
    }

    @Test
    void thePrecisionAndWhyAreExported() {
        metrics.describePrecision("bfloat16", "self-check-passed");

        assertThat(value(metrics.scrape(), "deebert_precision_info{precision=\"bfloat16\",reason=\"self-check-passed\"}"))
                .isEqualTo(1);
    }

    @Test
    void everyLabelOfTheModelIsListedBeforeItsFirstEvent() {
        String text = metrics.scrape();

        assertThat(value(text, "deebert_labels_total{label=\"ham\"}")).isZero();
        assertThat(value(text, "deebert_labels_total{label=\"spam\"}")).isZero();
    }

    @Test
    void labelConditionalThresholdsInForceAreOneGaugePerLabel() {
        // A model card whose setting is label-conditional: ham must be sure (S = 0.02), spam may leave at S = 0.7.
        ExitSetting perLabel = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.1, List.of(0.02, 0.7));
        try (ServiceMetrics own = new ServiceMetrics(new HealthState())) {
            own.bind(streams, new ClassifierTotals(() -> classifierSensors, 3), new ExitSettingProbe(streams, "spam", perLabel),
                    3, List.of("ham", "spam"));
            String text = own.scrape();

            assertThat(value(text, "deebert_exit_label_threshold_nats{label=\"ham\"}")).isEqualTo(0.02);
            assertThat(value(text, "deebert_exit_label_threshold_nats{label=\"spam\"}")).isEqualTo(0.7);
            assertThat(value(text, "deebert_exit_threshold_nats")).isEqualTo(0.1);
        }
    }

    @Test
    void prometheusTextHasJvmMemoryAndGcSeries() {
        String text = metrics.scrape();

        // Heap in use and its ceiling, per pool, so that memory pressure shows before the process dies.
        assertThat(text).containsPattern("(?m)^jvm_memory_used_bytes\\{area=\"heap\",id=\"[^\"]+\"\\} [0-9.E+-]+$");
        assertThat(text).containsPattern("(?m)^jvm_memory_max_bytes\\{area=\"heap\",");
        assertThat(text).containsPattern("(?m)^jvm_memory_committed_bytes\\{area=\"heap\",");
        assertThat(text).containsPattern("(?m)^jvm_gc_[a-z_]+(\\{[^}]*\\})? ");
        assertThat(text).containsPattern("(?m)^jvm_threads_live_threads ");
        assertThat(text).containsPattern("(?m)^process_uptime_seconds ");
        assertThat(text).containsPattern("(?m)^system_cpu_count ");
    }

    @Test
    void theControllersLabelGuardFiguresAreGaugesWhereItRuns() {
        // No budget in force (the model card's S), no controller here: the guard's series exist, as NaN.
        String idle = metrics.scrape();
        assertThat(value(idle, "deebert_budget_max_recall_loss")).isNaN();
        assertThat(value(idle, "deebert_controller_protected_samples")).isNaN();
        assertThat(value(idle, "deebert_controller_protected_recall_loss")).isNaN();
        assertThat(value(idle, "deebert_controller_protected_recall_loss_upper_bound")).isNaN();

        metrics.controllerDecided(new ControllerStatus(400, 0.01, 0.025, 0.3, 0.05,
                new ControllerStatus.Guard("spam", 0.01, 120, 0.0, 0.022)));
        String running = metrics.scrape();
        assertThat(value(running, "deebert_controller_active")).isEqualTo(1);
        assertThat(value(running, "deebert_controller_disagreement_upper_bound")).isEqualTo(0.025);
        assertThat(value(running, "deebert_controller_protected_samples")).isEqualTo(120);
        assertThat(value(running, "deebert_controller_protected_recall_loss")).isZero();
        assertThat(value(running, "deebert_controller_protected_recall_loss_upper_bound")).isEqualTo(0.022);

        // A budget without a guard: the controller's own series, the guard's NaN.
        metrics.controllerDecided(new ControllerStatus(400, 0.01, 0.025, 0.3, 0.05));
        assertThat(value(metrics.scrape(), "deebert_controller_protected_recall_loss_upper_bound")).isNaN();
        assertThat(value(metrics.scrape(), "deebert_controller_window_samples")).isEqualTo(400);
    }

    @Test
    void anUndecodableControlRecordDegradesUntilOneDecodes() {
        metrics.controlRecordUndecodable("control", 0, 7, "UNKNOWN_SCHEMA_ID");

        assertThat(value(metrics.scrape(), "deebert_control_records_undecodable_total")).isEqualTo(1);
        assertThat(value(metrics.scrape(), "deebert_health_degraded")).isEqualTo(1);
        assertThat(health.degraded()).isTrue();

        metrics.controlRecordDecoded();
        assertThat(value(metrics.scrape(), "deebert_health_degraded")).isZero();
        assertThat(value(metrics.scrape(), "deebert_control_records_undecodable_total")).isEqualTo(1);
    }

    @Test
    void theHttpEndpointServesMetricsAndHealth() throws Exception {
        try (ObservabilityServer server = ObservabilityServer.start("127.0.0.1", 0, metrics::scrape, health)) {
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> m = get(client, server.port(), "/metrics");
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(m.body()).contains("deebert_events_classified_total");

            assertThat(get(client, server.port(), "/health/live").statusCode()).isEqualTo(200);
            HttpResponse<String> notReady = get(client, server.port(), "/health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("\"status\":\"NOT_READY\"");

            health.onStateChange(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
            metrics.controlRecordUndecodable("control", 0, 7, "UNKNOWN_SCHEMA_ID");
            HttpResponse<String> degraded = get(client, server.port(), "/health/ready");
            assertThat(degraded.statusCode()).isEqualTo(200);
            assertThat(degraded.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(degraded.body()).startsWith("{\"status\":\"DEGRADED\",\"kafkaStreamsState\":\"RUNNING\",\"reason\":")
                    .contains("offset 7").contains("UNKNOWN_SCHEMA_ID");
        }
    }

    private static HttpResponse<String> get(HttpClient client, int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void sensor(String name, Map<String, String> extraTags, double value) {
        Map<String, String> tags = new HashMap<>(extraTags);
        tags.put("thread-id", "t1");
        tags.put("task-id", "0_0");
        classifierSensors.put(new MetricName(name, ClassifierMetrics.GROUP, "", tags), ClassifierTotalsTest.metric(value));
    }

    /** @return the value of the sample line {@code series} (name plus labels exactly as printed) */
    static double value(String prometheusText, String series) {
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
            }
        }
        throw new AssertionError("no series " + series + " in:\n" + prometheusText);
    }
}
