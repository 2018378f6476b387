package org.deebert.streams.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's summary reports the protected label's recall beside accuracy, per phase, overall and in its JSON. */
class DemoReportTest {

    private static final double INITIAL_S = 0.05;
    private static final double SWITCH_S = 0.0;
    private static final DemoReport.Run RUN = new DemoReport.Run("m", "1", 3, List.of("ham", "spam"), "cpu", "events.jsonl",
            4, 8, 0);
    /** A label-conditional first phase, the default card's shape: ham strict, spam loose. */
    private static final List<Double> BY_LABEL = List.of(0.1763, 0.5689);

    /** Gold a, b spam, c ham. Before: a found, b missed (recall 0.5). After: c correct, no spam (recall n/a). */
    private static DemoTally tally(String protectedLabel) {
        DemoTally tally = new DemoTally(Map.of("a", "spam", "b", "spam", "c", "ham"), Set.of(), 3, INITIAL_S, SWITCH_S,
                protectedLabel);
        tally.classified("a", DemoTallyTest.event("a", "spam", 1, INITIAL_S, "model-card", 1_000, 1.0));
        tally.classified("b", DemoTallyTest.event("b", "ham", 1, INITIAL_S, "model-card", 1_000, 1.0));
        tally.classified("c", DemoTallyTest.event("c", "ham", 3, SWITCH_S, "control-topic", 2_000, 1.0));
        return tally;
    }

    @Test
    void summaryHasASpamRecallColumnAndOverallFigure() {
        String summary = DemoReport.summary(RUN, tally("spam"));

        List<String> lines = summary.lines().toList();
        assertThat(lines.get(1)).contains("accuracy spam recall");
        assertThat(lines.get(2)).startsWith("  before").contains(" 0.5000      0.5000  ");
        assertThat(lines.get(3)).startsWith("  after").contains(" 1.0000         n/a  ");
        assertThat(summary).contains("overall: 3 classified, accuracy 0.6667, spam recall 0.5000, exit layers");
    }

    @Test
    void summaryWithoutAProtectedLabelHasNoRecall() {
        String summary = DemoReport.summary(RUN, tally(null));

        assertThat(summary).doesNotContain("recall");
        assertThat(summary).contains("overall: 3 classified, accuracy 0.6667, exit layers");
    }

    @Test
    void jsonCarriesTheProtectedLabelAndItsRecall() {
        Map<String, Object> json = DemoReport.summaryJson(RUN, tally("spam"));

        assertThat(json).containsEntry("protected_label", "spam").containsEntry("protected_recall", 0.5);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> phases = (List<Map<String, Object>>) json.get("phases");
        assertThat(phases.get(0)).containsEntry("phase", "before").containsEntry("protected_recall", 0.5);
        // No spam classified after the switch: its recall is undefined, written as null.
        assertThat(phases.get(1)).containsEntry("phase", "after").containsEntry("protected_recall", null);
    }

    @Test
    void aLabelConditionalPhaseShowsEveryLabelsSInTheTableTheLiveLineAndTheJson() {
        DemoTally tally = new DemoTally(Map.of("a", "spam", "b", "ham", "c", "spam"), Set.of(), 3, 0.1763, BY_LABEL, SWITCH_S,
                "spam");
        tally.classified("a", DemoTallyTest.event("a", "spam", 1, 0.1763, BY_LABEL, "model-card", 1_000, 1.0));
        tally.classified("b", DemoTallyTest.event("b", "ham", 2, 0.1763, BY_LABEL, "model-card", 1_000, 1.0));
        assertThat(DemoReport.liveLine(1.0, tally, 2.0, RUN.labels())).endsWith("S=ham 0.1763, spam 0.5689 nats (model-card)");
        tally.classified("c", DemoTallyTest.event("c", "ham", 3, SWITCH_S, "control-topic", 2_000, 1.0));

        String summary = DemoReport.summary(RUN, tally);

        List<String> lines = summary.lines().toList();
        assertThat(lines.get(1)).startsWith("  phase   S (nats)                 S source");
        assertThat(lines.get(2)).startsWith("  before  ham 0.1763, spam 0.5689  model-card         2    1.0000      1.0000");
        assertThat(lines.get(3)).startsWith("  after   0.0000                   control-topic      1    0.0000      0.0000");
        assertThat(summary).contains("S by label = label-conditional thresholds");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> phases = (List<Map<String, Object>>) DemoReport.summaryJson(RUN, tally).get("phases");
        assertThat(phases.get(0)).containsEntry("threshold_nats", 0.1763)
                .containsEntry("label_thresholds_nats", Map.of("ham", 0.1763, "spam", 0.5689));
        assertThat(phases.get(1)).containsEntry("label_thresholds_nats", null);
    }

    @Test
    void oneSForEveryLabelNeedsNoLabelNote() {
        assertThat(DemoReport.summary(RUN, tally("spam"))).doesNotContain("S by label");
        assertThat(DemoReport.setting(0.1417, null, RUN.labels())).isEqualTo("0.1417");
        assertThat(DemoReport.setting(0.1, List.of(0.0, 0.5, 0.25), RUN.labels())).isEqualTo("ham 0.0000, spam 0.5000, label 2 0.2500");
    }

    @Test
    void jsonWithoutAProtectedLabelHasNulls() {
        Map<String, Object> json = DemoReport.summaryJson(RUN, tally(null));

        assertThat(json).containsEntry("protected_label", null).containsEntry("protected_recall", null);
    }
}
