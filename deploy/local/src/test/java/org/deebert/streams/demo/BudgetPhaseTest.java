package org.deebert.streams.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.junit.jupiter.api.Test;

/** The budget phase's pure parts: difficulty order, per-half tally, the budget it sets, its table and JSON. */
class BudgetPhaseTest {

    private static final List<String> LABELS = List.of("ham", "spam");
    /** The default card's label-conditional thresholds, nats. */
    private static final double HAM_S = 0.17628520438299405;
    private static final double SPAM_S = 0.5688744696021595;

    private static DemoEvents.LabelledText text(String id) {
        return new DemoEvents.LabelledText(id, "text of " + id, "ham");
    }

    private static DifficultyOrder.Email email(String id, double meanEntropy, int fullLabel) {
        return new DifficultyOrder.Email(text(id), meanEntropy, fullLabel);
    }

    private static DifficultyOrder.Email labelled(String id, double meanEntropy, int fullLabel, String trueLabel) {
        return new DifficultyOrder.Email(new DemoEvents.LabelledText(id, "text of " + id, trueLabel), meanEntropy, fullLabel);
    }

    @Test
    void anEmailsDifficultyIsItsMeanOffRampEntropyAndItsFullAnswerTheLastOffRamps() {
        // Layer 1 says label 0 unsure, layer 2 says label 1 sure, layer 3 says label 1 unsure.
        float[][] logits = {{0.1f, 0f}, {0f, 50f}, {0f, 0.5f}};

        DifficultyOrder.Email e = DifficultyOrder.email(text("x"), logits);

        double expected = (ExitScores.softmaxEntropy(logits[0]) + ExitScores.softmaxEntropy(logits[1])
                + ExitScores.softmaxEntropy(logits[2])) / 3;
        assertThat(e.meanEntropy()).isCloseTo(expected, within(1e-12));
        assertThat(e.fullLabel()).isEqualTo(1);
        assertThat(ExitScores.argmax(new float[] {1f, 1f})).as("a tie goes to the lowest index").isZero();
        assertThatThrownBy(() -> DifficultyOrder.email(text("y"), new float[0][])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ordersEasyToHardStablyAndSplitsInHalves() {
        List<DifficultyOrder.Email> input = List.of(email("c", 0.5, 0), email("a", 0.1, 0), email("d", 0.9, 1),
                email("b", 0.1, 1), email("e", 0.3, 0));

        List<DifficultyOrder.Email> ordered = DifficultyOrder.easyToHard(input);

        assertThat(ordered).extracting(x -> x.text().id()).containsExactly("a", "b", "e", "c", "d");
        assertThat(DifficultyOrder.easyHalfSize(5)).isEqualTo(2);
        assertThat(DifficultyOrder.easyHalfSize(888)).isEqualTo(444);
        BudgetRunTally run = new BudgetRunTally("B", "b/", ordered, 3);
        assertThat(run.key(0)).isEqualTo("b/a");
        assertThat(run.halfOf(1)).isEqualTo(BudgetRunTally.Half.EASY);
        assertThat(run.halfOf(2)).isEqualTo(BudgetRunTally.Half.HARD);
    }

    @Test
    void talliesDisagreementSavingAndTheRangeOfSPerHalf() {
        List<DifficultyOrder.Email> ordered = List.of(email("e1", 0.01, 0), email("e2", 0.02, 1), email("h1", 0.4, 0),
                email("h2", 0.5, 1));
        BudgetRunTally run = new BudgetRunTally("B accuracy budget", "b/", ordered, 3);

        // Easy half: both agree with the full model, both leave at layer 1, S 0.14 then 0.69.
        assertThat(run.classified("b/e1", event("b/e1", 0, 1, 0.14))).isTrue();
        assertThat(run.classified("b/e2", event("b/e2", 1, 1, 0.69))).isTrue();
        // Hard half: h1 answers 1 where the full model says 0; h2 runs all 3 layers.
        assertThat(run.classified("b/h1", event("b/h1", 1, 1, 0.69))).isTrue();
        assertThat(run.complete()).isFalse();
        assertThat(run.classified("b/h2", event("b/h2", 1, 3, 0.3))).isTrue();

        assertThat(run.complete()).isTrue();
        BudgetRunTally.HalfStats easy = run.half(BudgetRunTally.Half.EASY);
        assertThat(easy.events()).isEqualTo(2);
        assertThat(easy.disagreement()).isZero();
        assertThat(easy.exitHistogram()).containsExactly(2, 0, 0);
        assertThat(easy.expectedSaving()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(easy.minThreshold()).isEqualTo(0.14);
        assertThat(easy.maxThreshold()).isEqualTo(0.69);
        assertThat(easy.thresholdSources()).containsExactly("accuracy-budget");
        BudgetRunTally.HalfStats hard = run.half(BudgetRunTally.Half.HARD);
        assertThat(hard.disagreements()).isEqualTo(1);
        assertThat(hard.disagreement()).isEqualTo(0.5);
        // Layers run 1 + 3 of 2 * 3: saving 1 - 4/6 (DeeBERT eq. 2).
        assertThat(hard.expectedSaving()).isCloseTo(1 - 4.0 / 6, within(1e-12));
        assertThat(BudgetReport.range(hard, LABELS)).isEqualTo("0.3000-0.6900");
        assertThat(hard.labelSettings()).isEmpty();
        assertThat(hard.withinBudget(0.05)).isFalse();
        assertThat(easy.withinBudget(0.05)).isTrue();
        assertThat(run.latestThreshold()).isEqualTo(0.3);
    }

    @Test
    void ignoresOtherRunsKeysAndCountsDuplicatesAndDeadLetters() {
        List<DifficultyOrder.Email> ordered = List.of(email("x", 0.1, 0), email("y", 0.2, 0));
        BudgetRunTally a = new BudgetRunTally("A", "a/", ordered, 2);

        assertThat(a.classified("b/x", event("b/x", 0, 1, 0.1))).as("run B's key").isFalse();
        assertThat(a.classified("x", event("x", 0, 1, 0.1))).as("the threshold phases' key").isFalse();
        assertThat(a.classified(null, event("x", 0, 1, 0.1))).isFalse();
        assertThat(a.classified("a/x", event("a/x", 0, 1, 0.1))).isTrue();
        assertThat(a.classified("a/x", event("a/x", 0, 1, 0.1))).isFalse();
        assertThat(a.deadLettered("a/y")).isTrue();

        assertThat(a.duplicates()).isEqualTo(1);
        assertThat(a.complete()).isTrue();
        assertThat(a.half(BudgetRunTally.Half.EASY).events()).isEqualTo(1);
        assertThat(a.half(BudgetRunTally.Half.HARD).events()).isZero();
        assertThat(a.half(BudgetRunTally.Half.HARD).deadLettered()).isEqualTo(1);
        assertThat(a.half(BudgetRunTally.Half.HARD).disagreement()).isNaN();
        assertThat(a.half(BudgetRunTally.Half.HARD).withinBudget(0.01)).as("an empty half holds it").isTrue();
        BudgetRunTally fresh = new BudgetRunTally("A", "a/", ordered, 2);
        assertThatThrownBy(() -> fresh.classified("a/y", event("a/y", 0, 3, 0.1))).as("exit layer beyond the model")
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(fresh.accountedFor()).as("a rejected event leaves its key open").isZero();
        assertThatThrownBy(() -> new BudgetRunTally("A", "a/", List.of(email("x", 0.1, 0), email("x", 0.2, 0)), 2))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theBudgetRunsFromTheCardsSToTheMaximumAndNeedsAnEntropyOrDivergenceCard() {
        Budget b = BudgetPhase.budget(ExitSetting.entropy(0.1417), 0.05, 1.0);

        assertThat(b.minThreshold()).isEqualTo(0.1417);
        assertThat(b.maxThreshold()).isEqualTo(BudgetPhase.MAX_S);
        assertThat(b.windowEvents()).isEqualTo(BudgetPhase.WINDOW_EVENTS);
        assertThat(b.maxDisagreement()).isEqualTo(0.05);
        // A card S above the maximum: the range collapses to it rather than being refused.
        assertThat(BudgetPhase.budget(ExitSetting.entropy(0.8), 0.05, 1.0).maxThreshold()).isEqualTo(0.8);
        assertThatThrownBy(() -> BudgetPhase.budget(ExitSetting.patience(2), 0.05, 1.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetPhase.budget(new ExitSetting(ExitPolicy.ENTROPY, 0.1, List.of(0.1, 0.2, 0.3)), 0.05, 1.0))
                .as("per-layer thresholds").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetPhase.budget(ExitSetting.entropy(0.1), 0.0, 1.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetPhase.budget(ExitSetting.entropy(0.1), 0.05, 1.5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new ExitSetting(ExitPolicy.DIVERGENCE, 0.01).policy().comparesScoreInNats()).isTrue();
    }

    @Test
    void aLabelConditionalCardStartsTheBudgetsOneSAtItsStrictestLabelS() {
        // The default card's shape: ham strict, spam loose. Its value is deliberately not the smallest here: the
        // budget starts at the smallest label S all the same, so no label starts looser than the card has it.
        ExitSetting card = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.3, List.of(HAM_S, SPAM_S));

        Budget b = BudgetPhase.budget(card, 0.05, 1.0);

        assertThat(BudgetPhase.startingS(card)).isEqualTo(HAM_S);
        assertThat(b.minThreshold()).isEqualTo(HAM_S);
        assertThat(b.maxThreshold()).isEqualTo(BudgetPhase.MAX_S);
        // What the controller will drive is one S for every label, inside the range: the budget accepts it.
        assertThat(b.check(ExitSetting.entropy(b.minThreshold()))).isNotNull();
        assertThat(BudgetPhase.startingS(ExitSetting.perLabel(ExitPolicy.DIVERGENCE, 0.01, List.of(0.02, 0.005))))
                .isEqualTo(0.005);
    }

    @Test
    void theTableHasOneRowPerRunAndHalfAndSaysWhetherTheBudgetHeld() {
        List<DifficultyOrder.Email> ordered = List.of(email("e", 0.01, 0), email("h", 0.5, 0));
        BudgetRunTally a = new BudgetRunTally("A card setting", "a/", ordered, 2);
        BudgetRunTally b = new BudgetRunTally("B accuracy budget", "b/", ordered, 2);
        a.classified("a/e", event("a/e", 0, 1, 0.14));
        a.classified("a/h", event("a/h", 0, 2, 0.14));
        b.classified("b/e", event("b/e", 0, 1, 0.69));
        b.classified("b/h", event("b/h", 1, 1, 0.69));
        Budget budget = BudgetPhase.budget(ExitSetting.entropy(0.14), 0.05, 1.0);
        BudgetReport.Result r = new BudgetReport.Result(budget, ExitSetting.entropy(0.14), LABELS, 8, 300, a, b,
                List.of(new BudgetReport.Decision(3.5, 120, 0.14, 0.69, "window 60 samples ...")));

        String table = BudgetReport.table(r);

        assertThat(table).contains("at most 5 % of answers").contains("one S for every label in [0.1400, 0.6900]");
        assertThat(table).contains("run A: the model card's setting, fixed: ENTROPY, S=0.1400 nats");
        assertThat(table.lines().filter(l -> l.startsWith("  A card setting") || l.startsWith("  B accuracy budget")))
                .hasSize(4);
        assertThat(table).containsPattern("A card setting +easy +1 +0\\.0000 +0\\.500  0\\.1400 +yes");
        assertThat(table).containsPattern("B accuracy budget +hard +1 +1\\.0000 +0\\.500  0\\.6900 +NO");
        assertThat(table).doesNotContain("recall");
        assertThat(table).contains("controller decisions during run B: 1 (S 0.1400 -> 0.6900)");
        assertThat(BudgetReport.decisionLine(r.decisions().get(0))).contains("120 events back: S 0.1400 -> 0.6900 nats | window 60 samples");

        Map<String, Object> json = BudgetReport.json(r);
        assertThat(json).containsEntry("card_threshold_nats", 0.14).containsEntry("card_label_thresholds_nats", null)
                .containsEntry("emails", 2);
        assertThat((List<?>) json.get("rows")).hasSize(4);
        assertThat((List<?>) json.get("controller_decisions")).hasSize(1);
    }

    @Test
    void runAKeepsTheCardsLabelConditionalSettingAndTheTableNamesItsLabelsAndTheSpamRecall() {
        // Gold: e1, h1 spam; e2, h2 ham. Full model: e1, h1 spam (1); e2, h2 ham (0).
        List<DifficultyOrder.Email> ordered = List.of(labelled("e1", 0.01, 1, "spam"), labelled("e2", 0.02, 0, "ham"),
                labelled("h1", 0.4, 1, "spam"), labelled("h2", 0.5, 0, "ham"));
        List<Double> card = List.of(HAM_S, SPAM_S);
        BudgetRunTally a = new BudgetRunTally("A card setting", "a/", ordered, 3, "spam");
        BudgetRunTally b = new BudgetRunTally("B accuracy budget", "b/", ordered, 3, "spam");
        // Run A, the card's per-label setting: every spam found; the hard ham answered spam at layer 1.
        a.classified("a/e1", event("a/e1", 1, 1, HAM_S, card));
        a.classified("a/e2", event("a/e2", 0, 2, HAM_S, card));
        a.classified("a/h1", event("a/h1", 1, 1, HAM_S, card));
        a.classified("a/h2", event("a/h2", 1, 1, HAM_S, card));
        // Run B, one S moved by the controller: the hard spam leaves early as ham (missed).
        b.classified("b/e1", event("b/e1", 1, 1, HAM_S));
        b.classified("b/e2", event("b/e2", 0, 1, 0.5));
        b.classified("b/h1", event("b/h1", 0, 1, 0.5));
        b.classified("b/h2", event("b/h2", 0, 3, 0.3));
        BudgetReport.Result r = new BudgetReport.Result(BudgetPhase.budget(ExitSetting.perLabel(ExitPolicy.ENTROPY, HAM_S, card),
                0.05, 1.0), ExitSetting.perLabel(ExitPolicy.ENTROPY, HAM_S, card), LABELS, 8, 300, a, b, List.of());

        BudgetRunTally.HalfStats aHard = a.half(BudgetRunTally.Half.HARD);
        assertThat(aHard.labelSettings()).containsExactly(card);
        assertThat(aHard.minThreshold()).as("no event of run A had one S").isNaN();
        assertThat(aHard.protectedRecall()).isEqualTo(1.0);
        assertThat(b.half(BudgetRunTally.Half.HARD).protectedRecall()).isEqualTo(0.0);
        assertThat(b.half(BudgetRunTally.Half.EASY).protectedRecall()).isEqualTo(1.0);

        String table = BudgetReport.table(r);

        assertThat(table).contains("run A: the model card's setting, fixed: ENTROPY, S by predicted label ham 0.1763, "
                + "spam 0.5689 nats");
        assertThat(table).contains("one S for every label in [0.1763, 0.6900]");
        assertThat(table).contains("disagreement spam recall");
        assertThat(table).containsPattern("A card setting +hard +2 +0\\.5000 +1\\.0000 +0\\.667  ham 0\\.1763, spam 0\\.5689 +NO");
        assertThat(table).containsPattern("B accuracy budget +hard +2 +0\\.5000 +0\\.0000 +0\\.333  0\\.3000-0\\.5000 +NO");
        assertThat(table).contains("spam recall = share of the half's emails labelled spam that were classified as spam");
        assertThat(table).contains("(disagreement 0.5000, spam recall 0.0000) where the card's fixed setting saved 0.667 "
                + "(disagreement 0.5000, spam recall 1.0000)");
        assertThat(BudgetReport.progressLine(a, 1.0, LABELS)).contains("S=ham 0.1763, spam 0.5689 nats (model-card)");

        Map<String, Object> json = BudgetReport.json(r);
        assertThat(json).containsEntry("card_threshold_nats", HAM_S).containsEntry("protected_label", "spam");
        assertThat(json.get("card_label_thresholds_nats")).isEqualTo(Map.of("ham", HAM_S, "spam", SPAM_S));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) json.get("rows");
        assertThat(rows.get(1)).containsEntry("run", "A card setting").containsEntry("half", "hard")
                .containsEntry("protected_recall", 1.0).containsEntry("min_threshold_nats", null)
                .containsEntry("label_thresholds_nats", List.of(Map.of("ham", HAM_S, "spam", SPAM_S)));
        assertThat(rows.get(3)).containsEntry("protected_recall", 0.0).containsEntry("min_threshold_nats", 0.3)
                .containsEntry("label_thresholds_nats", List.of());
    }

    @Test
    void theDemoRunsTheBudgetPhaseByDefaultAndSkipsItOnRequest() {
        Demo on = new Demo();
        new picocli.CommandLine(on).parseArgs();
        assertThat(on.budgetPhase).isTrue();
        assertThat(on.budgetMaxDisagreement).isEqualTo(0.05);
        assertThat(on.budgetSampleRate).isEqualTo(1.0);

        Demo off = new Demo();
        new picocli.CommandLine(off).parseArgs("--no-budget-phase", "--budget-sample-rate", "0.5");
        assertThat(off.budgetPhase).isFalse();
        assertThat(off.budgetSampleRate).isEqualTo(0.5);
    }

    private static ClassifiedEvent event(String id, int labelIndex, int exitLayer, double s) {
        return event(id, labelIndex, exitLayer, s, null);
    }

    /** An output event classified under S, or under per-label thresholds (source model-card) when given. */
    private static ClassifiedEvent event(String id, int labelIndex, int exitLayer, double s, List<Double> byLabel) {
        return ClassifiedEvent.newBuilder()
                .setId(id).setText("").setLabel(labelIndex == 1 ? "spam" : "ham").setLabelIndex(labelIndex)
                .setProbabilities(List.of(0.5f, 0.5f)).setExitLayer(exitLayer).setNumLayers(3)
                .setExitEntropy(0.1).setExitScore(0.1).setThreshold(s).setLabelThresholds(byLabel)
                .setExitPolicy(ExitPolicyName.ENTROPY)
                .setThresholdSource(byLabel == null ? "accuracy-budget" : "model-card").setModelName("m").setModelVersion("1")
                .setEventTime(Instant.ofEpochMilli(0)).setProcessedAt(Instant.ofEpochMilli(0))
                .setProcessingTimeMs(1.0).setBatchSize(1)
                .build();
    }
}
