package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.deebert.streams.exit.ExitSetting;
import org.junit.jupiter.api.Test;

/**
 * {@link EmptyText} against the case list Python's {@code deebert_export.texts.is_empty_text} is checked against
 * too ({@code model-export/tests/golden/empty_texts.json}), so that the service and the training data cannot
 * disagree on what an empty text is; and the classifier applying the same rule to its inputs.
 */
class EmptyTextTest {

    /** From the module basedir (Maven runs tests there): the file model-export commits. */
    private static final Path GOLDEN = Path.of("..", "model-export", "tests", "golden", "empty_texts.json");

    @Test
    void agreesWithEveryCaseOfTheSharedCaseList() throws IOException {
        JsonNode doc = TinyModel.JSON.readTree(GOLDEN.toFile());
        assertThat(doc.get("format_version").asInt()).isEqualTo(1);
        Set<Boolean> answers = new HashSet<>();
        for (JsonNode c : doc.get("cases")) {
            boolean empty = c.get("empty").asBoolean();
            assertThat(EmptyText.is(c.get("text").asText())).as(c.get("name").asText()).isEqualTo(empty);
            answers.add(empty);
        }
        assertThat(answers).containsExactlyInAnyOrder(true, false);
        assertThat(EmptyText.is(null)).isTrue();
    }

    @Test
    void theClassifierRejectsATextWithoutVisibleCharacter() {
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(TinyModel.dir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8))) {
            ExitSetting setting = classifier.recommendedSetting();
            assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(List.of("fine", "\u200B\u00A0\u200F"), setting)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("text at index 1 is empty");
            assertThat(classifier.classify(ClassifyRequest.of(List.of("\u200Bfine\u200B"), setting))).hasSize(1);
        }
    }
}
