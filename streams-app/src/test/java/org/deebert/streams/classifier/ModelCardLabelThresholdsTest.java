package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.StartingSetting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model card's {@code label_thresholds} ({@code recommended_threshold} and each {@code calibrated} entry:
 * label name -> S in nats) become the label-conditional {@link ExitSetting}, on the tiny model (labels ham, spam;
 * 3 layers).
 */
class ModelCardLabelThresholdsTest {

    @TempDir
    Path temp;

    private int copies;

    /** @return a fresh copy of the tiny model whose card {@code edit} changed */
    private Path model(Consumer<ObjectNode> edit) throws IOException {
        Path dir = TinyModel.copyTo(java.nio.file.Files.createDirectory(temp.resolve("model-" + copies++)));
        Path file = dir.resolve(ModelCard.FILE_NAME);
        ObjectNode card = (ObjectNode) TinyModel.JSON.readTree(file.toFile());
        edit.accept(card);
        TinyModel.JSON.writeValue(file.toFile(), card);
        return dir;
    }

    private ModelCard card(Consumer<ObjectNode> edit) throws IOException {
        return ModelCard.read(model(edit));
    }

    @Test
    void recommendedLabelThresholdsAreReadByLabelNameAndMissingLabelsGetTheValue() throws IOException {
        ModelCard card = card(c -> ((ObjectNode) c.get("recommended_threshold")).put("value", 0.3)
                .putObject("label_thresholds").put("ham", 0.0));

        assertThat(card.labels()).containsExactly("ham", "spam");
        assertThat(card.recommendedThreshold().labelThresholds()).containsOnlyKeys("ham");
        assertThat(card.recommendedSetting()).isEqualTo(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.3, List.of(0.0, 0.3)));
    }

    @Test
    void aCalibratedEntryCarriesItsLabelThresholdsAndUnknownKeysAreIgnored() throws IOException {
        ModelCard card = card(c -> {
            ObjectNode entropy = c.putObject("calibrated").putObject("entropy");
            entropy.put("policy", "entropy").put("value", 0.2).put("dev_accuracy", 0.97)
                    .put("protected_recall", 0.99);
            entropy.putObject("label_thresholds").put("spam", 0.8).put("ham", 0.01);
            // A key a newer calibration writes beside the others, of a shape this runtime does not know.
            c.putObject("calibrated_protected").putArray("entropy").add(1).add(2);
        });

        assertThat(card.calibratedSetting(ExitPolicy.ENTROPY))
                .isEqualTo(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.2, List.of(0.01, 0.8)));
        assertThat(card.recommendedSetting().labelThresholds()).as("recommended_threshold has none").isNull();
    }

    @Test
    void anUnknownLabelNameIsRefusedNamingTheEntryAndTheCardsLabels() throws IOException {
        ModelCard card = card(c -> c.putObject("calibrated").putObject("divergence").put("policy", "divergence")
                .put("value", 0.1).putObject("label_thresholds").put("phishing", 0.5));

        assertThatThrownBy(() -> card.calibratedSetting(ExitPolicy.DIVERGENCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("calibrated.divergence").hasMessageContaining("unknown label 'phishing'")
                .hasMessageContaining("[ham, spam]");
    }

    @Test
    void labelThresholdsOnPatienceOrWithAnInvalidSAreRefused() throws IOException {
        ModelCard patience = card(c -> c.putObject("calibrated").putObject("patience").put("policy", "patience")
                .put("value", 2).putObject("label_thresholds").put("spam", 0.5));
        assertThatThrownBy(() -> patience.calibratedSetting(ExitPolicy.PATIENCE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ENTROPY and DIVERGENCE only");

        ModelCard negative = card(c -> ((ObjectNode) c.get("recommended_threshold"))
                .putObject("label_thresholds").put("spam", -0.5));
        assertThatThrownBy(negative::recommendedSetting)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("recommended_threshold").hasMessageContaining("label 1 must be a finite number >= 0");
    }

    @Test
    void theClassifierStartsFromTheCardsLabelConditionalSetting() throws IOException {
        Path dir = model(c -> ((ObjectNode) c.get("recommended_threshold")).putObject("label_thresholds").put("ham", 0.0));
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(dir,
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8))) {
            ExitSetting start = classifier.startingSetting(StartingSetting.RECOMMENDED);
            assertThat(start.labelThresholds()).containsExactly(0.0, start.threshold());
            // Ham may never leave early: every answer before the last layer is spam.
            assertThat(classifier.classify(ClassifyRequest.of(TinyModel.texts(), start)))
                    .allSatisfy(c -> assertThat(c.exitLayer() == classifier.numLayers() || c.label().equals("spam")).isTrue());
        }
    }
}
