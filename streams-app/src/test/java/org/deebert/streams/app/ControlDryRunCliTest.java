package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --dry-run} on the {@code control} commands that write without reading first: the message is checked and
 * printed as JSON, and nothing is sent. The broker is unreachable (port 9): a send would fail with exit 1.
 */
class ControlDryRunCliTest {

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private Run run(String... args) throws IOException {
        Path config = dir.resolve("cli.properties");
        Files.writeString(config, "bootstrap.servers=127.0.0.1:9\nmodel.dir=" + dir.resolve("no-model") + "\n");
        List<String> line = new ArrayList<>(List.of(args));
        line.addAll(List.of("--config", config.toString(), "--dry-run"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(line.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void setThresholdPrintsTheCheckedMessageWithoutSending() throws IOException {
        Run run = run("control", "set-threshold", "--model", "m", "--value", "0.3", "--policy", "divergence",
                "--layer-thresholds", "0.1,0.2", "--reason", "try", "--by", "alice");

        assertThat(run.exit()).isZero();
        JsonNode printed = new ObjectMapper().readTree(run.out());
        assertThat(printed.get("key").asText()).isEqualTo("m");
        assertThat(printed.get("value").get("threshold").asDouble()).isEqualTo(0.3);
        assertThat(printed.get("value").get("policy").asText()).isEqualTo("DIVERGENCE");
        assertThat(printed.get("value").get("layer_thresholds").toString()).isEqualTo("[0.1,0.2]");
        assertThat(printed.get("value").get("changed_by").asText()).isEqualTo("alice");
        assertThat(printed.get("value").get("reason").asText()).isEqualTo("try");
    }

    @Test
    void anInvalidMessageIsRejectedWithExitTwoAndNothingPrinted() throws IOException {
        Run run = run("control", "set-threshold", "--model", "m", "--value", "-1", "--reason", "try");

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void setBudgetPrintsTheBudgetStartingAtItsMinimum() throws IOException {
        Run run = run("control", "set-budget", "--model", "m", "--max-disagreement", "0.01", "--sample-rate", "0.05",
                "--min-threshold", "0.05", "--max-threshold", "0.6", "--reason", "try");

        assertThat(run.exit()).isZero();
        JsonNode value = new ObjectMapper().readTree(run.out()).get("value");
        assertThat(value.get("threshold").asDouble()).isEqualTo(0.05);
        assertThat(value.get("budget").get("max_disagreement").asDouble()).isEqualTo(0.01);
        assertThat(value.get("budget").get("max_threshold").asDouble()).isEqualTo(0.6);
    }

    @Test
    void clearThresholdPrintsATombstone() throws IOException {
        Run run = run("control", "clear-threshold", "--model", "m");

        assertThat(run.exit()).isZero();
        JsonNode printed = new ObjectMapper().readTree(run.out());
        assertThat(printed.get("key").asText()).isEqualTo("m");
        assertThat(printed.get("value").isNull()).isTrue();
        assertThat(run.err()).contains("Dry run: nothing written");
    }
}
