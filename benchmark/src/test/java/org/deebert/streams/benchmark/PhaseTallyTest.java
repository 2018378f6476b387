package org.deebert.streams.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PhaseTallyTest {

    @Test
    void phaseTallyCountsOnceAndChecksLabelsAndThreshold() {
        Map<String, String> truth = new LinkedHashMap<>();
        truth.put("a", "spam");
        truth.put("b", "ham");
        truth.put("c", "ham");
        truth.put("d", "spam");
        PhaseTally t = new PhaseTally(truth, 3, 0.14);
        t.classified("a", "spam", 1, 2, 0.14, 1_000_000_000L, 30, 200); // a and b: one batch of 2, 400 ms
        t.classified("b", "spam", 3, 2, 0.14, 1_500_000_000L, 50, 200);
        t.classified("b", "ham", 1, 2, 0.14, 1_600_000_000L, 10, 200); // duplicate: ignored
        t.classified("c", "ham", 2, 1, 0.0, 2_000_000_000L, 70, 100);  // another S
        assertThat(t.expects("x")).isFalse();
        assertThat(t.complete()).isFalse();
        assertThat(t.missing()).isEqualTo(1);
        t.deadLettered("d");
        assertThat(t.complete()).isTrue();
        assertThat(t.classifiedCount()).isEqualTo(3);
        assertThat(t.deadLetteredCount()).isEqualTo(1);
        assertThat(t.duplicates()).isEqualTo(1);
        assertThat(t.thresholdMismatches()).isEqualTo(1);
        assertThat(t.exitHistogram()).containsExactly(1, 1, 1);
        assertThat(t.expectedSaving()).isCloseTo(1 - 6.0 / 9.0, within(1e-12)); // eq. 2: 1 - (1+2+3)/(3*3)
        assertThat(t.accuracy()).isCloseTo(2.0 / 3.0, within(1e-12));
        assertThat(t.meanBatch()).isCloseTo(5.0 / 3.0, within(1e-12));
        assertThat(t.eventsPerSecond()).isEqualTo(2.0); // 2 events after the first over 1 s
        assertThat(t.latency().p50Ms()).isEqualTo(50);
        assertThat(t.classifierBusySeconds()).isCloseTo(0.5, within(1e-12)); // the batch of 2 once, plus c's
    }

    @Test
    void stagesAreSummarizedPerStageAndARepeatIsNotCounted() {
        Map<String, String> truth = new LinkedHashMap<>();
        truth.put("a", "spam");
        truth.put("b", "ham");
        PhaseTally t = new PhaseTally(truth, 2, 0.14);
        assertThat(t.classified("a", "spam", 1, 2, 0.14, 1L, 60, 5)).isTrue();
        t.stages(20, 10, 30);
        assertThat(t.classified("b", "ham", 2, 2, 0.14, 2L, 90, 5)).isTrue();
        t.stages(40, 10, 40);
        assertThat(t.classified("b", "ham", 2, 2, 0.14, 3L, 90, 5)).isFalse(); // a repeat: no stages either
        Map<String, BenchmarkStats.LatencySummary> s = t.stageLatency();
        assertThat(s.keySet()).containsExactly("wait", "classify_batch", "visible");
        assertThat(s.get("wait").count()).isEqualTo(2);
        assertThat(s.get("wait").maxMs()).isEqualTo(40);
        assertThat(s.get("classify_batch").p50Ms()).isEqualTo(10);
        assertThat(s.get("visible").maxMs()).isEqualTo(40);
        assertThat(new PhaseTally(truth, 2, 0.14).stageLatency().get("visible").count()).isZero();
    }

    @Test
    void protectedRecallCountsOnlyEventsWhoseTrueLabelIsTheProtectedOne() {
        Map<String, String> truth = new LinkedHashMap<>();
        truth.put("a", "spam");
        truth.put("b", "spam");
        truth.put("c", "spam");
        truth.put("d", "ham");
        PhaseTally t = new PhaseTally(truth, 2, 0.14, "spam");
        t.classified("a", "spam", 1, 4, 0.14, 1L, 1, 1);
        t.classified("b", "ham", 1, 4, 0.14, 2L, 1, 1);   // spam let through
        t.classified("c", "spam", 2, 4, 0.14, 3L, 1, 1);
        t.classified("d", "spam", 1, 4, 0.14, 4L, 1, 1);  // a false alarm does not change spam recall
        assertThat(t.protectedLabel()).isEqualTo("spam");
        assertThat(t.protectedRecall()).isCloseTo(2.0 / 3.0, within(1e-12));
        assertThat(new PhaseTally(truth, 2, 0.14).protectedRecall()).isNull();
    }

    @Test
    void aPhaseAtTheCardsLabelConditionalSettingCountsOtherSettingsAsMismatches() {
        Map<String, String> truth = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c", "d")) {
            truth.put(id, "ham");
        }
        List<Double> card = List.of(0.1763, 0.5689);
        PhaseTally t = new PhaseTally(truth, 2, 0.1763, card, null);

        t.classified("a", "ham", 1, 4, 0.1763, List.of(0.1763, 0.5689), 1L, 1, 1);  // the card's setting
        t.classified("b", "ham", 1, 4, 0.1763, null, 2L, 1, 1);                    // the card's value as one S
        t.classified("c", "ham", 1, 4, 0.1763, List.of(0.1763, 0.7), 3L, 1, 1);    // another per-label setting
        t.classified("d", "ham", 1, 4, 0.2, card, 4L, 1, 1);                       // another recorded S

        assertThat(t.thresholdMismatches()).isEqualTo(3);
        // A one-S phase: the old signature records no per-label thresholds, and an event with some is a mismatch.
        PhaseTally oneS = new PhaseTally(truth, 2, 0.1763);
        oneS.classified("a", "ham", 1, 4, 0.1763, 1L, 1, 1);
        oneS.classified("b", "ham", 1, 4, 0.1763, card, 2L, 1, 1);
        assertThat(oneS.thresholdMismatches()).isEqualTo(1);
    }
}
