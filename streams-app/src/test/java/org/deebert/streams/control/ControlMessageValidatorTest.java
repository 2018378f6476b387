package org.deebert.streams.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;

/** The control-message rules for a 3-layer model named "m" with labels ham and spam (the same rules the CLI applies). */
class ControlMessageValidatorTest {

    private final ControlMessageValidator validator = new ControlMessageValidator("m", 3, List.of("ham", "spam"));

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

    private static ThresholdControl perLabel(ExitPolicyName policy, double value, Map<String, Double> byName) {
        return ThresholdControl.newBuilder(message(policy, value, null)).setLabelThresholds(byName).build();
    }

    @Test
    void shouldTurnLabelThresholdsByNameIntoTheSettingsByIndexListWithTheThresholdForLabelsLeftOut() {
        // ham strict (S = 0: never leaves early), spam loose.
        Map<String, Double> both = new LinkedHashMap<>();
        both.put("spam", 0.7);
        both.put("ham", 0.0);
        assertThat(validator.validate("m", perLabel(ExitPolicyName.ENTROPY, 0.14, both)))
                .isEqualTo(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.14, List.of(0.0, 0.7)));
        assertThat(validator.validate("m", perLabel(ExitPolicyName.DIVERGENCE, 0.14, Map.of("spam", 0.7))))
                .isEqualTo(ExitSetting.perLabel(ExitPolicy.DIVERGENCE, 0.14, List.of(0.14, 0.7)));
        assertThat(validator.validateMessage("m", perLabel(ExitPolicyName.ENTROPY, 0.14, Map.of("spam", 0.7))).source())
                .isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
    }

    @Test
    void shouldRejectLabelThresholdsWithAnUnknownLabelNamingTheModelsLabels() {
        assertThatThrownBy(() -> validator.validate("m", perLabel(ExitPolicyName.ENTROPY, 0.14, Map.of("phishing", 0.7))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown label 'phishing'").hasMessageContaining("[ham, spam]");
    }

    @Test
    void shouldRejectLabelThresholdsWithPatienceABadValuePerLayerThresholdsOrABudget() {
        assertThatThrownBy(() -> validator.validate("m", perLabel(ExitPolicyName.PATIENCE, 2, Map.of("spam", 0.7))))
                .hasMessageContaining("ENTROPY and DIVERGENCE only");
        for (double bad : new double[] {-0.1, Double.NaN, Double.NEGATIVE_INFINITY}) {
            assertThatThrownBy(() -> validator.validate("m", perLabel(ExitPolicyName.ENTROPY, 0.1, Map.of("spam", bad))))
                    .as("S %s", bad).hasMessageContaining("label 1 must be a finite number >= 0");
        }
        ThresholdControl withLayers = ThresholdControl.newBuilder(message(ExitPolicyName.ENTROPY, 0.1, List.of(0.1, 0.2, 0.3)))
                .setLabelThresholds(Map.of("spam", 0.7)).build();
        assertThatThrownBy(() -> validator.validate("m", withLayers)).hasMessageContaining("cannot be combined");
        ThresholdControl withBudget = ThresholdControl.newBuilder(perLabel(ExitPolicyName.ENTROPY, 0.1, Map.of("spam", 0.7)))
                .setBudget(ControlMessages.toAvro(new Budget(0.01, 0.1, 0.1, 0.5))).build();
        assertThatThrownBy(() -> validator.validateMessage("m", withBudget)).hasMessageContaining("per-label thresholds are not allowed");
        assertThatThrownBy(() -> validator.validate("m", perLabel(ExitPolicyName.ENTROPY, 0.1, Map.of())))
                .hasMessageContaining("name no label");
    }

    @Test
    void shouldRejectLabelThresholdsWhenTheModelsLabelsAreUnknown() {
        ControlMessageValidator noCard = new ControlMessageValidator("m", 0);
        assertThatThrownBy(() -> noCard.validate("m", perLabel(ExitPolicyName.ENTROPY, 0.1, Map.of("spam", 0.7))))
                .hasMessageContaining("need the model's labels");
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
                new ExitSettingInForce(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.14, List.of(0.0, 0.7)),
                        ExitSettingInForce.CONTROL_TOPIC),
                new ExitSettingInForce(ExitSetting.perLabel(ExitPolicy.DIVERGENCE, 0.0, List.of(0.1, 0.2, 0.3)),
                        ExitSettingInForce.MODEL_CARD),
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET,
                        new Budget(0.005, 0.02, 0.1, 0.5, 500, 60_000, 0.9)))) {
            byte[] bytes = serde.serializer().serialize("t", s);
            assertThat(bytes[0]).as("format marker").isEqualTo(ExitSettingSerde.MARKER);
            assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(s);
        }
    }

    /**
     * A value as the serde wrote it before label-conditional thresholds (format 1: no marker, no per-label part).
     */
    private static byte[] formatOne(double threshold, List<Double> perLayer, Budget b, String source, String policy) {
        byte[] src = source.getBytes(StandardCharsets.UTF_8);
        byte[] pol = policy.getBytes(StandardCharsets.UTF_8);
        int count = perLayer == null ? 0 : perLayer.size();
        ByteBuffer buffer = ByteBuffer.allocate(8 + 4 + 8 * count + 1 + (b == null ? 0 : 4 * 8 + 4 + 8 + 8) + 4
                + src.length + pol.length).putDouble(threshold).putInt(perLayer == null ? -1 : count);
        for (int i = 0; i < count; i++) {
            buffer.putDouble(perLayer.get(i));
        }
        buffer.put((byte) (b == null ? 0 : 1));
        if (b != null) {
            buffer.putDouble(b.maxDisagreement()).putDouble(b.sampleRate()).putDouble(b.minThreshold())
                    .putDouble(b.maxThreshold()).putInt(b.windowEvents()).putLong(b.windowMs()).putDouble(b.confidence());
        }
        return buffer.putInt(src.length).put(src).put(pol).array();
    }

    @Test
    void shouldStillReadValuesStoredInTheFormatBeforeLabelThresholds() {
        ExitSettingSerde serde = new ExitSettingSerde();
        Budget budget = new Budget(0.005, 0.02, 0.1, 0.5, 500, 60_000, 0.9);

        assertThat(serde.deserializer().deserialize("t", formatOne(0.14, null, null, "control-topic", "ENTROPY")))
                .isEqualTo(new ExitSettingInForce(ExitSetting.entropy(0.14), ExitSettingInForce.CONTROL_TOPIC));
        assertThat(serde.deserializer().deserialize("t",
                formatOne(0.0, List.of(0.5, 0.25, 0.0), null, "control-topic", "DIVERGENCE")))
                .isEqualTo(new ExitSettingInForce(new ExitSetting(ExitPolicy.DIVERGENCE, 0.0, List.of(0.5, 0.25, 0.0)),
                        ExitSettingInForce.CONTROL_TOPIC));
        assertThat(serde.deserializer().deserialize("t", formatOne(0.2, null, budget, "accuracy-budget", "ENTROPY")))
                .isEqualTo(new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET, budget));
        // -0.0 passes the S >= 0 check and starts with 0x80, never the marker 0xFF.
        assertThat(Math.abs(serde.deserializer().deserialize("t", formatOne(-0.0, null, null, "control-topic", "ENTROPY"))
                .setting().threshold())).isEqualTo(0.0);
    }

    @Test
    void shouldRefuseAStoredValueOfAnUnknownFormat() {
        byte[] future = new ExitSettingSerde().serializer().serialize("t",
                new ExitSettingInForce(ExitSetting.entropy(0.14), ExitSettingInForce.CONTROL_TOPIC));
        future[1] = 3;
        assertThatThrownBy(() -> new ExitSettingSerde().deserializer().deserialize("t", future))
                .isInstanceOf(SerializationException.class)
                .hasRootCauseMessage("unknown exit setting format 3 (this version reads 1 and 2)");
    }
}
