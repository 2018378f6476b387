package org.deebert.streams.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.deebert.streams.budget.ShadowWindows.INF;
import static org.deebert.streams.budget.ShadowWindows.randomWindow;
import static org.deebert.streams.budget.ShadowWindows.twoLayer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;
import org.assertj.core.data.Offset;
import org.deebert.streams.budget.ThresholdDecision.Action;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ShadowTrace;
import org.junit.jupiter.api.Test;

class ThresholdChooserTest {

    private static final ExitPolicy[] POLICIES = {ExitPolicy.ENTROPY, ExitPolicy.DIVERGENCE};

    private static List<ShadowTrace> window(int agree, double agreeEntropy, int disagree, double disagreeEntropy) {
        List<ShadowTrace> window = new ArrayList<>();
        for (int i = 0; i < agree; i++) {
            window.add(twoLayer(0, 0, agreeEntropy));
        }
        for (int i = 0; i < disagree; i++) {
            window.add(twoLayer(1, 0, disagreeEntropy));
        }
        Collections.shuffle(window, new Random(7));
        return window;
    }

    /** 200 agree when leaving at layer 1 (entropy 0.1), 20 disagree (entropy 0.5): S* = 0.5 at 5 %, 95 %. */
    private static final List<ShadowTrace> WINDOW = window(200, 0.1, 20, 0.5);
    private static final Budget BUDGET = new Budget(0.05, 0.1, 0.0, 1.0);

