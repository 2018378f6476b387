package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.app.Cli;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.ControllerWindow;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code control status} as an operator runs it after {@code control set-threshold} and {@code control set-budget}:
 * it reads the settings back from the control topic (and the budget controller's window from the telemetry topic,
 * written here as the controller's instance writes it) on the real broker and registry, in text and in JSON.
 */
@Timeout(180)
class CliControlStatusE2ETest {

    private static final String FIXED = "deebert-status-fixed";
    private static final String BUDGETED = "deebert-status-budget";

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();
    private final SchemaRegistryServer registry = SharedInfrastructure.registry();

    @TempDir
    Path tempDir;

    @Test
    void statusShowsWhatSetThresholdAndSetBudgetWroteInTextAndJson() throws IOException {
        String control = "cli-status-" + UUID.randomUUID();
        String telemetry = control + "-telemetry";
        broker.createTopic(control, 1, true);
        broker.createTopic(telemetry, 2, false);
        Path config = writeConfig(control, telemetry);
        Instant before = Instant.now();

        // Given: a fixed setting for one model, a budget for another, and the controller's window in telemetry.
        assertThat(Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", FIXED,
                "--value", "0.35", "--reason", "peak traffic", "--by", "alice")).isZero();
        assertThat(Cli.commandLine().execute("control", "set-budget", "--config", config.toString(), "--model", BUDGETED,
                "--max-disagreement", "0.005", "--sample-rate", "0.02", "--min-threshold", "0.1",
                "--max-threshold", "0.8", "--reason", "budget trial", "--by", "bob")).isZero();
        writeControllerWindow(telemetry);

        // When: the operator asks for the status, as text and as JSON.
        Run text = run("control", "status", "--config", config.toString());
        Run json = run("control", "status", "--config", config.toString(), "--output", "json");
        Run unknown = run("control", "status", "--config", config.toString(), "--model", "never-set");

        // Then
        assertThat(text.code()).isZero();
        assertThat(text.out()).contains("Model " + FIXED + "\n  setting:    ENTROPY S=0.35 nats\n"
                + "  source:     control-topic\n  set by:     alice\n");
        assertThat(text.out()).contains("  reason:     peak traffic\n");
        assertThat(text.out()).contains("Model " + BUDGETED + "\n  setting:    ENTROPY S=0.1 nats\n")
                .contains("  set by:     bob\n").contains("  reason:     budget trial\n")
                .contains("  budget:     at most 0.005 of answers differ from the full model; S in [0.1, 0.8] nats;"
                        + " sample rate 0.02; window 1000 samples / 600000 ms; confidence 0.95\n")
                .contains("  controller: S=0.42 nats at 2026-03-01T12:05:00Z (status-e2e-instance); window 640"
                        + " samples, disagreement 0.0015, upper bound 0.0044\n");

        assertThat(json.code()).isZero();
        JsonNode models = new ObjectMapper().readTree(json.out()).get("models");
        assertThat(models).hasSize(2);
        JsonNode fixed = models.get(0);
        assertThat(fixed.get("model").asText()).isEqualTo(FIXED);
        assertThat(fixed.get("source").asText()).isEqualTo("control-topic");
        assertThat(fixed.get("setting").get("policy").asText()).isEqualTo("ENTROPY");
        assertThat(fixed.get("setting").get("threshold").asDouble()).isEqualTo(0.35);
        assertThat(fixed.get("set_by").asText()).isEqualTo("alice");
        assertThat(fixed.get("reason").asText()).isEqualTo("peak traffic");
        Instant setAt = Instant.parse(fixed.get("set_at").asText());
        assertThat(setAt).isBetween(before.minusSeconds(1), Instant.now());
        assertThat(text.out()).contains("  set at:     " + setAt + "\n");
        JsonNode budgeted = models.get(1);
        assertThat(budgeted.get("model").asText()).isEqualTo(BUDGETED);
        assertThat(budgeted.get("budget").get("max_disagreement").asDouble()).isEqualTo(0.005);
        assertThat(budgeted.get("budget").get("sample_rate").asDouble()).isEqualTo(0.02);
        assertThat(budgeted.get("budget").get("max_threshold").asDouble()).isEqualTo(0.8);
        assertThat(budgeted.get("controller").get("window_samples").asInt()).isEqualTo(640);
        assertThat(budgeted.get("controller").get("disagreement").asDouble()).isEqualTo(0.0015);
        assertThat(budgeted.get("controller").get("disagreement_upper_bound").asDouble()).isEqualTo(0.0044);
        assertThat(budgeted.get("controller").get("chosen_threshold").asDouble()).isEqualTo(0.42);

        assertThat(unknown.code()).isZero();
        assertThat(unknown.out()).isEqualTo("Model never-set\n  setting:    model card's recommended setting\n"
                + "  source:     model-card\n");
    }

    @Test
    void afterClearThresholdStatusShowsTheModelCardsSetting() throws IOException {
        String control = "cli-status-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control, control + "-telemetry-absent");

        assertThat(Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", FIXED,
                "--value", "0.2", "--reason", "r")).isZero();
        assertThat(Cli.commandLine().execute("control", "clear-threshold", "--config", config.toString(), "--model",
                FIXED)).isZero();
        Run json = run("control", "status", "--config", config.toString(), "--model", FIXED, "--output", "json");

        assertThat(json.code()).isZero();
        JsonNode only = new ObjectMapper().readTree(json.out()).get("models").get(0);
        assertThat(only.get("source").asText()).isEqualTo("model-card");
        assertThat(only.get("setting").isNull()).isTrue();
        assertThat(only.get("set_at").asText()).as("when the override was cleared").isNotEmpty();
    }

    @Test
    void aBudgetWithoutATelemetryTopicShowsNoDecisionYet() throws IOException {
        String control = "cli-status-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control, control + "-telemetry-absent");

        assertThat(Cli.commandLine().execute("control", "set-budget", "--config", config.toString(), "--model",
                BUDGETED, "--max-disagreement", "0.01", "--sample-rate", "0.1", "--max-threshold", "0.5",
                "--reason", "r")).isZero();
        Run text = run("control", "status", "--config", config.toString());

        assertThat(text.code()).isZero();
        assertThat(text.out()).contains("  controller: no decision in the telemetry topic yet\n");
    }

    @Test
    void withoutASettingsFileTheConnectionOptionsReachTheBrokerAndRegistry() throws IOException {
        // The default control topic (no settings file names another); a model of this run's own keeps it apart.
        String model = "deebert-status-flags-" + UUID.randomUUID();
        try {
            broker.createTopic("deebert-control", 1, true);
        } catch (IllegalStateException alreadyThere) {
            // Created by an earlier run of this test on the shared broker.
        }
        Path command = tempDir.resolve("client.properties");
        Files.writeString(command, "security.protocol=PLAINTEXT\nschema.registry.url=" + registry.url() + "\n");

        int set = Cli.commandLine().execute("control", "set-threshold", "--bootstrap-server", broker.bootstrapServers(),
                "--command-config", command.toString(), "--model", model, "--value", "0.15", "--reason", "flags");
        Run status = run("control", "status", "--bootstrap-server", broker.bootstrapServers(), "--schema-registry-url",
                registry.url(), "--model", model, "--output", "json");

        assertThat(set).isZero();
        assertThat(status.code()).isZero();
        JsonNode only = new ObjectMapper().readTree(status.out()).get("models").get(0);
        assertThat(only.get("source").asText()).isEqualTo("control-topic");
        assertThat(only.get("setting").get("threshold").asDouble()).isEqualTo(0.15);
        assertThat(only.get("reason").asText()).isEqualTo("flags");
    }

    private record Run(int code, String out) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        int code = Cli.commandLine().setOut(new PrintWriter(out, true)).execute(args);
        return new Run(code, out.toString());
    }

    /** One telemetry record as the instance running the budget controller writes it. */
    private void writeControllerWindow(String telemetry) {
        ExitTelemetry record = ExitTelemetry.newBuilder().setInstanceId("status-e2e-instance").setModelName(BUDGETED)
                .setModelVersion("1").setIntervalStart(Instant.parse("2026-03-01T12:04:00Z"))
                .setIntervalEnd(Instant.parse("2026-03-01T12:05:00Z")).setEvents(100).setEventsPerSecond(1.6)
                .setExitHistogram(List.of(60L, 40L)).setExpectedSaving(0.3).setThreshold(0.42)
                .setExitPolicy(ExitPolicyName.ENTROPY).setThresholdSource("control-topic").setDeadLetters(0)
                .setDeadLettersByCode(Map.of()).setShadowSamples(2).setMaxDisagreement(0.005)
                .setController(ControllerWindow.newBuilder().setWindowSamples(640).setDisagreement(0.0015)
                        .setDisagreementUpperBound(0.0044).setChosenThreshold(0.42).build())
                .build();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        SpecificAvroSerde<ExitTelemetry> serde =
                new SpecificAvroSerde<>(ExitTelemetry.class, new ConfluentSchemaRegistryClient(registry.url()), false);
        try (KafkaProducer<String, ExitTelemetry> producer =
                     new KafkaProducer<>(props, new StringSerializer(), serde.serializer())) {
            producer.send(new ProducerRecord<>(telemetry, "status-e2e-instance", record)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Path writeConfig(String control, String telemetry) throws IOException {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", registry.url());
        p.setProperty("topic.control", control);
        p.setProperty("topic.telemetry", telemetry);
        p.setProperty("topic.input", control + "-input");
        p.setProperty("model.dir", tempDir.resolve("no-model").toString());
        Path file = tempDir.resolve("cli.properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            p.store(out, "e2e CLI settings");
        }
        return file;
    }
}
