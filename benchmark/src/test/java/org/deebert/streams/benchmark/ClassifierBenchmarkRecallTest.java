package org.deebert.streams.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-class recall, the {@code --thresholds} parser and the predictions file of {@link ClassifierBenchmark}. */
class ClassifierBenchmarkRecallTest {

    @Test
    void recallByLabelHasEveryModelLabelInOrderAndNullForALabelWithoutGoldTexts() {
        // Gold ham: 0, 1 (one predicted spam); gold spam: 2, 3, 4 (one predicted ham); text 5 has no label.
        List<String> predicted = List.of("ham", "spam", "spam", "ham", "spam", "ham");
        List<String> gold = Arrays.asList("ham", "ham", "spam", "spam", "spam", null);

        var recall = ClassifierBenchmark.recallByLabel(List.of("ham", "spam", "phish"), predicted, gold);

        assertThat(recall.keySet()).containsExactly("ham", "spam", "phish");
        assertThat(recall.get("ham")).isCloseTo(0.5, within(1e-12));
        assertThat(recall.get("spam")).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(recall.get("phish")).isNull();
        // The protected label's recall is the same figure.
        assertThat(ClassifierBenchmark.protectedRecall("spam", predicted, gold)).isEqualTo(recall.get("spam"));
    }

    @Test
    void thresholdsAreNumbersOrNone() {
        assertThat(ClassifierBenchmark.parseThresholds("0,0.05, 0.2")).containsExactly(0.0, 0.05, 0.2);
        assertThat(ClassifierBenchmark.parseThresholds("none")).isEmpty();
        assertThat(ClassifierBenchmark.parseThresholds("")).isEmpty();
        assertThatThrownBy(() -> ClassifierBenchmark.parseThresholds("0,x")).isInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> ClassifierBenchmark.parseThresholds("-0.1")).isInstanceOf(NumberFormatException.class);
    }

    @Test
    void predictionsAreOneJsonLinePerTextWithIndexGoldLabelAndExitLayer(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/predictions.jsonl");

        ClassifierBenchmark.writePredictions(file, Arrays.asList("ham", null), List.of("ham", "spam"), new int[] {1, 6});

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        var second = new ObjectMapper().readTree(lines.get(1));
        assertThat(second.get("index").asInt()).isEqualTo(1);
        assertThat(second.get("label").asText()).isEqualTo("spam");
        assertThat(second.get("exit_layer").asInt()).isEqualTo(6);
        assertThat(second.get("gold").isNull()).isTrue();
        assertThat(second.size()).isEqualTo(4); // no text
        assertThat(new ObjectMapper().readTree(lines.get(0)).get("gold").asText()).isEqualTo("ham");
    }
}
