package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.deebert.streams.classifier.AccuracyBudget;
import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;

/** The control-message rules for a 3-layer model named "m" (the same rules the CLI applies). */
class ControlMessageValidatorTest {

    private final ControlMessageValidator validator = new ControlMessageValidator("m", 3);

    private static ThresholdControl message(ExitPolicyName policy, double value, List<Double> perLayer) {
        return ThresholdControl.newBuilder().setThreshold(value).setPolicy(policy).setLayerThresholds(perLayer)
                .setModelName("m").setChangedBy("test").setReason("test").setChangedAt(Instant.EPOCH).build();
    }

    @Test
    void shouldAcceptEachPolicyWithinItsRange() {
        assertThat(validator.validate("m", message(ExitPolicyName.ENTROPY, 0.0, null))).isEqualTo(ExitSetting.entropy(0.0));
        assertThat(validator.validate("m", message(ExitPolicyName.DIVERGENCE, 0.2, null)))
                .isEqualTo(new ExitSetting(ExitPolicy.DIVERGENCE, 0.2));
        assertThat(validator.validate("m", message(ExitPolicyName.PATIENCE, 1, null))).isEqualTo(ExitSetting.patience(1));
        assertThat(validator.validate("m", message(ExitPolicyName.PATIENCE, 3, null))).isEqualTo(ExitSetting.patience(3));
        assertThat(validator.validate("m", message(ExitPolicyName.ENTROPY, 0.0, List.of(0.3, 0.2, 0.0))).layerThresholds())
                .containsExactly(0.3, 0.2, 0.0);
    }

    @Test
    void shouldRejectAPatienceThatIsNotAnIntegerInOneToN() {
        for (double t : new double[] {0, 1.5, 4, -1}) {
            assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.PATIENCE, t, null)))
                    .as("patience %s", t).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.PATIENCE, 4, null)))
                .hasMessageContaining("integer in 1..3");
    }

    @Test
    void shouldRejectPerLayerThresholdsOfTheWrongLengthSignOrPolicy() {
        assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.ENTROPY, 0, List.of(0.1, 0.1))))
                .hasMessageContaining("need 3 values");
        assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.DIVERGENCE, 0, List.of(0.1, -0.1, 0.1))))
                .hasMessageContaining("S_2");
        assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.DIVERGENCE, 0, List.of(0.1, Double.NaN, 0.1))))
                .hasMessageContaining("S_2");
        assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.PATIENCE, 1, List.of(0.1, 0.1, 0.1))))
                .hasMessageContaining("ENTROPY and DIVERGENCE only");
    }

    @Test
    void shouldRejectANegativeOrNonFiniteS() {
        for (double s : new double[] {-0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> validator.validate("m", message(ExitPolicyName.ENTROPY, s, null)))
                    .as("S %s", s).hasMessageContaining("finite number >= 0");
        }
    }

    @Test
    void shouldLeaveTheRulesThatNeedNToTheServiceWhenNIsUnknown() {
        ControlMessageValidator cli = new ControlMessageValidator("m", 0);
        assertThat(cli.validate("m", message(ExitPolicyName.PATIENCE, 9, null))).isEqualTo(ExitSetting.patience(9));
        assertThatThrownBy(() -> cli.validate("m", message(ExitPolicyName.PATIENCE, 0.5, null)))
                .hasMessageContaining("integer >= 1");
    }

    @Test
    void shouldRoundTripEverySettingThroughTheStoreSerde() {
        ExitSettingSerde serde = new ExitSettingSerde();
        for (ExitSettingInForce s : List.of(
                new ExitSettingInForce(ExitSetting.entropy(0.14), ExitSettingInForce.CONTROL_TOPIC),
                new ExitSettingInForce(ExitSetting.patience(2), ExitSettingInForce.CONTROL_TOPIC),
                new ExitSettingInForce(new ExitSetting(ExitPolicy.DIVERGENCE, 0.0, List.of(0.5, 0.25, 0.0)),
                        ExitSettingInForce.CONTROL_TOPIC),
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET,
                        new AccuracyBudget(0.005, 0.02, 0.1, 0.5, 500, 60_000, 0.9)))) {
            byte[] bytes = serde.serializer().serialize("t", s);
            assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(s);
        }
    }
}
