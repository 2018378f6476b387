package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules of a setting with label-conditional thresholds, with the messages of Python's
 * {@code ExitSetting.validate} ({@code model-export/tests/test_exits.py} checks the same cases there).
 */
class ExitSettingTest {

    private static final List<String> LABELS = List.of("ham", "spam");

    @Test
    void aPerLabelSettingPicksTheSOfThePredictedLabelAtEveryLayer() {
        ExitSetting setting = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.1, List.of(0.0, 0.7)).validateFor(6, 2);

        assertThat(setting.thresholdAt(1, 0)).isEqualTo(0.0);
        assertThat(setting.thresholdAt(1, 1)).isEqualTo(0.7);
        assertThat(setting.thresholdAt(5, 1)).isEqualTo(0.7);
        assertThat(ExitSetting.entropy(0.1).thresholdAt(3, 1)).as("one S").isEqualTo(0.1);
        assertThat(new ExitSetting(ExitPolicy.ENTROPY, 0.1, List.of(0.2, 0.3, 0.4)).thresholdAt(2, 1))
                .as("per layer").isEqualTo(0.3);
    }

    @Test
    void theOlderConstructorsStillMeanOneSForEveryLabel() {
        assertThat(new ExitSetting(ExitPolicy.DIVERGENCE, 0.2).labelThresholds()).isNull();
        assertThat(new ExitSetting(ExitPolicy.ENTROPY, 0.0, List.of(0.1, 0.2)).labelThresholds()).isNull();
        assertThat(ExitSetting.entropy(0.1)).isEqualTo(new ExitSetting(ExitPolicy.ENTROPY, 0.1, null, null));
    }

    @Test
    void perLabelThresholdsAreRefusedWithPatience() {
        assertThatThrownBy(() -> new ExitSetting(ExitPolicy.PATIENCE, 1, null, List.of(0.1, 0.1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ENTROPY and DIVERGENCE only");
    }

    @Test
    void perLabelAndPerLayerThresholdsCannotBeCombined() {
        assertThatThrownBy(() -> new ExitSetting(ExitPolicy.ENTROPY, 0, List.of(0.1, 0.1, 0.1), List.of(0.1, 0.1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be combined");
    }

    @Test
    void aPerLabelListNeedsOneValuePerLabel() {
        ExitSetting three = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0, List.of(0.1, 0.1, 0.1));
        assertThat(three.validateFor(6)).as("the depth alone says nothing about labels").isSameAs(three);
        assertThatThrownBy(() -> three.validateFor(6, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need 2 values (one per label), got 3");
        assertThatThrownBy(() -> ExitSetting.perLabel(ExitPolicy.ENTROPY, 0, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got none");
    }

    @Test
    void everyPerLabelValueMustBeAFiniteSOfAtLeastZero() {
        for (Double bad : new Double[] {-0.1, Double.NaN, Double.POSITIVE_INFINITY, null}) {
            assertThatThrownBy(() -> ExitSetting.perLabel(ExitPolicy.DIVERGENCE, 0, Arrays.asList(0.1, bad)))
                    .as("S^(1) = %s", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("label 1 must be a finite number >= 0");
        }
    }

    @Test
    void aPerLabelListCannotBeChangedAfterValidation() {
        List<Double> mutable = new java.util.ArrayList<>(List.of(0.0, 0.7));
        ExitSetting setting = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.1, mutable);
        mutable.set(0, 9.0);
        assertThat(setting.labelThresholds()).containsExactly(0.0, 0.7);
    }

    @Test
    void namesBecomeIndicesWithTheThresholdForLabelsLeftOut() {
        assertThat(ExitSetting.labelThresholdsByIndex(Map.of("spam", 0.7), 0.14, LABELS)).containsExactly(0.14, 0.7);
        Map<String, Double> both = new LinkedHashMap<>();
        both.put("spam", 0.7);
        both.put("ham", 0.0);
        assertThat(ExitSetting.labelThresholdsByIndex(both, 0.14, LABELS)).containsExactly(0.0, 0.7);
        assertThat(ExitSetting.labelThresholdsByIndex(null, 0.14, LABELS)).isNull();
    }

    @Test
    void anUnknownLabelNameIsRefusedWithTheModelsLabels() {
        assertThatThrownBy(() -> ExitSetting.labelThresholdsByIndex(Map.of("Spam", 0.7), 0.14, LABELS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown label 'Spam'").hasMessageContaining("[ham, spam]");
        assertThatThrownBy(() -> ExitSetting.labelThresholdsByIndex(Map.of(), 0.14, LABELS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name no label");
    }

    @Test
    void describesEachKindOfSettingInWords() {
        List<String> labels = List.of("ham", "spam");
        assertThat(ExitSetting.entropy(0.3).describe(labels)).isEqualTo("ENTROPY S=0.3 nats");
        assertThat(ExitSetting.patience(3).describe(labels)).isEqualTo("PATIENCE t=3 layers");
        assertThat(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.17628520438299405, List.of(0.17628520438299405,
                0.5688744696021595)).describe(labels)).isEqualTo("ENTROPY S per label: ham 0.1763, spam 0.5689 nats");
        assertThat(new ExitSetting(ExitPolicy.DIVERGENCE, 0, List.of(0.0, 0.05, 0.1)).describe(labels))
                .isEqualTo("DIVERGENCE S per layer: 0, 0.05, 0.1 nats");
    }
}
