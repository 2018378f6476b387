package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ExpectedSaving;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.control.ExitSettingInForce;
import org.junit.jupiter.api.Test;

class ExitTelemetryRecordsTest {

    private static final ExitSettingInForce CONTROL = new ExitSettingInForce(ExitSetting.entropy(0.25),
            ExitSettingInForce.CONTROL_TOPIC);

    @Test
    void buildsTheIntervalsRecordFromItsHistogram() {
        long[] histogram = {6, 0, 3, 1};

        ExitTelemetry t = ExitTelemetryRecords.of("app-host-1234abcd", "spam", "1.0.0", 10_000, 12_000, histogram,
                Map.of(DeadLetterCode.NOT_WIRE_FORMAT, 2L, DeadLetterCode.EMPTY_TEXT, 0L, DeadLetterCode.TEXT_TOO_LONG, 1L),
                CONTROL);

        assertThat(t.getInstanceId()).isEqualTo("app-host-1234abcd");
        assertThat(t.getModelName()).isEqualTo("spam");
        assertThat(t.getModelVersion()).isEqualTo("1.0.0");
        assertThat(t.getIntervalStart()).isEqualTo(Instant.ofEpochMilli(10_000));
        assertThat(t.getIntervalEnd()).isEqualTo(Instant.ofEpochMilli(12_000));
        assertThat(t.getExitHistogram()).containsExactly(6L, 0L, 3L, 1L);
        assertThat(t.getEvents()).isEqualTo(10);
        assertThat(t.getEventsPerSecond()).isEqualTo(5.0);
        // eq. 2: 1 - (1*6 + 3*3 + 4*1) / (4 * 10) = 1 - 19/40
        assertThat(t.getExpectedSaving()).isEqualTo(ExpectedSaving.expectedSaving(histogram)).isEqualTo(1 - 19.0 / 40);
        assertThat(t.getThreshold()).isEqualTo(0.25);
        assertThat(t.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(t.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
        assertThat(t.getDeadLetters()).isEqualTo(3);
        assertThat(t.getDeadLettersByCode()).containsExactlyInAnyOrderEntriesOf(
                Map.of("NOT_WIRE_FORMAT", 2L, "TEXT_TOO_LONG", 1L));
    }

    @Test
    void anEmptyIntervalHasNoEventsAndNoSaving() {
        ExitTelemetry t = ExitTelemetryRecords.of("i", "m", "v", 5, 5, new long[3], Map.of(), CONTROL);
        assertThat(t.getEvents()).isZero();
        assertThat(t.getEventsPerSecond()).isZero();
        assertThat(t.getExpectedSaving()).isZero();
        assertThat(t.getDeadLettersByCode()).isEmpty();
    }

    @Test
    void carriesTheBudgetsLabelGuardAndTheControllersFiguresForIt() {
        Budget guarded = new Budget(0.05, 0.02, 0.1, 0.5)
                .withGuard(new Budget.LabelGuard("spam", 0.01));
        ExitSettingInForce budget = new ExitSettingInForce(ExitSetting.entropy(0.3), ExitSettingInForce.ACCURACY_BUDGET,
                guarded);
        ControllerStatus status = new ControllerStatus(400, 0.01, 0.025, 0.3, 0.05,
                new ControllerStatus.Guard("spam", 0.01, 120, 0.0, 0.022));

        ExitTelemetry t = ExitTelemetryRecords.of("i", "m", "v", 0, 1000, new long[3], Map.of(), budget, 7, status);

        assertThat(t.getMaxDisagreement()).isEqualTo(0.05);
        assertThat(t.getProtectedLabel()).isEqualTo("spam");
        assertThat(t.getMaxRecallLoss()).isEqualTo(0.01);
        assertThat(t.getController().getChosenThreshold()).isEqualTo(0.3);
        assertThat(t.getController().getProtectedSamples()).isEqualTo(120);
        assertThat(t.getController().getProtectedRecallLoss()).isEqualTo(0.0);
        assertThat(t.getController().getProtectedRecallLossUpperBound()).isEqualTo(0.022);

        // Without a guard the guard's fields stay null, on the instance running the controller and elsewhere.
        ExitTelemetry plain = ExitTelemetryRecords.of("i", "m", "v", 0, 1000, new long[3], Map.of(),
                new ExitSettingInForce(ExitSetting.entropy(0.3), ExitSettingInForce.ACCURACY_BUDGET, guarded.withGuard(null)),
                7, new ControllerStatus(400, 0.01, 0.025, 0.3, 0.05));
        assertThat(plain.getProtectedLabel()).isNull();
        assertThat(plain.getMaxRecallLoss()).isNull();
        assertThat(plain.getController().getProtectedSamples()).isNull();
        assertThat(plain.getController().getProtectedRecallLossUpperBound()).isNull();
        assertThat(ExitTelemetryRecords.of("i", "m", "v", 0, 1000, new long[3], Map.of(), budget, 7, null)
                .getMaxRecallLoss()).isEqualTo(0.01);
    }

    @Test
    void rejectsAnIntervalThatEndsBeforeItStarts() {
        assertThatThrownBy(() -> ExitTelemetryRecords.of("i", "m", "v", 6, 5, new long[3], Map.of(), CONTROL))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
