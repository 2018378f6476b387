package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.deebert.streams.app.Cli;
import org.deebert.streams.e2e.support.CommittedTopicReader;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.SchemaRegistryException;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code control} subcommands as an operator runs them (a settings file naming the broker, the
 * registry and the topics), checked by reading the control topic back through the registry.
 */
@Timeout(180)
class CliControlCommandE2ETest {

    private static final String MODEL = "deebert-cli-test-model";

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();
    private final SchemaRegistryServer registry = SharedInfrastructure.registry();

    @TempDir
    Path tempDir;

    @Test
    void setThresholdWritesAThresholdControlKeyedByTheModelAndClearThresholdATombstone() throws IOException {
        String control = "cli-control-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control);

        // When: an operator sets S, then clears the override.
        int set = Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", MODEL,
                "--value", "0.25", "--policy", "ENTROPY", "--reason", "e2e audit reason", "--by", "e2e-operator");
        int clear = Cli.commandLine().execute("control", "clear-threshold", "--config", config.toString(), "--model", MODEL);

        // Then: the control topic holds the message, then a tombstone, both keyed by the model name.
        assertThat(set).isZero();
        assertThat(clear).isZero();
        List<ConsumerRecord<byte[], byte[]>> records = readAll(control);
        assertThat(records).hasSize(2);
        SpecificAvroSerde<ThresholdControl> serde =
                new SpecificAvroSerde<>(ThresholdControl.class, new ConfluentSchemaRegistryClient(registry.url()), false);
        ThresholdControl written = serde.deserializer().deserialize(control, records.get(0).value());
        assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo(MODEL);
        assertThat(written.getModelName()).isEqualTo(MODEL);
        assertThat(written.getThreshold()).isEqualTo(0.25);
        assertThat(written.getPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(written.getReason()).isEqualTo("e2e audit reason");
        assertThat(written.getChangedBy()).isEqualTo("e2e-operator");
        assertThat(new String(records.get(1).key(), StandardCharsets.UTF_8)).isEqualTo(MODEL);
        assertThat(records.get(1).value()).as("tombstone").isNull();
    }

    @Test
    void setThresholdRegistersOnlyTheControlSubjectNeverTheProducersInputSubject() throws IOException {
        String control = "cli-control-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control);

        int set = Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", MODEL,
                "--value", "0.2", "--reason", "e2e");

        assertThat(set).isZero();
        ConfluentSchemaRegistryClient admin = new ConfluentSchemaRegistryClient(registry.url());
        assertThat(admin.latestVersion(control + "-value").schema()).isEqualTo(ThresholdControl.getClassSchema());
        assertThatThrownBy(() -> admin.latestVersion(inputTopic(control) + "-value"))
                .as("input subject registered by the CLI")
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isNotFound()).isTrue());
    }

    @Test
    void withRegistrationOffSetThresholdFailsNamingTheControlSubjectUntilItIsRegistered() throws IOException {
        String control = "cli-control-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control, Map.of("auto.register.schemas", "false"));
        StringWriter err = new StringWriter();

        int refused = Cli.commandLine().setErr(new PrintWriter(err, true)).execute("control", "set-threshold",
                "--config", config.toString(), "--model", MODEL, "--value", "0.2", "--reason", "e2e");
        ConfluentSchemaRegistryClient admin = new ConfluentSchemaRegistryClient(registry.url());
        assertThatThrownBy(() -> admin.latestVersion(control + "-value"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isNotFound()).isTrue());
        admin.register(control + "-value", ThresholdControl.getClassSchema());
        int accepted = Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model",
                MODEL, "--value", "0.2", "--reason", "e2e");

        assertThat(refused).isEqualTo(1);
        assertThat(err.toString()).contains("subject " + control + "-value").contains("auto.register.schemas is false");
        assertThat(accepted).isZero();
        assertThat(readAll(control)).hasSize(1);
        assertThat(admin.latestVersion(control + "-value").version()).as("versions of the control subject").isEqualTo(1);
    }

    @Test
    void setThresholdRejectsANegativeThresholdWithoutWritingAnything() throws IOException {
        String control = "cli-control-" + UUID.randomUUID();
        broker.createTopic(control, 1, true);
        Path config = writeConfig(control);

        int rejected = Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", MODEL,
                "--value", "-0.1", "--reason", "e2e");
        // A valid message afterwards shows the reader really sees what the CLI writes.
        int accepted = Cli.commandLine().execute("control", "set-threshold", "--config", config.toString(), "--model", MODEL,
                "--value", "0.1", "--reason", "e2e");

        assertThat(rejected).isEqualTo(2);
        assertThat(accepted).isZero();
        List<ConsumerRecord<byte[], byte[]>> records = readAll(control);
        assertThat(records).hasSize(1);
        ThresholdControl only = new SpecificAvroSerde<>(ThresholdControl.class,
                new ConfluentSchemaRegistryClient(registry.url()), false).deserializer().deserialize(control, records.get(0).value());
        assertThat(only.getThreshold()).isEqualTo(0.1);
    }

    private Path writeConfig(String controlTopic) throws IOException {
        return writeConfig(controlTopic, Map.of());
    }

    /** An input topic of the control topic's own, so that a subject registered for it would be this test's. */
    private static String inputTopic(String controlTopic) {
        return controlTopic + "-input";
    }

    private Path writeConfig(String controlTopic, Map<String, String> more) throws IOException {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", registry.url());
        p.setProperty("topic.control", controlTopic);
        p.setProperty("topic.input", inputTopic(controlTopic));
        p.putAll(more);
        Path file = tempDir.resolve("cli.properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            p.store(out, "e2e CLI settings");
        }
        return file;
    }

    /** Every record of the topic; the CLI waited for the broker's acknowledgements, so all are there. */
    private List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        try (CommittedTopicReader reader = new CommittedTopicReader(broker.bootstrapServers(), topic)) {
            Map<String, List<ConsumerRecord<byte[], byte[]>>> byKey = reader.awaitKeys(Set.of(MODEL), Duration.ofSeconds(60));
            List<ConsumerRecord<byte[], byte[]>> records = byKey.get(MODEL);
            assertThat(byKey.keySet()).containsExactly(MODEL);
            return records;
        }
    }
}
