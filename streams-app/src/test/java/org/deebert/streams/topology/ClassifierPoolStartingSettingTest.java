package org.deebert.streams.topology;

import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ThresholdReader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.StartingSetting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pool resolves {@code exit.setting} against the real tiny model's card once, at construction: the
 * classify processors' starting setting (before any control message, source {@code model-card}) is then
 * the card's calibrated one, and a card without it fails at startup.
 */
class ClassifierPoolStartingSettingTest {

    private static final ClassifierOptions CPU = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8);

    /** The threshold store before any control message: empty. */
    private static final ReadOnlyKeyValueStore<String, ExitSettingInForce> EMPTY_STORE = new ReadOnlyKeyValueStore<>() {
        @Override
        public ExitSettingInForce get(String key) {
            return null;
        }

        @Override
        public KeyValueIterator<String, ExitSettingInForce> range(String from, String to) {
            throw new UnsupportedOperationException();
        }

        @Override
        public KeyValueIterator<String, ExitSettingInForce> all() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long approximateNumEntries() {
            return 0;
        }
    };

    @TempDir
    Path temp;

    /** A copy of test resource {@code tiny-model/} whose card has {@code calibrated.patience = 2 layers}. */
    private Path tinyModelCalibratedForPatience() throws IOException, URISyntaxException {
        Path source = Path.of(getClass().getResource("/tiny-model/" + ModelCard.FILE_NAME).toURI()).getParent();
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path to = temp.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        ObjectMapper json = new ObjectMapper();
        Path cardFile = temp.resolve(ModelCard.FILE_NAME);
        ObjectNode card = (ObjectNode) json.readTree(cardFile.toFile());
        card.putObject("calibrated").putObject("patience").put("policy", "patience").put("value", 2)
                .put("max_accuracy_loss_points", 0.5);
        json.writeValue(cardFile.toFile(), card);
        return temp;
    }

    @Test
    void startingSettingIsTheCardsCalibratedOneWhenChosen() throws Exception {
        Path dir = tinyModelCalibratedForPatience();
        try (ClassifierPool pool = new ClassifierPool(() -> EarlyExitClassifier.load(dir, CPU),
                StartingSetting.parse("calibrated:patience"))) {
            assertThat(pool.startingSetting()).isEqualTo(ExitSetting.patience(2));
            assertThat(pool.startingSetting()).isNotEqualTo(pool.recommendedSetting());
        }
        try (ClassifierPool pool = new ClassifierPool(() -> EarlyExitClassifier.load(dir, CPU))) {
            assertThat(pool.startingSetting()).isEqualTo(pool.recommendedSetting());   // default: today's behaviour
        }
    }

    @Test
    void aCardWithoutTheChosenCalibratedSettingFailsAtStartup() throws Exception {
        Path dir = tinyModelCalibratedForPatience();
        assertThatThrownBy(() -> new ClassifierPool(() -> EarlyExitClassifier.load(dir, CPU),
                StartingSetting.parse("calibrated:divergence")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no calibrated divergence setting (it has: patience)");
    }

    @Test
    void beforeAnyControlMessageTheReaderServesTheStartingSettingAsModelCard() throws Exception {
        Path dir = tinyModelCalibratedForPatience();
        try (ClassifierPool pool = new ClassifierPool(() -> EarlyExitClassifier.load(dir, CPU),
                StartingSetting.parse("calibrated:patience"))) {
            ExitSettingInForce inForce = new ThresholdReader(EMPTY_STORE, pool.modelName(), pool.startingSetting()).current();
            assertThat(inForce).isEqualTo(new ExitSettingInForce(ExitSetting.patience(2), ExitSettingInForce.MODEL_CARD));
        }
    }
}
