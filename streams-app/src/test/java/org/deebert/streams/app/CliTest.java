package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line's shape and its checks that run before any Kafka client is created. */
class CliTest {

    @Test
    void offersRunAndControlSubcommandsButNotTheDemo() {
        CommandLine cli = Cli.commandLine();

        assertThat(cli.getSubcommands()).containsOnlyKeys("run", "control");
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
    void setThresholdRequiresAReason() {
        StringWriter err = new StringWriter();
        int exit = Cli.commandLine().setErr(new PrintWriter(err)).execute(
                "control", "set-threshold", "--model", "m", "--value", "0.3");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--reason");
    }
}
