package org.deebert.streams.observability;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExpectedSaving;
import org.deebert.streams.schema.ControllerWindow;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.control.ExitSettingInForce;

/** Builds one {@link ExitTelemetry} record from what happened in one interval. */
public final class ExitTelemetryRecords {

    private ExitTelemetryRecords() {
    }

    /**
     * @param instanceId    the writing instance (also the record key)
     * @param modelName     the model's name, from its card
     * @param modelVersion  the model's version, from its card
     * @param startMs       interval start, ms since the epoch
     * @param endMs         interval end, ms since the epoch (&gt;= startMs)
     * @param exitHistogram events per exit layer in the interval, index 0 = layer 1 (its length = layers)
     * @param deadLetters   records dead-lettered in the interval, by code (zero counts are left out)
     * @param setting       the exit setting in force at the interval's end
     * @return the record: events = the histogram's sum, events/s = events / interval length in s, expected
     *     saving by {@link ExpectedSaving} (paper eq. 2)
     * @throws IllegalArgumentException if the histogram is empty or has a negative count, or endMs &lt; startMs
     */
    public static ExitTelemetry of(String instanceId, String modelName, String modelVersion, long startMs, long endMs,
                                   long[] exitHistogram, Map<DeadLetterCode, Long> deadLetters, ExitSettingInForce setting) {
        return of(instanceId, modelName, modelVersion, startMs, endMs, exitHistogram, deadLetters, setting, 0, null);
    }

    /**
     * As {@link #of(String, String, String, long, long, long[], Map, ExitSettingInForce)}, with the accuracy
     * budget's figures: the interval's shadow samples, the budget in force (from {@code setting}, its label guard
     * included) and the budget controller's window when this instance runs it.
     *
     * @param shadowSamples events run as shadow samples in the interval (&gt;= 0)
     * @param controller    the controller's last decision on this instance, or null
     */
    public static ExitTelemetry of(String instanceId, String modelName, String modelVersion, long startMs, long endMs,
                                   long[] exitHistogram, Map<DeadLetterCode, Long> deadLetters, ExitSettingInForce setting,
                                   long shadowSamples, ControllerStatus controller) {
        if (endMs < startMs) {
            throw new IllegalArgumentException("interval ends (" + endMs + ") before it starts (" + startMs + ")");
        }
        double saving = ExpectedSaving.expectedSaving(exitHistogram); // also rejects empty/negative histograms
        long events = 0;
        List<Long> histogram = new ArrayList<>(exitHistogram.length);
        for (long n : exitHistogram) {
            events += n;
            histogram.add(n);
        }
        Map<String, Long> byCode = new TreeMap<>();
        long deadTotal = 0;
        for (Map.Entry<DeadLetterCode, Long> e : deadLetters.entrySet()) {
            if (e.getValue() != 0) {
                byCode.put(e.getKey().name(), e.getValue());
                deadTotal += e.getValue();
            }
        }
        double seconds = (endMs - startMs) / 1e3;
        Budget.LabelGuard guard = setting.budget() == null ? null : setting.budget().guard();
        return ExitTelemetry.newBuilder()
                .setInstanceId(instanceId)
                .setModelName(modelName)
                .setModelVersion(modelVersion)
                .setIntervalStart(Instant.ofEpochMilli(startMs))
                .setIntervalEnd(Instant.ofEpochMilli(endMs))
                .setEvents(events)
                .setEventsPerSecond(seconds > 0 ? events / seconds : 0.0)
                .setExitHistogram(histogram)
                .setExpectedSaving(saving)
                .setThreshold(setting.setting().threshold())
                .setExitPolicy(ControlMessages.toAvro(setting.setting().policy()))
                .setThresholdSource(setting.source())
                .setDeadLetters(deadTotal)
                .setDeadLettersByCode(new LinkedHashMap<>(byCode))
                .setShadowSamples(shadowSamples)
                .setMaxDisagreement(setting.budget() == null ? null : setting.budget().maxDisagreement())
                .setController(controller == null ? null : controllerWindow(controller))
                .setProtectedLabel(guard == null ? null : guard.label())
                .setMaxRecallLoss(guard == null ? null : guard.maxRecallLoss())
                .build();
    }

    private static ControllerWindow controllerWindow(ControllerStatus controller) {
        ControllerStatus.Guard g = controller.guard();
        return ControllerWindow.newBuilder()
                .setWindowSamples(controller.windowSamples()).setDisagreement(controller.disagreement())
                .setDisagreementUpperBound(controller.upperBound()).setChosenThreshold(controller.threshold())
                .setProtectedSamples(g == null ? null : g.protectedSamples())
                .setProtectedRecallLoss(g == null ? null : g.recallLoss())
                .setProtectedRecallLossUpperBound(g == null ? null : g.upperBound())
                .build();
    }
}
