package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.Cli;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code control history} as an operator runs it: the service creates its topics ({@code topics.create}), the
 * control topic with {@code min.compaction.lag.ms} of 7 days, then three {@code control set-threshold} and one
 * {@code control clear-threshold} go through the real CLI, broker and registry, and {@code control history} lists
 * all four in the order they were written, in text and in JSON.
 */
@Timeout(240)
class CliControlHistoryE2ETest {

    private static final String MODEL = "deebert-history-e2e";
    private static final String OTHER = "deebert-history-other";
    private static final long SEVEN_DAYS_MS = 604_800_000L;

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();
    private final SchemaRegistryServer registry = SharedInfrastructure.registry();

    @TempDir
    Path tempDir;

    @Test
    void historyListsEverySetAndTheClearOfAModelInOrderOnTheTopicTheServiceCreated() throws Exception {
        // Given: the service's topics, created by the service itself as topics.create=true creates them.
        String unique = "cli-history-" + UUID.randomUUID().toString().substring(0, 8);
        String control = unique + "-control";
        createTopicsThroughTheService(unique, control);

        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, control);
        Config config = broker.admin().describeConfigs(List.of(resource)).all().get().get(resource);
        assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        assertThat(Long.parseLong(config.get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG).value()))
                .as("min.compaction.lag.ms of the control topic the service created").isEqualTo(SEVEN_DAYS_MS);

        // And: three settings and a clear for one model, one setting for another, all through the CLI.
        Path cli = writeConfig(control);
        Instant before = Instant.now();
        set(cli, MODEL, "0.3", "--reason", "peak traffic", "--by", "alice");
        set(cli, OTHER, "0.5", "--reason", "another model", "--by", "dave");
        set(cli, MODEL, "0.2", "--layer-thresholds", "0.1,0.2", "--reason", "per layer", "--by", "bob");
        set(cli, MODEL, "0.4", "--policy", "DIVERGENCE", "--reason", "try divergence", "--by", "carol");
        assertThat(Cli.commandLine().execute("control", "clear-threshold", "--config", cli.toString(), "--model",
                MODEL)).isZero();

        // When
        Run text = run("control", "history", "--config", cli.toString(), "--model", MODEL);
        Run json = run("control", "history", "--config", cli.toString(), "--model", MODEL, "--output", "json");
        Run limited = run("control", "history", "--config", cli.toString(), "--limit", "1");

        // Then: the four records of MODEL, oldest first, and nothing of OTHER.
        assertThat(text.code()).isZero();
        List<String> lines = text.out().lines().toList();
        assertThat(lines).hasSize(8);
        assertThat(lines.get(0)).isEqualTo("Model " + MODEL + ": 4 records, oldest first");
        assertThat(lines.get(1)).matches("  \\S+Z  offset 0  ENTROPY S=0\\.3 nats");
        assertThat(lines.get(2)).isEqualTo("      by alice (operator): peak traffic");
        assertThat(lines.get(3)).matches("  \\S+Z  offset 2  ENTROPY S=0\\.2 nats, per layer \\[0\\.1, 0\\.2\\]");
        assertThat(lines.get(4)).isEqualTo("      by bob (operator): per layer");
        assertThat(lines.get(5)).matches("  \\S+Z  offset 3  DIVERGENCE S=0\\.4 nats");
        assertThat(lines.get(6)).isEqualTo("      by carol (operator): try divergence");
        assertThat(lines.get(7)).matches("  \\S+Z  offset 4  cleared \\(tombstone\\): back to the model card's setting");
        assertThat(text.out()).doesNotContain(OTHER);

        assertThat(json.code()).isZero();
        JsonNode models = new ObjectMapper().readTree(json.out()).get("models");
        assertThat(models).hasSize(1);
        assertThat(models.get(0).get("model").asText()).isEqualTo(MODEL);
        JsonNode records = models.get(0).get("records");
        assertThat(records.findValuesAsText("kind")).containsExactly("set", "set", "set", "cleared");
        assertThat(records.findValues("offset").stream().map(JsonNode::asLong).toList()).containsExactly(0L, 2L, 3L, 4L);
        assertThat(records.get(0).get("source").asText()).isEqualTo("operator");
        assertThat(records.get(0).get("value").get("threshold").asDouble()).isEqualTo(0.3);
        assertThat(records.get(0).get("value").get("changed_by").asText()).isEqualTo("alice");
        assertThat(records.get(1).get("value").get("layer_thresholds").toString()).isEqualTo("[0.1,0.2]");
        assertThat(records.get(2).get("value").get("policy").asText()).isEqualTo("DIVERGENCE");
        assertThat(records.get(2).get("value").get("reason").asText()).isEqualTo("try divergence");
        assertThat(records.get(3).get("value").isNull()).isTrue();
        Instant first = Instant.parse(records.get(0).get("timestamp").asText());
        Instant last = Instant.parse(records.get(3).get("timestamp").asText());
        assertThat(first).isBetween(before.minusSeconds(1), last);
        assertThat(text.out()).contains("  " + first + "  offset 0  ");

        // And: --limit 1 keeps the newest record of each model.
        assertThat(limited.code()).isZero();
        assertThat(limited.out()).contains("Model " + MODEL + ": newest 1 of 4 records, oldest first\n")
                .contains("offset 4  cleared (tombstone)")
                .contains("Model " + OTHER + ": 1 record, oldest first\n").doesNotContain("offset 0");
    }

    @Test
    void aMissingControlTopicFailsWithExitOneAndIsNotCreated() throws Exception {
        String control = "cli-history-absent-" + UUID.randomUUID();
        Path cli = writeConfig(control);

        Run history = run("control", "history", "--config", cli.toString());
        Run badLimit = run("control", "history", "--config", cli.toString(), "--limit", "0");

        assertThat(history.code()).isEqualTo(1);
        assertThat(badLimit.code()).isEqualTo(2);
        assertThat(broker.admin().listTopics().names().get()).doesNotContain(control);
    }

    /** Builds the service as {@code run --create-topics} does (without starting it): it creates the topics. */
    private void createTopicsThroughTheService(String unique, String control) throws InterruptedException {
        ReferenceEmails references = ReferenceEmails.load();
        AppSettings settings = AppSettings.withDefaults(Map.ofEntries(
                Map.entry("application.id", unique),
                Map.entry("bootstrap.servers", broker.bootstrapServers()),
                Map.entry("schema.registry.url", registry.url()),
                Map.entry("topic.input", unique + "-in"),
                Map.entry("topic.output", unique + "-out"),
                Map.entry("topic.control", control),
                Map.entry("topic.dead.letter", unique + "-dlq"),
                Map.entry("topic.telemetry", unique + "-telemetry"),
                Map.entry("topics.partitions", "1"),
                Map.entry("kafka.state.dir", tempDir.resolve("state").toString())));
        try (ClassifierPool pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
             StreamsService service = StreamsService.create(settings, true, pool)) {
            assertThat(service.topics().control().name()).isEqualTo(control);
        }
    }

    private static void set(Path cli, String model, String value, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("control", "set-threshold", "--config", cli.toString(),
                "--model", model, "--value", value));
        args.addAll(List.of(more));
        assertThat(Cli.commandLine().execute(args.toArray(String[]::new))).isZero();
    }

    private record Run(int code, String out) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        int code = Cli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(new StringWriter(), true))
                .execute(args);
        return new Run(code, out.toString());
    }

    private Path writeConfig(String control) throws IOException {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", registry.url());
        p.setProperty("topic.control", control);
        p.setProperty("topic.input", control + "-input");
        // No model card here: the layer count is then checked by the service, as on an operator's machine.
        p.setProperty("model.dir", tempDir.resolve("no-model").toString());
        Path file = Files.createTempFile(tempDir, "cli", ".properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            p.store(out, "e2e CLI settings");
        }
        return file;
    }
}
