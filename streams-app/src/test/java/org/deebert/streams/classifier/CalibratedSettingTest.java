package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.StartingSetting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The card's {@code calibrated} block (written by {@code python -m deebert_export calibrate}) is parsed, and
 * {@code exit.setting} ({@link StartingSetting}) picks the recommended or a calibrated setting from it.
 */
class CalibratedSettingTest {

    private static final ClassifierOptions CPU = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8);

    @TempDir
    Path temp;

    /**
     * A copy of the tiny model whose card has calibrated entropy (S = 0.25 nats) and patience (t = 2)
     * settings, with the provenance fields calibrate writes beside them (ignored here).
     */
    static Path tinyModelWithCalibratedSettings(Path target) throws IOException {
        Path dir = TinyModel.copyTo(target);
        Path cardFile = dir.resolve(ModelCard.FILE_NAME);
        ObjectNode card = (ObjectNode) TinyModel.JSON.readTree(cardFile.toFile());
        ObjectNode calibrated = card.putObject("calibrated");
        calibrated.putObject("entropy").put("policy", "entropy").put("value", 0.25)
                .put("dev_accuracy", 0.9).put("full_dev_accuracy", 0.9).put("max_accuracy_loss_points", 0.5);
        calibrated.putObject("patience").put("policy", "patience").put("value", 2)
                .put("dev_expected_saving", 0.2).put("date", "2026-11-22T00:00:00+00:00");
        TinyModel.JSON.writerWithDefaultPrettyPrinter().writeValue(cardFile.toFile(), card);
        return dir;
    }

    @Test
    void cardParsesCalibratedSettingsPerPolicy() throws IOException {
        ModelCard card = ModelCard.read(tinyModelWithCalibratedSettings(temp));

        assertThat(card.calibrated()).containsOnlyKeys("entropy", "patience");
        assertThat(card.calibratedSetting(ExitPolicy.ENTROPY)).isEqualTo(ExitSetting.entropy(0.25));
        assertThat(card.calibratedSetting(ExitPolicy.PATIENCE)).isEqualTo(ExitSetting.patience(2));
        assertThatThrownBy(() -> card.calibratedSetting(ExitPolicy.DIVERGENCE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no calibrated divergence setting (it has: entropy, patience)")
                .hasMessageContaining("deebert_export calibrate");
    }

    @Test
    void theCommittedDefaultModelsCardCarriesACalibratedSettingForEveryPolicy() {
        // The README's calibration table; the module's working directory is streams-app/.
        ModelCard card = ModelCard.read(Path.of("..", "model-export", "models", "deebert-spamassassin-minilm-l6"));

        assertThat(card.calibratedSetting(ExitPolicy.ENTROPY).threshold()).isBetween(0.17, 0.18);
        assertThat(card.calibratedSetting(ExitPolicy.DIVERGENCE).policy()).isEqualTo(ExitPolicy.DIVERGENCE);
        assertThat(card.calibratedSetting(ExitPolicy.PATIENCE).threshold()).isEqualTo(3.0);
        // The recommended setting is the protected calibration's: a strict S for ham, a looser one for spam.
        ExitSetting recommended = card.recommendedSetting();
        assertThat(recommended.policy()).isEqualTo(ExitPolicy.ENTROPY);
        assertThat(recommended.labelThresholds()).hasSize(2);
        assertThat(recommended.labelThresholds().get(card.labels().indexOf("spam")))
                .isGreaterThan(recommended.labelThresholds().get(card.labels().indexOf("ham")));
        assertThat(recommended.threshold()).isEqualTo(recommended.labelThresholds().get(card.labels().indexOf("ham")));
    }

    @Test
    void cardWithoutCalibratedBlockHasNone() {
        ModelCard card = ModelCard.read(TinyModel.dir());
        assertThat(card.calibrated()).isEmpty();
        assertThatThrownBy(() -> StartingSetting.parse("calibrated:patience").resolve(card))
                .hasMessageContaining("has no calibrated patience setting");
        assertThat(StartingSetting.RECOMMENDED.resolve(card)).isEqualTo(card.recommendedSetting());
    }

    @Test
    void startingSettingIsParsedFromItsSettingsSpelling() {
        assertThat(StartingSetting.parse("recommended")).isEqualTo(StartingSetting.RECOMMENDED);
        assertThat(StartingSetting.parse(" calibrated:Patience ").calibratedPolicy()).isEqualTo(ExitPolicy.PATIENCE);
        assertThat(StartingSetting.parse("calibrated:divergence").toString()).isEqualTo("calibrated:divergence");
        for (String bad : new String[] {"", "calibrated", "calibrated:", "calibrated:softmax", "entropy"}) {
            assertThatThrownBy(() -> StartingSetting.parse(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("recommended or calibrated:<policy>");
        }
    }

    @Test
    void loadedClassifierStartsFromTheChosenSetting() throws IOException {
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(tinyModelWithCalibratedSettings(temp), CPU)) {
            assertThat(classifier.startingSetting(StartingSetting.parse("calibrated:patience")))
                    .isEqualTo(ExitSetting.patience(2));
            assertThat(classifier.startingSetting(StartingSetting.RECOMMENDED))
                    .isEqualTo(classifier.modelCard().recommendedSetting());
        }
    }
}
