package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.deebert.streams.classifier.ExitSetting;
import org.deebert.streams.classifier.ExpectedSaving;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.topology.DeadLetterCode;
import org.deebert.streams.topology.ExitSettingInForce;
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
    void rejectsAnIntervalThatEndsBeforeItStarts() {
        assertThatThrownBy(() -> ExitTelemetryRecords.of("i", "m", "v", 6, 5, new long[3], Map.of(), CONTROL))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
