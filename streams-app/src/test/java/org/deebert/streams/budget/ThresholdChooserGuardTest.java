package org.deebert.streams.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.deebert.streams.budget.ShadowWindows.INF;
import static org.deebert.streams.budget.ShadowWindows.randomWindow;
import static org.deebert.streams.budget.ShadowWindows.twoLayer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.deebert.streams.budget.Budget.LabelGuard;
import org.deebert.streams.budget.ThresholdDecision.Action;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ShadowTrace;
import org.junit.jupiter.api.Test;

/** The budget controller's decision with a label guard: a second Wilson bound, on the protected label's recall loss. */
class ThresholdChooserGuardTest {

    private static final List<String> LABELS = List.of("ham", "spam");
    private static final int HAM = 0;
    private static final int SPAM = 1;
    /** 5 % of answers may differ, S in [0, 1], 95 %. */
    private static final Budget BUDGET = new Budget(0.05, 0.1, 0.0, 1.0);
    /** ... and at most 5 % of the spam the full model catches may be let through. */
    private static final Budget GUARDED = BUDGET.withGuard(new LabelGuard("spam", 0.05));

    private static List<ShadowTrace> copies(int count, ShadowTrace trace) {
        return Collections.nCopies(count, trace);
    }

    private static List<ShadowTrace> shuffled(List<List<ShadowTrace>> parts) {
        List<ShadowTrace> window = new ArrayList<>();
        parts.forEach(window::addAll);
        Collections.shuffle(window, new Random(11));
        return window;
    }

    /**
     * 400 ham and 96 spam that every off-ramp gets right (entropy 0.1), and 4 spam that layer 1 calls ham with
     * entropy 0.3. Above S = 0.3 those 4 are missed: 4 of 500 answers (bound 1.77 %, well within 5 %), but 4 of
     * the 100 spam (bound 8.6 %).
     */
    private static final List<ShadowTrace> SPAM_PAYS = shuffled(List.of(copies(400, twoLayer(HAM, HAM, 0.1)),
            copies(96, twoLayer(SPAM, SPAM, 0.1)), copies(4, twoLayer(HAM, SPAM, 0.3))));

