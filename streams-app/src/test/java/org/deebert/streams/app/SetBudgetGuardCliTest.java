package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code control set-budget --protect LABEL --max-recall-loss SHARE}: the checks that run before any Kafka client
 * is created (exit 2 and a "Rejected: ..." line; reaching the unreachable broker would exit differently).
 */
class SetBudgetGuardCliTest {

    @TempDir
    Path dir;

    /** A settings file whose model.dir holds a card for model "m" with labels ham and spam. */
    private Path configWithCard() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("model_card.json"), "{\"format_version\": 1, \"name\": \"m\", \"version\": \"1\","
                + " \"labels\": [\"ham\", \"spam\"], \"num_layers\": 3, \"hidden_size\": 8, \"max_seq_length\": 16}");
        Path config = dir.resolve("cli.properties");
        Files.writeString(config, "bootstrap.servers=127.0.0.1:9\nmodel.dir=" + model + "\n");
        return config;
    }

    private record Run(int exit, String stderr) {
    }

    /** Runs {@code control set-budget} with a valid budget plus {@code extra}, capturing what it prints on stderr. */
    private static Run setBudget(Path config, String... extra) {
        List<String> line = new ArrayList<>(List.of("control", "set-budget", "--model", "m", "--max-disagreement", "0.05",
                "--sample-rate", "0.1", "--max-threshold", "0.5", "--reason", "test"));
        if (config != null) {
            line.addAll(List.of("--config", config.toString()));
        }
        line.addAll(List.of(extra));
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = Cli.commandLine().setErr(new PrintWriter(new StringWriter()));
            return new Run(cli.execute(line.toArray(String[]::new)), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void anUnknownProtectedLabelIsRejectedNamingTheModelsLabels() throws IOException {
        Run run = setBudget(configWithCard(), "--protect", "eggs", "--max-recall-loss", "0.01");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.stderr()).contains("Rejected: protected label 'eggs' is not one of the model's labels [ham, spam]");
    }

    @Test
    void oneGuardFlagWithoutTheOtherIsRejected() throws IOException {
        Path config = configWithCard();
        Run labelOnly = setBudget(config, "--protect", "spam");
        assertThat(labelOnly.exit()).isEqualTo(2);
        assertThat(labelOnly.stderr()).contains("Rejected: a label guard needs both a protected label and a max recall"
                + " loss, got only protected label 'spam'");
        Run shareOnly = setBudget(config, "--max-recall-loss", "0.01");
        assertThat(shareOnly.exit()).isEqualTo(2);
        assertThat(shareOnly.stderr()).contains("got only max recall loss 0.01");
    }

    @Test
    void aMaxRecallLossOutsideZeroToOneIsRejected() throws IOException {
        for (String bad : new String[] {"0", "1", "1.5", "-0.01", "NaN"}) {
            Run run = setBudget(configWithCard(), "--protect", "spam", "--max-recall-loss", bad);
            assertThat(run.exit()).as(bad).isEqualTo(2);
            assertThat(run.stderr()).as(bad).contains("max recall loss must be a share in (0, 1)");
        }
    }

    @Test
    void theLabelsComeFromTheCardOfThatModelOrAreUnknown() throws IOException {
        Path card = configWithCard().getParent().resolve("model");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(OperatorModelCard.labelsOrUnknown(settings(card), "m")).containsExactly("ham", "spam");
            // Another model's card, or none: unknown, and the service checks the label.
            assertThat(OperatorModelCard.labelsOrUnknown(settings(card), "other")).isEmpty();
            assertThat(OperatorModelCard.labelsOrUnknown(settings(empty), "m")).isEmpty();
        } finally {
            System.setErr(saved);
        }
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("is for m, not other; the protected label is checked by the service only")
                .contains("no readable model card in " + empty + "; the protected label is checked by the service only");
    }

    private static AppSettings settings(Path modelDir) {
        return AppSettings.withDefaults(java.util.Map.of("model.dir", modelDir.toString()));
    }
}
