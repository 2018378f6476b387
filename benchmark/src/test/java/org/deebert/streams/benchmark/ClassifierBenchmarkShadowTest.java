package org.deebert.streams.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.junit.jupiter.api.Test;

/**
 * The shadow measurement's and the protected recall's small helpers (the measurement itself needs a model;
 * benchmark/run-benchmark.sh runs it).
 */
class ClassifierBenchmarkShadowTest {

    @Test
    void shadowRatesStartWithTheZeroBaselineSortedWithoutDuplicates() {
        assertThat(ClassifierBenchmark.shadowRates(new double[] {0.1, 0.02})).containsExactly(0.0, 0.02, 0.1);
        assertThat(ClassifierBenchmark.shadowRates(new double[] {0.0, 0.1, 0.1})).containsExactly(0.0, 0.1);
        assertThat(ClassifierBenchmark.shadowRates(new double[0])).containsExactly(0.0);
    }

    @Test
    void meanExitLayerIsOneBased() {
        // 598 at layer 1, ..., 41 at layer 6: the model card's test histogram, mean 1.7331
        assertThat(ClassifierBenchmark.meanExitLayer(new long[] {598, 129, 63, 37, 20, 41}))
                .isCloseTo(1.7331081081081081, within(1e-12));
        assertThat(ClassifierBenchmark.meanExitLayer(new long[] {0, 0, 5})).isEqualTo(3.0);
        assertThat(ClassifierBenchmark.meanExitLayer(new long[3])).isZero();
    }

    @Test
    void protectedRecallIsTheShareOfGoldProtectedTextsPredictedAsIt() {
        // Gold spam: 0, 2, 3 (one missed); text 1 is a false alarm (hurts accuracy, not recall); text 4 has no label.
        List<String> predicted = List.of("spam", "spam", "ham", "spam", "spam");
        List<String> gold = Arrays.asList("spam", "ham", "spam", "spam", null);

        assertThat(ClassifierBenchmark.protectedRecall("spam", predicted, gold)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(ClassifierBenchmark.protectedRecall("ham", predicted, gold)).isZero();
    }

    @Test
    void protectedRecallIsNullWithoutALabelOrWithoutGoldTextsOfIt() {
        List<String> predicted = List.of("ham", "spam");
        List<String> gold = List.of("ham", "ham");

        assertThat(ClassifierBenchmark.protectedRecall(null, predicted, gold)).isNull();
        assertThat(ClassifierBenchmark.protectedRecall("spam", predicted, gold)).isNull();
    }

    @Test
    void theCardsLabelConditionalSettingIsRecordedByLabelNameAndShownWithEveryLabelsS() {
        ExitSetting card = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.1763, List.of(0.1763, 0.5689));
        List<String> labels = List.of("ham", "spam");

        assertThat(ClassifierBenchmark.labelThresholdsByName(card, labels)).containsExactly(
                Map.entry("ham", 0.1763), Map.entry("spam", 0.5689));
        assertThat(ClassifierBenchmark.settingJson(card, labels)).containsEntry("policy", "ENTROPY")
                .containsEntry("threshold", 0.1763).containsEntry("label_thresholds", Map.of("ham", 0.1763, "spam", 0.5689));
        assertThat(ClassifierBenchmark.settingLabel(card, labels)).isEqualTo("ENTROPY S by label ham 0.1763, spam 0.5689 nats");
        assertThat(ClassifierBenchmark.compactLabel(card, labels)).isEqualTo("ham=0.1763,spam=0.5689");
        // One S: no per-label thresholds to record.
        ExitSetting one = ExitSetting.entropy(0.1417);
        assertThat(ClassifierBenchmark.labelThresholdsByName(one, labels)).isNull();
        assertThat(ClassifierBenchmark.settingLabel(one, labels)).isEqualTo("ENTROPY S=0.1417 nats");
        assertThat(ClassifierBenchmark.compactLabel(one, labels)).isEqualTo("0.1417");
    }
}
