package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.io.StringWriter;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** The command line's shape and its checks that run before any Kafka client is created. */
class CliTest {

    @Test
    void offersRunControlAndDeadLettersSubcommandsButNotTheDemo() {
        CommandLine cli = Cli.commandLine();

        assertThat(cli.getSubcommands()).containsOnlyKeys("run", "control", "dead-letters", "config");
        assertThat(cli.getSubcommands().get("dead-letters").getSubcommands()).containsOnlyKeys("replay");
        assertThat(cli.getSubcommands().get("control").getSubcommands()).containsKeys("set-threshold", "clear-threshold");
    }

    @Test
    void setThresholdRejectsAnInvalidValueWithoutProducing() {
        // The bootstrap server is unreachable: reaching Kafka would fail differently (exit 1, not 2).
        for (String bad : new String[] {"-0.5", "NaN", "Infinity"}) {
            int exit = Cli.commandLine().setErr(new PrintWriter(new StringWriter())).execute(
                    "control", "set-threshold", "--model", "m", "--value", bad, "--reason", "test");
            assertThat(exit).as("value %s", bad).isEqualTo(2);
        }
    }

    @Test
    void aFailingCommandIsLoggedAtErrorWithItsLevelAndExitsOne(@TempDir Path dir) throws Exception {
        // Given: a registry URL where nothing listens, so `run` fails at startup (schema registration).
        Path config = dir.resolve("bad.properties");
        Files.writeString(config, "schema.registry.url=http://127.0.0.1:" + closedPort() + "/apis/ccompat/v7\n");
        Logger cli = (Logger) LoggerFactory.getLogger(Cli.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        cli.addAppender(events);
        try {
            StringWriter err = new StringWriter();
            int exit = Cli.commandLine().setErr(new PrintWriter(err)).execute("run", "--config", config.toString());

            assertThat(exit).isEqualTo(1);
            assertThat(err.toString()).startsWith("run failed: ").contains("SchemaRegistryException").hasLineCount(1);
            assertThat(events.list).singleElement().satisfies(e -> {
                assertThat(e.getLevel()).isEqualTo(Level.ERROR);
                assertThat(e.getFormattedMessage()).startsWith("run failed: ").contains("SchemaRegistryException");
            });
        } finally {
            cli.detachAppender(events);
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void setThresholdRejectsABadPatienceOrPerLayerListWithoutProducing() {
        // No model card here (model.dir unset): the rules that need n are the service's, the others the CLI's.
        String[][] bad = {
            {"--policy", "PATIENCE", "--value", "0"},
            {"--policy", "PATIENCE", "--value", "1.5"},
            {"--policy", "PATIENCE", "--value", "2", "--layer-thresholds", "0.1,0.1"},
            {"--value", "0.1", "--layer-thresholds", "0.1,-0.2,0.3"},
        };
        for (String[] args : bad) {
            List<String> line = new ArrayList<>(List.of("control", "set-threshold", "--model", "m", "--reason", "test"));
            line.addAll(List.of(args));
            StringWriter err = new StringWriter();
            int exit = Cli.commandLine().setErr(new PrintWriter(err)).execute(line.toArray(String[]::new));
            assertThat(exit).as("%s", line).isEqualTo(2);
        }
    }

    @Test
    void setParsesRepeatedLabelThresholdsByNameAndAPolicyInAnyCase() {
        CommandLine.ParseResult parsed = Cli.commandLine().parseArgs("control", "set", "--model", "m", "--threshold", "0.14",
                "--label-threshold", "spam=0.7", "--label-threshold", "ham=0", "--policy", "divergence", "--reason", "test");

        ControlCommand.SetThreshold set = (ControlCommand.SetThreshold) parsed.subcommand().subcommand().commandSpec().userObject();
        assertThat(set.value).isEqualTo(0.14);
        assertThat(set.policy).isEqualTo(ExitPolicy.DIVERGENCE);
        assertThat(set.labelThresholds).containsExactly(Map.entry("spam", 0.7), Map.entry("ham", 0.0));
        assertThat(set.layerThresholds).isNull();
    }

    @Test
    void theMessageCarriesLabelThresholdsByNameAfterTheServicesChecks() {
        ThresholdControl message = ControlTopicWriter.thresholdMessage("m", 0.14, ExitPolicy.ENTROPY, null,
                Map.of("spam", 0.7), 6, List.of("ham", "spam"), "ops", "test");

        assertThat(message.getLabelThresholds()).containsExactly(Map.entry("spam", 0.7));
        assertThat(message.getThreshold()).isEqualTo(0.14);
        assertThat(message.getLayerThresholds()).isNull();
    }

    @Test
    void setRejectsAnUnknownLabelListingTheModelCardsLabelsWithoutProducing(@TempDir Path dir) throws Exception {
        // The tiny model's card (labels ham, spam) in model.dir; the broker is never reached (exit 2, not 1).
        Path config = dir.resolve("cli.properties");
        Files.writeString(config, "model.dir=" + tinyModelDir() + "\nbootstrap.servers=127.0.0.1:" + closedPort() + "\n");

        String err = stderrOf(() -> assertThat(Cli.commandLine().execute("control", "set", "--model", "deebert-tiny-test",
                "--threshold", "0.14", "--label-threshold", "phishing=0.7", "--reason", "test", "--config", config.toString()))
                .isEqualTo(2));

        assertThat(err).contains("Rejected: ").contains("unknown label 'phishing'").contains("[ham, spam]");
    }

    @Test
    void setRefusesLabelThresholdsWithoutAModelCardToCheckTheirNames() {
        // model.dir unset here: the names cannot be checked, so nothing is written.
        String err = stderrOf(() -> assertThat(Cli.commandLine().execute("control", "set-threshold", "--model", "m",
                "--value", "0.14", "--label-threshold", "spam=0.7", "--reason", "test")).isEqualTo(2));

        assertThat(err).contains("need the model's labels");
    }

    private static Path tinyModelDir() throws URISyntaxException {
        return Path.of(CliTest.class.getResource("/tiny-model/model_card.json").toURI()).getParent();
    }

    /** Runs {@code action} and returns what it printed on System.err (where the control commands report). */
    private static String stderrOf(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void setThresholdRequiresAReason() {
        StringWriter err = new StringWriter();
        int exit = Cli.commandLine().setErr(new PrintWriter(err)).execute(
                "control", "set-threshold", "--model", "m", "--value", "0.3");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--reason");
    }
}
