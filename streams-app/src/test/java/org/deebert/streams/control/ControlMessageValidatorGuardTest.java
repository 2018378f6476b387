package org.deebert.streams.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.deebert.streams.budget.Budget.LabelGuard;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;

/** An accuracy budget's label guard on the control topic: the validator's rules, the message builder, the store serde. */
class ControlMessageValidatorGuardTest {

    private static final List<String> LABELS = List.of("ham", "spam");
    private static final Budget BUDGET = new Budget(0.05, 0.02, 0.1, 0.5, 500, 60_000, 0.9);
    private static final Budget GUARDED = BUDGET.withGuard(new LabelGuard("spam", 0.01));

    private final ControlMessageValidator service = new ControlMessageValidator("m", 3, LABELS);

    private static ThresholdControl budgetMessage(Budget budget) {
        return ControlMessages.budgetSetting("m", ExitPolicy.ENTROPY, 0.2, budget, "ops", "test",
                Instant.EPOCH);
    }

    /** A guarded message whose two guard fields are set by hand (as another producer might write them). */
    private static ThresholdControl withGuardFields(String label, Double maxRecallLoss) {
        ThresholdControl m = budgetMessage(BUDGET);
        m.getBudget().setProtectedLabel(label);
        m.getBudget().setMaxRecallLoss(maxRecallLoss);
        return m;
    }

    @Test
    void aGuardedBudgetRoundTripsThroughItsMessage() {
        ThresholdControl m = budgetMessage(GUARDED);
        assertThat(m.getBudget().getProtectedLabel()).isEqualTo("spam");
        assertThat(m.getBudget().getMaxRecallLoss()).isEqualTo(0.01);
        assertThat(m.getThreshold()).isEqualTo(0.2);
        assertThat(m.getLayerThresholds()).isNull();

        ExitSettingInForce inForce = service.validateMessage("m", m);
        assertThat(inForce.source()).isEqualTo(ExitSettingInForce.ACCURACY_BUDGET);
        assertThat(inForce.budget()).isEqualTo(GUARDED);
        assertThat(inForce.setting()).isEqualTo(ExitSetting.entropy(0.2));

        // Without a guard both fields stay null, which is also what messages written before the guard read as.
        ThresholdControl plain = budgetMessage(BUDGET);
        assertThat(plain.getBudget().getProtectedLabel()).isNull();
        assertThat(plain.getBudget().getMaxRecallLoss()).isNull();
        assertThat(service.validateMessage("m", plain).budget()).isEqualTo(BUDGET);
    }

    @Test
    void oneGuardFieldWithoutTheOtherIsRejected() {
        assertThatThrownBy(() -> service.validateMessage("m", withGuardFields("spam", null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both a protected label and a max"
                        + " recall loss");
        assertThatThrownBy(() -> service.validateMessage("m", withGuardFields(null, 0.01)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only max recall loss 0.01");
    }

    @Test
    void aMaxRecallLossOutsideZeroToOneIsRejected() {
        for (double bad : new double[] {0.0, 1.0, -0.5, Double.NaN}) {
            assertThatThrownBy(() -> service.validateMessage("m", withGuardFields("spam", bad))).as("%s", bad)
                    .hasMessageContaining("max recall loss must be a share in (0, 1)");
        }
    }

    @Test
    void anUnknownLabelIsRejectedWhereTheLabelsAreKnownAndLeftToTheServiceWhereTheyAreNot() {
        assertThatThrownBy(() -> service.validateMessage("m", withGuardFields("eggs", 0.01)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("protected label 'eggs' is not one of the model's labels [ham, spam]");
        // The CLI without a model card does not know the labels: it lets the message through for the service.
        ControlMessageValidator cli = new ControlMessageValidator("m", 0);
        assertThat(cli.validateMessage("m", withGuardFields("eggs", 0.01)).budget().guard().label()).isEqualTo("eggs");
    }

    @Test
    void theStoreSerdeKeepsTheGuard() {
        ExitSettingSerde serde = new ExitSettingSerde();
        for (ExitSettingInForce s : List.of(
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET, GUARDED),
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET,
                        BUDGET.withGuard(new LabelGuard("pourriel \u00e9t\u00e9", 0.25))),
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET, BUDGET))) {
            assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", s))).isEqualTo(s);
        }
        // A guard label whose length claims more bytes than are left is corrupt, not an allocation.
        byte[] bytes = serde.serializer().serialize("t",
                new ExitSettingInForce(ExitSetting.entropy(0.2), ExitSettingInForce.ACCURACY_BUDGET, GUARDED));
        // marker, format, S, no per-layer list, no per-label list, budget flag, the budget's fields
        int labelLengthAt = 2 + 8 + 4 + 4 + 1 + 4 * 8 + 4 + 8 + 8;
        java.nio.ByteBuffer.wrap(bytes).putInt(labelLengthAt, Integer.MAX_VALUE);
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", bytes))
                .isInstanceOf(org.apache.kafka.common.errors.SerializationException.class);
    }
}