    private static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, double current) {
        return ThresholdChooser.decide(window, budget, LABELS, ExitPolicy.ENTROPY, current, true);
    }

    @Test
    void theGuardForbidsAnSThatTheBudgetAloneAllowsWhenTheProtectedLabelPaysForIt() {
        // Without the guard: every missed spam is one disagreement in 500, so the budget takes the maximum.
        ThresholdDecision alone = decide(SPAM_PAYS, BUDGET, 0.0);
        assertThat(alone.threshold()).isEqualTo(1.0);
        assertThat(alone.disagreementsAtThreshold()).isEqualTo(4);
        assertThat(alone.upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(4, 500, 0.95)).isLessThan(0.04);
        assertThat(alone.guard()).isNull();

        // With it: 4 of 100 spam missed above 0.3 is over 5 % (bound 8.6 %), so S stops at 0.3, where none is.
        ThresholdDecision guarded = decide(SPAM_PAYS, GUARDED, 0.0);
        assertThat(guarded.action()).isEqualTo(Action.RAISE);
        assertThat(guarded.threshold()).isEqualTo(0.3);
        assertThat(guarded.unattainable()).isFalse();
        assertThat(guarded.disagreementsAtThreshold()).isZero();
        ThresholdDecision.GuardFigures g = guarded.guard();
        assertThat(g.label()).isEqualTo("spam");
        assertThat(g.maxRecallLoss()).isEqualTo(0.05);
        assertThat(g.samples()).isEqualTo(100);
        assertThat(g.missedAtThreshold()).isZero();
        assertThat(g.recallLoss()).isZero();
        assertThat(g.upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(0, 100, 0.95));
        assertThat(g.missedAtCurrent()).isZero();
        assertThat(guarded.reason()).isEqualTo("window 500 samples: at S=0.3000 nats 0 disagree (0.00 %, upper bound"
                + " 0.54 % at 95 %) <= budget 5.00 %; spam recall loss <= 5.00 % (upper 2.63 %, n=100, 0 missed);"
                + " was S=0.0000 (upper bound 0.54 %, spam recall loss upper 2.63 %); raised to the S with headroom:"
                + " its upper bound is <= 4.00 % and its spam recall loss bound is <= 4.00 % and it exceeds the S in"
                + " force by more than the margin 0.0100");

        // An S the budget alone would keep (bound 1.77 %) is lowered at once when the guard arrives.
        ThresholdDecision lower = decide(SPAM_PAYS, GUARDED, 1.0);
        assertThat(decide(SPAM_PAYS, BUDGET, 1.0).action()).isEqualTo(Action.HOLD);
        assertThat(lower.action()).isEqualTo(Action.LOWER);
        assertThat(lower.threshold()).isEqualTo(0.3);
        assertThat(lower.upperBoundAtCurrent()).isLessThan(0.05);
        assertThat(lower.guard().missedAtCurrent()).isEqualTo(4);
        assertThat(lower.guard().upperBoundAtCurrent()).isEqualTo(ConfidenceBounds.wilsonUpper(4, 100, 0.95))
                .isGreaterThan(0.05);
        assertThat(lower.reason()).contains("was S=1.0000 (upper bound 1.77 %, spam recall loss upper 8.62 %)",
                "lowered at once to the S with headroom (upper bound <= 4.00 % and spam recall loss bound <= 4.00 %):"
                        + " the S in force breaks the spam guard");
    }

    @Test
    void theGuardCountsOnlyTheFullModelsProtectedAnswers() {
        // 20 ham that layer 1 calls spam above 0.3 are disagreements, not spam recall loss.
        List<ShadowTrace> window = shuffled(List.of(copies(380, twoLayer(HAM, HAM, 0.1)),
                copies(100, twoLayer(SPAM, SPAM, 0.1)), copies(20, twoLayer(SPAM, HAM, 0.3))));
        ThresholdDecision d = decide(window, GUARDED, 0.6);
        assertThat(d.guard().samples()).isEqualTo(100);
        assertThat(d.guard().missedAtCurrent()).isZero();
        assertThat(d.disagreementsAtCurrent()).isEqualTo(20);
        // ... which the budget judges: 20 of 500 is over 5 % at 95 %, and S goes down for the budget's sake.
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.threshold()).isEqualTo(0.3);
        assertThat(d.reason()).contains("the S in force breaks the budget").doesNotContain("breaks the budget and");

        // Protecting ham instead: the 20 are its recall loss, 20 of 400.
        ThresholdDecision ham = decide(window, BUDGET.withGuard(new LabelGuard("ham", 0.05)), 0.6);
        assertThat(ham.guard().samples()).isEqualTo(400);
        assertThat(ham.guard().missedAtCurrent()).isEqualTo(20);
        assertThat(ham.reason()).contains("the S in force breaks the budget and the ham guard");
    }

    @Test
    void fewProtectedSamplesKeepSAtTheMinimum() {
        // 20 spam, all caught at every S: no miss, but 0 of 20 has a bound of 11.9 % at 95 %, over 5 %.
        List<ShadowTrace> few = shuffled(List.of(copies(480, twoLayer(HAM, HAM, 0.1)),
                copies(20, twoLayer(SPAM, SPAM, 0.1))));
        ThresholdDecision d = decide(few, GUARDED, 0.4);
        assertThat(decide(few, BUDGET, 0.4).threshold()).isEqualTo(1.0);
        assertThat(d.threshold()).isEqualTo(0.0);
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.unattainable()).isTrue();
        assertThat(d.guard().upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(0, 20, 0.95)).isGreaterThan(0.05);
        assertThat(d.reason()).contains("spam recall loss > 5.00 % possible (upper 11.92 %, n=20, 0 missed)",
                "lowered to the minimum: spam guard unattainable in range, even S=0.0000 breaks it");

        // 65 spam without a miss are what a raise under 5 % needs at 95 % (bound 3.99 % <= 4 %); 64 are not.
        for (int spam : new int[] {64, 65}) {
            List<ShadowTrace> window = shuffled(List.of(copies(435, twoLayer(HAM, HAM, 0.1)),
                    copies(spam, twoLayer(SPAM, SPAM, 0.1))));
            assertThat(decide(window, GUARDED, 0.0).threshold()).as("%d spam", spam).isEqualTo(spam == 65 ? 1.0 : 0.0);
        }
    }

    @Test
    void aWindowWithoutTheProtectedLabelKeepsSAtTheMinimum() {
        List<ShadowTrace> hamOnly = copies(500, twoLayer(HAM, HAM, 0.1));
        assertThat(decide(hamOnly, BUDGET, 0.5).threshold()).isEqualTo(1.0);

        ThresholdDecision d = decide(hamOnly, GUARDED, 0.5);
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.threshold()).isEqualTo(0.0);
        assertThat(d.unattainable()).isTrue();
        assertThat(d.guard().evaluable()).isFalse();
        assertThat(d.guard().samples()).isZero();
        assertThat(d.guard().recallLoss()).isZero();
        assertThat(d.guard().upperBound()).isEqualTo(1.0);
        assertThat(d.reason()).contains("spam recall loss > 5.00 % possible (upper 100.00 %, n=0, 0 missed: no spam in"
                + " the window, not evaluable)", "spam guard unattainable in range");

        // An empty window still holds: nothing to judge at all.
        ThresholdDecision empty = decide(List.of(), GUARDED, 0.5);
        assertThat(empty.action()).isEqualTo(Action.HOLD);
        assertThat(empty.threshold()).isEqualTo(0.5);
        assertThat(empty.guard().samples()).isZero();
        assertThat(empty.guard().upperBound()).isEqualTo(1.0);
    }

    @Test
    void aBudgetWithoutAGuardDecidesAsBefore() {
        Random random = new Random(3);
        for (int round = 0; round < 100; round++) {
            List<ShadowTrace> window = randomWindow(random, 1 + random.nextInt(200), ShadowWindows::gridScore);
            double current = random.nextDouble();
            boolean mayRaise = random.nextBoolean();
            assertThat(ThresholdChooser.decide(window, BUDGET, List.of("a", "b", "c"), ExitPolicy.ENTROPY, current,
                    mayRaise)).isEqualTo(ThresholdChooser.decide(window, BUDGET, ExitPolicy.ENTROPY, current, mayRaise));
        }
    }

    @Test
    void aGuardNeedsTheModelsLabels() {
        assertThatThrownBy(() -> ThresholdChooser.decide(SPAM_PAYS, GUARDED, ExitPolicy.ENTROPY, 0.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'spam'");
        assertThatThrownBy(() -> decide(SPAM_PAYS, BUDGET.withGuard(new LabelGuard("eggs", 0.01)), 0.0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("protected label 'eggs' is not one of the model's labels [ham, spam]");
    }

    // ---- the rule with a guard, by brute force ----

    private record Brute(List<ShadowTrace> window, List<ShadowTrace> guarded, Budget budget, ExitPolicy policy) {

        double bound(double s) {
            return ConfidenceBounds.wilsonUpper(DisagreementSweep.bruteForce(window, policy, s), window.size(),
                    budget.confidence());
        }

        double guardBound(double s) {
            return ConfidenceBounds.wilsonUpper(DisagreementSweep.bruteForce(guarded, policy, s), guarded.size(),
                    budget.confidence());
        }

        boolean within(double s, double share) {
            return bound(s) <= share * budget.maxDisagreement()
                    && guardBound(s) <= share * budget.guard().maxRecallLoss();
        }

        /** The largest of min, max and every score in (min, max] within both limits times {@code share}; NaN if none. */
        double largest(double share) {
            TreeSet<Double> candidates = new TreeSet<>(List.of(budget.minThreshold(), budget.maxThreshold()));
            for (ShadowTrace trace : window) {
                for (int layer = 1; layer <= trace.numLayers(); layer++) {
                    double s = trace.score(policy, layer);
                    if (s > budget.minThreshold() && s <= budget.maxThreshold()) {
                        candidates.add(s);
                    }
                }
            }
            for (double s : candidates.descendingSet()) {
                if (within(s, share)) {
                    return s;
                }
            }
            return Double.NaN;
        }

        double decide(double current, boolean mayRaise) {
            double c = Math.min(budget.maxThreshold(), Math.max(budget.minThreshold(), current));
            double feasible = largest(1.0);
            double comfortable = largest(ThresholdChooser.RAISE_HEADROOM);
            if (!within(c, 1.0)) {
                return !Double.isNaN(comfortable) ? comfortable : !Double.isNaN(feasible) ? feasible : budget.minThreshold();
            }
            boolean raise = !Double.isNaN(comfortable) && comfortable > c + Math.max(0.01, 0.1 * c);
            return raise && mayRaise ? comfortable : c;
        }
    }

    @Test
    void decideWithAGuardFollowsTheRuleOnRandomWindows() {
        Random random = new Random(41);
        List<String> labels = List.of("a", "b", "c");
        double[] shares = {0.02, 0.05, 0.1, 0.3};
        int lowered = 0;
        int raised = 0;
        int unattainable = 0;
        int guardBound = 0;
        for (int round = 0; round < 300; round++) {
            List<ShadowTrace> window = randomWindow(random, 1 + random.nextInt(300), ShadowWindows::gridScore);
            double min = random.nextBoolean() ? 0.0 : 0.1;
            int index = random.nextInt(3);
            Budget budget = new Budget(shares[random.nextInt(shares.length)], 0.1, min,
                    min + 0.2 + random.nextDouble(), 1000, 600_000, random.nextBoolean() ? 0.95 : 0.9,
                    new LabelGuard(labels.get(index), shares[random.nextInt(shares.length)]));
            double current = -0.1 + 1.5 * random.nextDouble();
            boolean mayRaise = random.nextInt(3) != 0;
            for (ExitPolicy policy : new ExitPolicy[] {ExitPolicy.ENTROPY, ExitPolicy.DIVERGENCE}) {
                List<ShadowTrace> guarded = window.stream().filter(t -> t.fullModelLabel() == index).toList();
                Brute brute = new Brute(window, guarded, budget, policy);
                double expected = brute.decide(current, mayRaise);

                ThresholdDecision d = ThresholdChooser.decide(window, budget, labels, policy, current, mayRaise);
                assertThat(d.threshold()).as("round %d %s", round, policy).isEqualTo(expected);
                assertThat(d.unattainable()).isEqualTo(Double.isNaN(brute.largest(1.0)));
                assertThat(d.guard().samples()).isEqualTo(guarded.size());
                assertThat(d.guard().missedAtThreshold()).isEqualTo(DisagreementSweep.bruteForce(guarded, policy, expected));
                assertThat(d.guard().upperBound()).isEqualTo(brute.guardBound(expected));
                assertThat(d.upperBound()).isEqualTo(brute.bound(expected));
                if (!d.unattainable()) {
                    assertThat(d.guard().upperBound()).isLessThanOrEqualTo(budget.guard().maxRecallLoss());
                }
                lowered += d.action() == Action.LOWER ? 1 : 0;
                raised += d.action() == Action.RAISE ? 1 : 0;
                unattainable += d.unattainable() ? 1 : 0;
                // Windows where the guard, not the budget, decided: the budget alone would have gone elsewhere.
                guardBound += ThresholdChooser.decide(window, budget.withGuard(null), policy, current, mayRaise)
                        .threshold() != d.threshold() ? 1 : 0;
            }
        }
        assertThat(lowered).isGreaterThan(20);
        assertThat(raised).isGreaterThan(20);
        assertThat(unattainable).isGreaterThan(20);
        assertThat(guardBound).isGreaterThan(20);
    }
}
