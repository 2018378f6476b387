package org.deebert.streams.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.junit.jupiter.api.Test;

/** The demo's accounting: phases by recorded S, accuracy, exit histograms, completeness, throughput. */
class DemoTallyTest {

    private static final double INITIAL_S = 0.05;
    private static final double SWITCH_S = 0.0;

    private static DemoTally tally() {
        return new DemoTally(Map.of("a", "spam", "b", "ham", "c", "spam", "d", "ham"), Set.of("bad"), 3, INITIAL_S, SWITCH_S,
                "spam");
    }

    @Test
    void attributesEventsToPhasesByTheirRecordedThresholdNotByArrivalOrder() {
        DemoTally tally = tally();

        // "c" arrives before "b" but was classified under the new S: it belongs to "after" all the same.
        tally.classified("a", event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 2.0));
        tally.classified("c", event("c", "ham", 3, SWITCH_S, "control-topic", 3_000, 6.0));
        tally.classified("b", event("b", "ham", 2, INITIAL_S, "model-card", 1_500, 4.0));

        PhaseStats before = tally.before();
        assertThat(before.events()).isEqualTo(2);
        assertThat(before.accuracy()).isEqualTo(1.0);
        assertThat(before.exitHistogram()).containsExactly(1, 1, 0);
        assertThat(before.thresholdSource()).isEqualTo("model-card");
        // Layers run 1 + 2 of 2 * 3: saving 1 - 3/6 (DeeBERT eq. 2).
        assertThat(before.expectedSaving()).isEqualTo(0.5);
        assertThat(before.meanClassifierMs()).isEqualTo(3.0);
        assertThat(before.meanBatchSize()).isEqualTo(1.0);
        PhaseStats after = tally.after();
        assertThat(after.events()).isEqualTo(1);
        assertThat(after.accuracy()).isEqualTo(0.0);
        assertThat(after.exitHistogram()).containsExactly(0, 0, 1);
        assertThat(after.expectedSaving()).isEqualTo(0.0);
        assertThat(tally.other().events()).isZero();
        assertThat(tally.accuracy()).isEqualTo(2.0 / 3);
        assertThat(tally.exitHistogram()).containsExactly(1, 1, 1);
    }

    @Test
    void measuresTheProtectedLabelsRecallPerPhaseAndOverall() {
        // Gold: a, c, e, f spam; b, d ham. Before: a found, c missed, b a false alarm (hurts accuracy, not recall).
        // After: e and f found. Recall before 1/2, after 2/2, overall 3/4; accuracy overall 3/5.
        DemoTally tally = new DemoTally(Map.of("a", "spam", "b", "ham", "c", "spam", "d", "ham", "e", "spam", "f", "spam"),
                Set.of(), 3, INITIAL_S, SWITCH_S, "spam");
        tally.classified("a", event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0));
        tally.classified("b", event("b", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0));
        tally.classified("c", event("c", "ham", 1, INITIAL_S, "model-card", 1_000, 1.0));
        tally.classified("e", event("e", "spam", 2, SWITCH_S, "control-topic", 2_000, 1.0));
        tally.classified("f", event("f", "spam", 2, SWITCH_S, "control-topic", 2_000, 1.0));

        assertThat(tally.protectedLabel()).isEqualTo("spam");
        assertThat(tally.before().protectedRecall()).isEqualTo(0.5);
        assertThat(tally.after().protectedRecall()).isEqualTo(1.0);
        assertThat(tally.protectedRecall()).isEqualTo(0.75);
        assertThat(tally.accuracy()).isEqualTo(3.0 / 5);
        assertThat(tally.other().protectedRecall()).isNaN();
    }

    @Test
    void hasNoProtectedRecallWhenTheCardNamesNoLabel() {
        DemoTally tally = new DemoTally(Map.of("a", "spam", "b", "ham"), Set.of(), 3, INITIAL_S, SWITCH_S, null);
        tally.classified("a", event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0));

        assertThat(tally.protectedRecall()).isNaN();
        assertThat(tally.before().protectedRecall()).isNaN();
    }

    @Test
    void isCompleteOnlyWhenEveryRecordSentCameBackOnEitherTopic() {
        DemoTally tally = tally();
        for (String id : List.of("a", "b", "c")) {
            tally.classified(id, event(id, "ham", 3, INITIAL_S, "model-card", 1_000, 1.0));
        }
        tally.deadLettered("bad", "NOT_WIRE_FORMAT");
        assertThat(tally.complete()).isFalse();

        tally.deadLettered("d", "TEXT_TOO_LONG");

        assertThat(tally.complete()).isTrue();
        assertThat(tally.accountedFor()).isEqualTo(5);
        assertThat(tally.deadLetters()).isEqualTo(2);
        assertThat(tally.deadLetteredEvents()).isEqualTo(1);
        assertThat(tally.deadLetterCodes()).containsEntry("NOT_WIRE_FORMAT", 1L).containsEntry("TEXT_TOO_LONG", 1L);
    }

    @Test
    void ignoresDuplicatesAndKeysItNeverSent() {
        DemoTally tally = tally();

        assertThat(tally.classified("a", event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0))).isTrue();
        assertThat(tally.classified("a", event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0))).isFalse();
        assertThat(tally.deadLettered("stranger", null)).isFalse();

        assertThat(tally.classifiedCount()).isEqualTo(1);
        assertThat(tally.duplicates()).isEqualTo(1);
        assertThat(tally.unexpected()).isEqualTo(1);
    }

    @Test
    void eventsWithAThresholdOfNeitherPhaseGoToOther() {
        DemoTally tally = tally();

        tally.classified("a", event("a", "spam", 1, 0.7, "control-topic", 1_000, 1.0));

        assertThat(tally.other().events()).isEqualTo(1);
        assertThat(tally.before().events()).isZero();
        assertThat(tally.after().events()).isZero();
    }

    @Test
    void refusesEqualThresholdsBecauseThePhasesCouldNotBeToldApart() {
        assertThatThrownBy(() -> new DemoTally(Map.of("a", "ham"), Set.of(), 3, 0.1, 0.1, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLabelConditionalFirstPhaseIsToldApartFromOneSOfTheSameValue() {
        // The card's label-conditional setting records its value (the ham S) in threshold; a control message setting
        // that same value as one S for every label is another setting and must not count as the card's phase.
        List<Double> byLabel = List.of(0.1763, 0.5689);
        DemoTally tally = new DemoTally(Map.of("a", "spam", "b", "ham", "c", "ham"), Set.of(), 3, 0.1763, byLabel, 0.1763,
                "spam");

        tally.classified("a", event("a", "spam", 1, 0.1763, byLabel, "model-card", 1_000, 1.0));
        tally.classified("b", event("b", "ham", 3, 0.1763, null, "control-topic", 2_000, 1.0));
        tally.classified("c", event("c", "ham", 1, 0.1763, List.of(0.1763, 0.7), "control-topic", 2_000, 1.0));

        assertThat(tally.before().events()).isEqualTo(1);
        assertThat(tally.before().labelThresholds()).containsExactly(0.1763, 0.5689);
        assertThat(tally.before().protectedRecall()).isEqualTo(1.0);
        assertThat(tally.after().events()).isEqualTo(1);
        assertThat(tally.after().labelThresholds()).isNull();
        assertThat(tally.other().events()).as("another per-label setting").isEqualTo(1);
        assertThat(tally.latestLabelThresholds()).containsExactly(0.1763, 0.7);
    }

    @Test
    void measuresEventsPerSecondFromTheEndOfTheFirstBatchToTheEndOfTheLast() {
        PhaseStats phase = new PhaseStats("before", INITIAL_S, 2);
        // Two batches of two: the first finishes at t=1000 ms, the second at t=1500 ms.
        phase.add(1, true, false, "model-card", 1_000, 1.0, 2);
        phase.add(1, true, false, "model-card", 1_000, 1.0, 2);
        phase.add(2, true, false, "model-card", 1_500, 1.0, 2);
        phase.add(2, true, false, "model-card", 1_500, 1.0, 2);

        // Two events finished within the 0.5 s after the first batch.
        assertThat(phase.eventsPerSecond()).isEqualTo(4.0);
    }

    @Test
    void hasNoThroughputForASingleBatch() {
        PhaseStats phase = new PhaseStats("after", SWITCH_S, 2);
        phase.add(2, true, false, "control-topic", 1_000, 1.0, 2);

        assertThat(phase.eventsPerSecond()).isNaN();
    }

    static ClassifiedEvent event(String id, String label, int exitLayer, double s, String source, long processedAtMs,
                                         double processingMs) {
        return event(id, label, exitLayer, s, null, source, processedAtMs, processingMs);
    }

    /** An output event as the service writes it, with per-label thresholds (by label index) when not null. */
    static ClassifiedEvent event(String id, String label, int exitLayer, double s, List<Double> byLabel, String source,
                                 long processedAtMs, double processingMs) {
        return ClassifiedEvent.newBuilder()
                .setId(id).setText("").setLabel(label).setLabelIndex(label.equals("spam") ? 1 : 0)
                .setProbabilities(List.of(0.5f, 0.5f)).setExitLayer(exitLayer).setNumLayers(3)
                .setExitEntropy(0.1).setExitScore(0.1).setThreshold(s).setLabelThresholds(byLabel)
                .setExitPolicy(ExitPolicyName.ENTROPY)
                .setThresholdSource(source).setModelName("m").setModelVersion("1")
                .setEventTime(Instant.ofEpochMilli(0)).setProcessedAt(Instant.ofEpochMilli(processedAtMs))
                .setProcessingTimeMs(processingMs).setBatchSize(1)
                .build();
    }
}