    private static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, double current) {
        return ThresholdChooser.decide(window, budget, ExitPolicy.ENTROPY, current);
    }

    private static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, double current, boolean mayRaise) {
        return ThresholdChooser.decide(window, budget, ExitPolicy.ENTROPY, current, mayRaise);
    }

    // ---- the sweep against brute force ----

    /** Every finite score >= 0 of the window, their midpoints, and a few others: where the step function can move. */
    private static List<Double> probes(List<ShadowTrace> window, ExitPolicy policy) {
        TreeSet<Double> scores = new TreeSet<>(List.of(0.0, 1e-12, 0.05, 0.6, 10.0));
        for (ShadowTrace trace : window) {
            for (int layer = 1; layer <= trace.numLayers(); layer++) {
                double s = trace.score(policy, layer);
                if (Double.isFinite(s) && s >= 0) {
                    scores.add(s);
                    scores.add(Math.nextUp(s));
                }
            }
        }
        List<Double> probes = new ArrayList<>(scores);
        for (int i = 0; i + 1 < scores.size(); i++) {
            probes.add(0.5 * (probes.get(i) + probes.get(i + 1)));
        }
        return probes;
    }

    @Test
    void sweepCountsEqualBruteForceOnRandomWindows() {
        Random random = new Random(20240611);
        for (int round = 0; round < 200; round++) {
            List<ShadowTrace> window = randomWindow(random, random.nextInt(120), ShadowWindows::randomScore);
            for (ExitPolicy policy : POLICIES) {
                DisagreementSweep sweep = DisagreementSweep.of(window, policy);
                for (double s : probes(window, policy)) {
                    assertThat(sweep.disagreements(s)).as("round %d, %s, S=%s", round, policy, s)
                            .isEqualTo(DisagreementSweep.bruteForce(window, policy, s));
                }
            }
        }
    }

    @Test
    void sweepHonoursTheStrictInequalityAtABreakpoint() {
        List<ShadowTrace> window = List.of(twoLayer(1, 0, 0.3), twoLayer(1, 0, 0.3), twoLayer(0, 0, 0.2));
        DisagreementSweep sweep = DisagreementSweep.of(window, ExitPolicy.ENTROPY);
        assertThat(sweep.disagreements(0.3)).isZero();
        assertThat(sweep.disagreements(Math.nextUp(0.3))).isEqualTo(2);
        assertThat(DisagreementSweep.bruteForce(window, ExitPolicy.ENTROPY, 0.3)).isZero();
        // A later layer's lower score does not matter once an earlier layer exits: labels 1, 0, 0 with entropies
        // 0.4, 0.1: at S in (0.1, 0.4] it leaves at layer 2 and agrees, above 0.4 at layer 1 and disagrees.
        ShadowTrace three = new ShadowTrace(new int[] {1, 0, 0}, new double[] {0.4, 0.1, 0.9},
                new double[] {INF, 0.1, 0.9});
        DisagreementSweep one = DisagreementSweep.of(List.of(three), ExitPolicy.ENTROPY);
        assertThat(one.disagreements(0.4)).isZero();
        assertThat(one.disagreements(0.41)).isEqualTo(1);
        assertThat(DisagreementSweep.of(List.of(three), ExitPolicy.DIVERGENCE).disagreements(5.0)).isZero();
    }

    /** S* by brute force: the largest of min, max and every score in (min, max] within budget; NaN if none. */
    private static double bruteBest(List<ShadowTrace> window, Budget budget, ExitPolicy policy) {
        return bruteLargest(window, budget, policy, budget.maxDisagreement());
    }

    /** The largest of min, max and every score in (min, max] whose bound is at most {@code limit}; NaN if none. */
    private static double bruteLargest(List<ShadowTrace> window, Budget budget, ExitPolicy policy,
                                       double limit) {
        TreeSet<Double> candidates = new TreeSet<>(List.of(budget.minThreshold(), budget.maxThreshold()));
        for (double s : probes(window, policy)) {
            if (s > budget.minThreshold() && s <= budget.maxThreshold()) {
                candidates.add(s);
            }
        }
        for (double s : candidates.descendingSet()) {
            if (bruteBound(window, budget, policy, s) <= limit) {
                return s;
            }
        }
        return Double.NaN;
    }

    private static double bruteBound(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double s) {
        return ConfidenceBounds.wilsonUpper(DisagreementSweep.bruteForce(window, policy, s), window.size(),
                budget.confidence());
    }

    private static Budget randomBudget(Random random) {
        double[] shares = {0.02, 0.05, 0.1, 0.3};
        double[] mins = {0.0, 0.05, 0.1, 0.23};
        double[] widths = {0.0, 0.1, 0.3, 1.0};
        double[] confidences = {0.5, 0.9, 0.95, 0.99};
        double min = mins[random.nextInt(mins.length)];
        return new Budget(shares[random.nextInt(shares.length)], 0.1, min,
                min + widths[random.nextInt(widths.length)], 1000, 600_000,
                confidences[random.nextInt(confidences.length)]);
    }

    @Test
    void largestWithinBudgetIsTheLargestFeasibleSOnRandomWindows() {
        Random random = new Random(99);
        int feasible = 0;
        int infeasible = 0;
        for (int round = 0; round < 300; round++) {
            List<ShadowTrace> window = randomWindow(random, 1 + random.nextInt(300), ShadowWindows::randomScore);
            Budget budget = randomBudget(random);
            for (ExitPolicy policy : POLICIES) {
                double best = ThresholdSearch.largestWithinBudget(DisagreementSweep.of(window, policy),
                        window.size(), budget);
                // Boxed, so that NaN (none within budget) equals NaN.
                assertThat(Double.valueOf(best)).as("round %d %s", round, policy)
                        .isEqualTo(Double.valueOf(bruteBest(window, budget, policy)));
                if (Double.isNaN(best)) {
                    infeasible++;
                    continue;
                }
                feasible++;
                // No S above S* in range is within budget, on a fine grid.
                for (double s = best + 1e-3; s <= budget.maxThreshold(); s += 1e-3) {
                    assertThat(bruteBound(window, budget, policy, s)).isGreaterThan(budget.maxDisagreement());
                }
            }
        }
        assertThat(feasible).isGreaterThan(50);
        assertThat(infeasible).isGreaterThan(50);
    }

    @Test
    void largestWithinALimitIsTheLargestSWithThatBoundOnRandomWindows() {
        Random random = new Random(17);
        int found = 0;
        int none = 0;
        for (int round = 0; round < 300; round++) {
            List<ShadowTrace> window = randomWindow(random, 1 + random.nextInt(300), ShadowWindows::randomScore);
            Budget budget = randomBudget(random);
            double limit = ThresholdChooser.RAISE_HEADROOM * budget.maxDisagreement();
            for (ExitPolicy policy : POLICIES) {
                DisagreementSweep sweep = DisagreementSweep.of(window, policy);
                double comfortable = ThresholdSearch.largestWithinBudget(sweep, window.size(), budget, limit);
                assertThat(Double.valueOf(comfortable)).as("round %d %s", round, policy)
                        .isEqualTo(Double.valueOf(bruteLargest(window, budget, policy, limit)));
                if (Double.isNaN(comfortable)) {
                    none++;
                } else {
                    found++;
                    // S** <= S*: a tighter limit never allows a larger S.
                    assertThat(comfortable).isLessThanOrEqualTo(
                            ThresholdSearch.largestWithinBudget(sweep, window.size(), budget));
                }
            }
        }
        assertThat(found).isGreaterThan(50);
        assertThat(none).isGreaterThan(50);
    }

    /**
     * The rule by brute force. With {@code headroom = RAISE_HEADROOM} it is the chooser's; with 1 it is the
     * rule before the dead band (raise to S* itself, lower to S*), which flapped.
     */
    private static double modelS(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double current,
                                 boolean mayRaise, double headroom) {
        double c = Math.min(budget.maxThreshold(), Math.max(budget.minThreshold(), current));
        if (window.isEmpty()) {
            return c;
        }
        double feasible = bruteBest(window, budget, policy);
        double comfortable = bruteLargest(window, budget, policy, headroom * budget.maxDisagreement());
        if (bruteBound(window, budget, policy, c) > budget.maxDisagreement()) {
            return !Double.isNaN(comfortable) ? comfortable
                    : !Double.isNaN(feasible) ? feasible : budget.minThreshold();
        }
        boolean raise = !Double.isNaN(comfortable) && comfortable > c + Math.max(0.01, 0.1 * c);
        return raise && mayRaise ? comfortable : c;
    }

    @Test
    void decideFollowsTheHysteresisRuleOnRandomWindows() {
        Random random = new Random(5);
        int[] branches = new int[5]; // headroom, feasible, unattainable (all over budget); raise; deferred
        for (int round = 0; round < 400; round++) {
            List<ShadowTrace> window = randomWindow(random, 1 + random.nextInt(300), ShadowWindows::randomScore);
            Budget budget = randomBudget(random);
            double current = -0.1 + 1.5 * random.nextDouble();
            boolean mayRaise = random.nextInt(3) != 0;
            for (ExitPolicy policy : POLICIES) {
                double c = Math.min(budget.maxThreshold(), Math.max(budget.minThreshold(), current));
                boolean unattainable = Double.isNaN(bruteBest(window, budget, policy));
                double expected = modelS(window, budget, policy, current, mayRaise, ThresholdChooser.RAISE_HEADROOM);

                ThresholdDecision d = ThresholdChooser.decide(window, budget, policy, current, mayRaise);
                if (mayRaise) {
                    assertThat(ThresholdChooser.decide(window, budget, policy, current)).isEqualTo(d);
                }
                String r = d.reason();
                branches[0] += r.contains("at once to the S with headroom") ? 1 : 0;
                branches[1] += r.contains("at once to the largest S within budget") ? 1 : 0;
                branches[2] += r.contains("budget unattainable in range") ? 1 : 0;
                branches[3] += r.contains("raised to the S with headroom") ? 1 : 0;
                branches[4] += r.contains("raise deferred") ? 1 : 0;
                if (!mayRaise && bruteBound(window, budget, policy, c) <= budget.maxDisagreement()) {
                    assertThat(d.threshold()).as("round %d %s: no raise", round, policy).isEqualTo(c);
                }
                assertThat(d.threshold()).as("round %d %s", round, policy).isEqualTo(expected);
                assertThat(d.unattainable()).isEqualTo(unattainable);
                assertThat(d.samples()).isEqualTo(window.size());
                assertThat(d.disagreementsAtThreshold()).isEqualTo(DisagreementSweep.bruteForce(window, policy, expected));
                assertThat(d.disagreement()).isEqualTo((double) d.disagreementsAtThreshold() / window.size());
                assertThat(d.upperBound()).isEqualTo(bruteBound(window, budget, policy, expected));
                assertThat(d.disagreementsAtCurrent()).isEqualTo(DisagreementSweep.bruteForce(window, policy, c));
                assertThat(d.action()).isEqualTo(expected > current ? Action.RAISE
                        : expected < current ? Action.LOWER : Action.HOLD);
                if (!unattainable) {
                    assertThat(d.upperBound()).isLessThanOrEqualTo(budget.maxDisagreement());
                }
                if (d.threshold() != c) {
                    // Every move but to the unattainable minimum lands with headroom, or within budget where no
                    // S has headroom.
                    assertThat(unattainable || d.upperBound() <= ThresholdChooser.RAISE_HEADROOM
                            * budget.maxDisagreement() || Double.isNaN(bruteLargest(window, budget, policy,
                            ThresholdChooser.RAISE_HEADROOM * budget.maxDisagreement()))).isTrue();
                }
            }
        }
        for (int count : branches) {
            assertThat(count).as("every branch taken: %s", java.util.Arrays.toString(branches)).isGreaterThan(3);
        }
    }

    // ---- the three hysteresis cases ----

    @Test
    void raisesToTheLargestSWithHeadroomWhenItBeatsTheMargin() {
        Locale saved = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY); // the audit text must not depend on it
        try {
            ThresholdDecision d = decide(WINDOW, BUDGET, 0.2);
            assertThat(d.action()).isEqualTo(Action.RAISE);
            assertThat(d.threshold()).isEqualTo(0.5); // at 0.5 the 0.5-entropy inputs do not exit yet
            assertThat(d.samples()).isEqualTo(220);
            assertThat(d.disagreementsAtThreshold()).isZero();
            assertThat(d.disagreement()).isZero();
            assertThat(d.upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(0, 220, 0.95));
            assertThat(d.disagreementsAtCurrent()).isZero();
            assertThat(d.unattainable()).isFalse();
            assertThat(d.reason()).isEqualTo("window 220 samples: at S=0.5000 nats 0 disagree (0.00 %, upper bound"
                    + " 1.21 % at 95 %) <= budget 5.00 %; was S=0.2000 (upper bound 1.21 %); raised to the S with"
                    + " headroom: its upper bound is <= 4.00 % and it exceeds the S in force by more than the margin"
                    + " 0.0200");
        } finally {
            Locale.setDefault(saved);
        }
        assertThat(decide(WINDOW, BUDGET, 0.45).action()).isEqualTo(Action.RAISE); // 0.5 > 0.45 + 0.045
    }

    @Test
    void holdsWhenTheSWithHeadroomIsWithinTheMargin() {
        ThresholdDecision d = decide(WINDOW, BUDGET, 0.46); // 0.5 <= 0.46 + 0.046
        assertThat(d.action()).isEqualTo(Action.HOLD);
        assertThat(d.threshold()).isEqualTo(0.46);
        assertThat(d.reason()).endsWith("held: S with headroom S=0.5000 (upper bound <= 4.00 %) is within the margin"
                + " 0.0460");
        assertThat(decide(WINDOW, BUDGET, 0.5).action()).isEqualTo(Action.HOLD);

        // Near S = 0 the margin is 0.01 nats, not 10 % of almost nothing.
        assertThat(decide(window(200, 0.001, 20, 0.009), BUDGET, 0.0).action()).isEqualTo(Action.HOLD);
        ThresholdDecision up = decide(window(200, 0.001, 20, 0.011), BUDGET, 0.0);
        assertThat(up.action()).isEqualTo(Action.RAISE);
        assertThat(up.threshold()).isEqualTo(0.011);
    }

    @Test
    void lowersAtOnceWhenTheSInForceBreaksTheBudget() {
        ThresholdDecision d = decide(WINDOW, BUDGET, 0.8);
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.threshold()).isEqualTo(0.5);
        assertThat(d.disagreementsAtCurrent()).isEqualTo(20);
        assertThat(d.upperBoundAtCurrent()).isEqualTo(ConfidenceBounds.wilsonUpper(20, 220, 0.95)).isGreaterThan(0.05);
        assertThat(d.disagreementsAtThreshold()).isZero();
        assertThat(d.reason()).contains("was S=0.8000 (upper bound 12.80 %)",
                "lowered at once to the S with headroom (upper bound <= 4.00 %): the S in force breaks the budget");
        // Just above the breakpoint is already over budget: no margin on the way down.
        assertThat(decide(WINDOW, BUDGET, Math.nextUp(0.5)).action()).isEqualTo(Action.LOWER);
    }

    @Test
    void lowersToTheLargestSWithinBudgetWhenNoneHasHeadroom() {
        // 100 samples; one disagrees at every S >= min (entropy 0.01 < 0.05), a second above 0.5. At S <= 0.5 the
        // bound is 4.36 % (1 of 100), within 5 % but not within 4 %; above 0.5 it is 5.86 % (2 of 100).
        Budget budget = new Budget(0.05, 0.1, 0.05, 1.0);
        List<ShadowTrace> window = new ArrayList<>(window(98, 0.1, 1, 0.01));
        window.add(twoLayer(1, 0, 0.5));
        ThresholdDecision d = decide(window, budget, 0.8);
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.threshold()).isEqualTo(0.5);
        assertThat(d.unattainable()).isFalse();
        assertThat(d.disagreementsAtThreshold()).isEqualTo(1);
        assertThat(d.upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(1, 100, 0.95)).isBetween(0.04, 0.05);
        assertThat(d.upperBoundAtCurrent()).isEqualTo(ConfidenceBounds.wilsonUpper(2, 100, 0.95)).isGreaterThan(0.05);
        assertThat(d.reason()).contains("lowered at once to the largest S within budget (none has an upper bound"
                + " <= 4.00 %): the S in force breaks the budget");
    }

    @Test
    void choosesTheMaximumWhenEverythingAgrees() {
        ThresholdDecision d = decide(window(500, 0.1, 0, 0), BUDGET, 0.3);
        assertThat(d.action()).isEqualTo(Action.RAISE);
        assertThat(d.threshold()).isEqualTo(1.0);
    }

    // ---- the dead band in the bound ----

    /** Wilson upper bounds at 95 % on 100 samples: 0, 1, 2 disagreements. */
    private static final double UCB_0_OF_100 = ConfidenceBounds.wilsonUpper(0, 100, 0.95);
    private static final double UCB_1_OF_100 = ConfidenceBounds.wilsonUpper(1, 100, 0.95);
    private static final double UCB_2_OF_100 = ConfidenceBounds.wilsonUpper(2, 100, 0.95);

    @Test
    void theFiguresOfTheFlappingDemo() {
        // The bounds the demo saw, and where they sit against 5 % and its 80 % (4 %).
        assertThat(ThresholdChooser.RAISE_HEADROOM).isEqualTo(0.8);
        assertThat(100 * UCB_0_OF_100).isCloseTo(2.63, Offset.offset(0.005));
        assertThat(100 * UCB_1_OF_100).isCloseTo(4.36, Offset.offset(0.005));
        assertThat(100 * UCB_2_OF_100).isCloseTo(5.86, Offset.offset(0.005));
        assertThat(UCB_1_OF_100).isGreaterThan(0.8 * 0.05).isLessThanOrEqualTo(0.05);
    }

    @Test
    void aBoundInTheDeadBandIsKeptButNeverRaisedTo() {
        // 100 samples, one disagrees above S = 0.5: at max (1.0) the bound is 4.36 %, in (4 %, 5 %].
        List<ShadowTrace> window = window(99, 0.1, 1, 0.5);
        assertThat(bruteBound(window, BUDGET, ExitPolicy.ENTROPY, 1.0)).isEqualTo(UCB_1_OF_100);
        assertThat(modelS(window, BUDGET, ExitPolicy.ENTROPY, 0.2, true, 1.0)).as("the old rule").isEqualTo(1.0);

        // From 0.2 it raises only to 0.5, the largest S with headroom (no disagreement, 2.63 %), not to max.
        ThresholdDecision up = decide(window, BUDGET, 0.2);
        assertThat(up.action()).isEqualTo(Action.RAISE);
        assertThat(up.threshold()).isEqualTo(0.5);
        assertThat(up.upperBound()).isEqualTo(UCB_0_OF_100);
        // At 0.5 it holds: max is within budget, but without headroom.
        ThresholdDecision at = decide(window, BUDGET, 0.5);
        assertThat(at.action()).isEqualTo(Action.HOLD);
        assertThat(at.threshold()).isEqualTo(0.5);
        // An S already in the dead band is kept: its bound 4.36 % is within budget.
        ThresholdDecision kept = decide(window, BUDGET, 0.9);
        assertThat(kept.action()).isEqualTo(Action.HOLD);
        assertThat(kept.threshold()).isEqualTo(0.9);
        assertThat(kept.upperBoundAtCurrent()).isEqualTo(UCB_1_OF_100);

        // No S has headroom (the disagreement is there at every S >= min = 0.05): hold, where the old rule took max.
        Budget from005 = new Budget(0.05, 0.1, 0.05, 1.0);
        List<ShadowTrace> everywhere = window(99, 0.1, 1, 0.01);
        assertThat(modelS(everywhere, from005, ExitPolicy.ENTROPY, 0.3, true, 1.0)).as("the old rule").isEqualTo(1.0);
        ThresholdDecision none = decide(everywhere, from005, 0.3);
        assertThat(none.action()).isEqualTo(Action.HOLD);
        assertThat(none.threshold()).isEqualTo(0.3);
        assertThat(none.unattainable()).isFalse();
        assertThat(none.reason()).endsWith("held: within budget, and no S in range has an upper bound <= 4.00 %");
    }

    /**
     * The demo's flapping: a window of 100 samples under 5 %, where one disagreement sits above S = 0.28 and
     * a second, above 0.30, enters and leaves the window. With one, every S up to the top (0.69) is within
     * 5 % (4.36 %); with two, nothing above 0.30 is (5.86 %).
     */
    @Test
    void doesNotFlapWhenTheWindowAlternatesBetweenOneAndTwoDisagreements() {
        Budget budget = new Budget(0.05, 0.1, 0.0, 0.69);
        List<ShadowTrace> one = new ArrayList<>(window(98, 0.1, 1, 0.28));
        one.add(twoLayer(0, 0, 0.3)); // agrees
        List<ShadowTrace> two = new ArrayList<>(window(98, 0.1, 1, 0.28));
        two.add(twoLayer(1, 0, 0.3)); // disagrees above 0.30
        assertThat(bruteBound(one, budget, ExitPolicy.ENTROPY, 0.69)).isEqualTo(UCB_1_OF_100);
        assertThat(bruteBound(two, budget, ExitPolicy.ENTROPY, 0.69)).isEqualTo(UCB_2_OF_100);

        List<List<ShadowTrace>> windows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            windows.add(i % 2 == 0 || i % 7 == 0 ? one : two);
        }
        // The old rule (no headroom) goes 0 -> 0.69 -> 0.30 -> 0.69 -> ...: it flaps.
        List<Double> old = new ArrayList<>(List.of(0.0));
        for (List<ShadowTrace> w : windows) {
            old.add(modelS(w, budget, ExitPolicy.ENTROPY, old.get(old.size() - 1), true, 1.0));
        }
        assertThat(old.subList(0, 4)).containsExactly(0.0, 0.69, 0.3, 0.69);
        assertThat(directionChanges(old)).isGreaterThanOrEqualTo(10);

        // The chooser raises once, to 0.28 (no disagreement there, 2.63 %), and stays.
        List<Double> path = new ArrayList<>(List.of(0.0));
        for (List<ShadowTrace> w : windows) {
            ThresholdDecision d = decide(w, budget, path.get(path.size() - 1));
            assertThat(d.upperBound()).isLessThanOrEqualTo(0.05);
            path.add(d.threshold());
        }
        assertThat(directionChanges(path)).isZero();
        assertThat(path.subList(1, path.size())).containsOnly(0.28);
    }

    /** How often S moves in the other direction from its previous move. */
    private static int directionChanges(List<Double> path) {
        int changes = 0;
        int last = 0;
        for (int i = 1; i < path.size(); i++) {
            int direction = Double.compare(path.get(i), path.get(i - 1));
            if (direction != 0) {
                changes += last != 0 && direction != last ? 1 : 0;
                last = direction;
            }
        }
        return changes;
    }

    @Test
    void mayRaiseFalseDefersARaiseButStillLowers() {
        ThresholdDecision deferred = decide(WINDOW, BUDGET, 0.2, false);
        assertThat(deferred.action()).isEqualTo(Action.HOLD);
        assertThat(deferred.threshold()).isEqualTo(0.2);
        assertThat(deferred.upperBound()).isEqualTo(ConfidenceBounds.wilsonUpper(0, 220, 0.95));
        assertThat(deferred.reason()).endsWith("held: raise deferred: too few new samples since the last lowering"
                + " (S with headroom S=0.5000 exceeds the S in force by more than the margin 0.0200)");
        assertThat(decide(WINDOW, BUDGET, 0.2, true).threshold()).isEqualTo(0.5);

        // Nothing to defer: the ordinary hold.
        assertThat(decide(WINDOW, BUDGET, 0.46, false).reason()).doesNotContain("deferred")
                .endsWith("is within the margin 0.0460");

        // An over-budget S still goes down at once, to the S with headroom or to the minimum.
        ThresholdDecision lower = decide(WINDOW, BUDGET, 0.8, false);
        assertThat(lower.action()).isEqualTo(Action.LOWER);
        assertThat(lower.threshold()).isEqualTo(0.5);
        assertThat(lower).isEqualTo(decide(WINDOW, BUDGET, 0.8, true));
        ThresholdDecision floor = decide(window(200, 0.1, 50, 0.05), new Budget(0.05, 0.1, 0.1, 1.0), 0.5, false);
        assertThat(floor.action()).isEqualTo(Action.LOWER);
        assertThat(floor.unattainable()).isTrue();
        assertThat(floor.threshold()).isEqualTo(0.1);
    }

    // ---- range, unattainable, empty ----

    @Test
    void clampsAnSOutsideTheRange() {
        ThresholdDecision down = decide(WINDOW, new Budget(0.05, 0.1, 0.1, 0.3), 0.9);
        assertThat(down.action()).isEqualTo(Action.LOWER);
        assertThat(down.threshold()).isEqualTo(0.3);
        assertThat(down.disagreementsAtCurrent()).isZero(); // judged at the clamped 0.3
        assertThat(down.reason()).contains("S=0.9000 was outside [0.1000, 0.3000] and was clamped");

        // Clamped up to 0.48, then held there: 0.5 (the S with headroom) is within its margin 0.048.
        ThresholdDecision up = decide(WINDOW, new Budget(0.05, 0.1, 0.48, 0.9), 0.0);
        assertThat(up.action()).isEqualTo(Action.RAISE);
        assertThat(up.threshold()).isEqualTo(0.48);
        assertThat(up.reason()).contains("clamped");
        assertThat(decide(WINDOW, BUDGET, 0.3).reason()).doesNotContain("clamped");
    }

    @Test
    void fallsToTheMinimumWhenEvenItBreaksTheBudget() {
        // 50 of 250 disagree at layer 1 with entropy 0.05: every S in [0.1, 1] lets them exit.
        Budget budget = new Budget(0.05, 0.1, 0.1, 1.0);
        List<ShadowTrace> window = window(200, 0.1, 50, 0.05);
        ThresholdDecision d = decide(window, budget, 0.5);
        assertThat(d.unattainable()).isTrue();
        assertThat(d.action()).isEqualTo(Action.LOWER);
        assertThat(d.threshold()).isEqualTo(0.1);
        assertThat(d.disagreementsAtThreshold()).isEqualTo(50);
        assertThat(d.upperBound()).isGreaterThan(0.05);
        assertThat(d.reason()).contains("> budget 5.00 %", "lowered to the minimum: budget unattainable in range");

        ThresholdDecision again = decide(window, budget, 0.1);
        assertThat(again.action()).isEqualTo(Action.HOLD);
        assertThat(again.unattainable()).isTrue();
        assertThat(again.reason()).contains("held at the minimum");

        // Five samples that all agree still cannot show 5 % at 95 %: the bound is 35 %.
        ThresholdDecision few = decide(window(5, 0.1, 0, 0), BUDGET, 0.4);
        assertThat(few.unattainable()).isTrue();
        assertThat(few.threshold()).isEqualTo(0.0);
    }

    @Test
    void holdsOnAnEmptyWindow() {
        ThresholdDecision d = decide(List.of(), BUDGET, 0.2);
        assertThat(d.action()).isEqualTo(Action.HOLD);
        assertThat(d.threshold()).isEqualTo(0.2);
        assertThat(d.samples()).isZero();
        assertThat(d.disagreement()).isZero();
        assertThat(d.upperBound()).isEqualTo(1.0);
        assertThat(d.unattainable()).isFalse();
        assertThat(d.reason()).isEqualTo("window 0 samples: nothing to judge; held at S=0.2000 nats");

        ThresholdDecision clamped = decide(List.of(), BUDGET, 5.0);
        assertThat(clamped.action()).isEqualTo(Action.LOWER);
        assertThat(clamped.threshold()).isEqualTo(1.0);
    }

    @Test
    void rejectsPatienceAndANaNThreshold() {
        assertThatThrownBy(() -> ThresholdChooser.decide(WINDOW, BUDGET, ExitPolicy.PATIENCE, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DisagreementSweep.bruteForce(WINDOW, ExitPolicy.PATIENCE, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> decide(WINDOW, BUDGET, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DisagreementSweep.bruteForce(WINDOW, ExitPolicy.ENTROPY, -0.1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
