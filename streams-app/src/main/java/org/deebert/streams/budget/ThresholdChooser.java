package org.deebert.streams.budget;

import static org.deebert.streams.budget.DecisionWords.clampNote;
import static org.deebert.streams.budget.DecisionWords.guardNote;
import static org.deebert.streams.budget.DecisionWords.percent;
import static org.deebert.streams.budget.DecisionWords.unattainableWhat;
import static org.deebert.streams.budget.DecisionWords.verb;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ShadowTrace;

/**
 * The accuracy-budget controller's decision, as a pure function: given a window of shadow samples (inputs
 * that ran every layer, {@link ShadowTrace}), the operator's {@link Budget}, the exit policy and the
 * threshold S in force, which S (nats) to hold. No Kafka, no clock, no state: the caller owns the window.
 *
 * <p>The exit rule replayed is DeeBERT's (Xin et al. 2020, section 3.2, Algorithm 1; {@link ExitScores#exits}):
 * an input leaves at the first layer {@code i < n} whose score (entropy, or Jensen-Shannon divergence from the
 * previous off-ramp, nats) is strictly below S, else at layer n. It disagrees when that off-ramp's label differs
 * from the last off-ramp's. The disagreement is judged by the one-sided Wilson upper bound
 * ({@link ConfidenceBounds#wilsonUpper}, Wilson 1927) at the budget's confidence, so a small window cannot
 * talk the controller into a large S by luck.
 *
 * <p>A window with few samples has a wide bound: with fewer than {@code z² (1 - b) / b} samples for a budget b
 * (51.4, so 52 are needed for 5 % at 95 %) even no disagreement at all is not provably within budget, and the
 * decision is {@code minThreshold}, flagged unattainable. That is deliberate: the safe S until the shadow has
 * seen enough. A raise needs room below the budget ({@link #RAISE_HEADROOM}), so the first raise off the
 * minimum needs {@code z² (1 - 0.8 b) / (0.8 b)} samples without disagreement (64.9, so 65 for 5 % at 95 %).
 *
 * <p><b>Label guard.</b> A budget with an {@link Budget.LabelGuard} adds a second bound with the same
 * rules: among the window's samples whose full-model answer is the protected label (m of them), the share whose
 * answer at S is another label (the label's recall loss against the full model) must have a Wilson upper bound
 * within {@code maxRecallLoss} (and within 0.8 of it for a raise). A candidate S is allowed only where both
 * bounds hold. The guard's bound is as cautious as the budget's, but on m samples rather than the whole window:
 * with a rare label m is small and the bound wide, so S stays low until the window holds about
 * {@code z² / (0.8 g)} protected samples without a miss (336 for g = 1 % at 95 %).
 *
 * <p>A window that holds no protected sample (m = 0) gives the guard no evidence, and its bound is taken as 1
 * ({@link ConfidenceBounds#wilsonUpper} of 0 samples), so no S is allowed by the guard and S goes to
 * minThreshold, flagged unattainable, like a budget that even minThreshold breaks. Why not ignore the guard
 * then: a window is a sample, and no spam in it is not evidence that the traffic holds none; a guard that
 * stepped aside in a spam-free lull would let S rise exactly before spam returns, and one protected sample
 * without a miss already gives a bound of 73 % at 95 %, so treating none as "unbounded" would make the rule
 * jump from "anything goes" to "minimum only" at the first protected sample. An empty window still holds the
 * S in force (nothing to judge at all).
 */
public final class ThresholdChooser {

    /** Below this, the raise margin is absolute (nats): S near 0 would otherwise move by hair-widths. */
    static final double MIN_RAISE_MARGIN = 0.01;
    /** The raise margin relative to the S in force: S** must beat it by 10 % before S moves up. */
    static final double RELATIVE_RAISE_MARGIN = 0.1;
    /**
     * A raise goes only to an S whose upper bound is within this share of the budget (a dead band between
     * {@code 0.8 x budget} and the budget, in the bound rather than in S). A raise must leave room in the
     * bound, so that one more disagreement in the window does not push it straight back over the budget.
     * Without it a live demo (window of 100 samples, 5 % at 95 %) flapped on hard traffic, S 0.28 -> 0.69 ->
     * 0.28 -> 0.67 -> 0.15: at S = 0.69 the window held 1 or 2 disagreements, whose bounds (4.36 % and 5.86 %)
     * sit just under and just over 5 %, so it raised and lowered by turns. With 0.8 a raise needs a bound of
     * at most 4 % (there: no disagreement, 2.63 %), and the S in force is kept while its bound is in
     * (4 %, 5 %].
     */
    static final double RAISE_HEADROOM = 0.8;

    private ThresholdChooser() {
    }

    /**
     * Decides the S to hold, free to raise it: {@link #decide(List, Budget, ExitPolicy, double, boolean)}
     * with {@code mayRaise = true}.
     *
     * @param window  the shadow samples, oldest first or in any order; traces may differ in layer count
     * @param budget  the budget: max disagreement (share), range of S (nats), confidence
     * @param policy  ENTROPY or DIVERGENCE, the policy whose S is chosen
     * @param current the S in force, nats; one outside the budget's range is clamped into it
     * @return the decision
     * @throws NullPointerException     if an argument or a trace is null
     * @throws IllegalArgumentException if {@code policy} is PATIENCE (its threshold is not in nats) or
     *                                  {@code current} is NaN
     */
    public static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double current) {
        return decide(window, budget, policy, current, true);
    }

    /**
     * Decides the S to hold.
     *
     * <p>Two candidates, both judged by the window's Wilson upper bound (a share in [0, 1]) at the budget's
     * confidence, with b = {@code budget.maxDisagreement()} (a share) and S in nats:
     * <ul>
     *   <li>S* (feasible): the largest S in [minThreshold, maxThreshold] whose bound is {@code <= b};</li>
     *   <li>S** (with headroom): the largest S in that range whose bound is {@code <= RAISE_HEADROOM x b}
     *       (0.8 b); none may exist. S** {@code <=} S*.</li>
     * </ul>
     * The count of disagreements is a step function of S that changes only at the breakpoints of a
     * {@link DisagreementSweep}, constant on each {@code (b_j, b_{j+1}]} (the exit test is strict), so the
     * candidates are minThreshold, maxThreshold and every breakpoint in (min, max] ({@link ThresholdSearch}). If
     * no S is within b, the budget is unattainable on this window.
     *
     * <p>The rule, with {@code c} the S in force clamped into the range and
     * {@code margin = max(0.01, 0.1 c)} nats:
     * <ol>
     *   <li>if c's own bound exceeds b, move at once (an over-budget S is never kept, and {@code mayRaise}
     *       does not matter) to S** if it exists, else to S* if it exists, else to minThreshold, flagged
     *       unattainable. This is a LOWER, except on the rare window where disagreement is not monotone in S
     *       and the S with headroom lies above c;</li>
     *   <li>else, if S** exists and {@code S** > c + margin}: raise to S** if {@code mayRaise}, else hold c
     *       (the raise is deferred);</li>
     *   <li>else hold c.</li>
     * </ol>
     * So there is a dead band in the bound: an S whose bound is in (0.8 b, b] is kept but never raised to.
     * Why: with the margin only in S, a window of 100 samples under a 5 % budget flapped on hard traffic
     * (S 0.28 -> 0.69 -> 0.28 -> 0.67 -> 0.15): at S = 0.69 it held 1 or 2 disagreements, bounds 4.36 % and
     * 5.86 %, just under and just over 5 %, so each sample entering or leaving the window moved S. Now a raise
     * lands where one more disagreement still fits (from 4 % at most, one more in 100 samples adds about
     * 1.5 points), and the S it lands on is held until its bound really exceeds the budget.
     *
     * <p>{@code mayRaise} is the caller's: the controller passes false until enough of its window is new since
     * it last lowered S, so the samples that made it lower S cannot talk it straight back up. An empty window
     * holds c: there is nothing to judge.
     *
     * @param window   the shadow samples, oldest first or in any order; traces may differ in layer count
     * @param budget   the budget: max disagreement (share), range of S (nats), confidence
     * @param policy   ENTROPY or DIVERGENCE, the policy whose S is chosen
     * @param current  the S in force, nats; one outside the budget's range is clamped into it (clamping is not
     *                 a raise and happens whatever {@code mayRaise} says)
     * @param mayRaise whether S may go up on this window; false still lowers an over-budget S
     * @return the decision; its figures are those at the returned S
     * @throws NullPointerException     if an argument or a trace is null
     * @throws IllegalArgumentException if {@code policy} is PATIENCE (its threshold is not in nats) or
     *                                  {@code current} is NaN
     */
    public static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double current,
                                           boolean mayRaise) {
        return decide(window, budget, List.of(), policy, current, mayRaise);
    }

    /**
     * Decides the S to hold under a budget that may carry a label guard: as
     * {@link #decide(List, Budget, ExitPolicy, double, boolean)}, where every bound on the disagreement
     * is paired with the same bound on the guard's recall loss (see the class comment): S* and S** are the
     * largest S whose disagreement bound is within b (or 0.8 b) <em>and</em> whose recall-loss bound is within
     * g (or 0.8 g), with g = {@code maxRecallLoss}; the S in force is over budget when either of its bounds is
     * over its limit. Both counts are step functions of S, so the candidates are minThreshold, maxThreshold and
     * every breakpoint of either in (min, max].
     *
     * @param window   the shadow samples, oldest first or in any order; traces may differ in layer count
     * @param budget   the budget: max disagreement (share), range of S (nats), confidence, optional label guard
     * @param labels   the model's label names in logit order (from its model card), to find the guard's label
     *                 index; may be empty when the budget has no guard
     * @param policy   ENTROPY or DIVERGENCE, the policy whose S is chosen
     * @param current  the S in force, nats; one outside the budget's range is clamped into it
     * @param mayRaise whether S may go up on this window; false still lowers an S over budget or guard
     * @return the decision; its figures (and its guard's) are those at the returned S
     * @throws NullPointerException     if an argument or a trace is null
     * @throws IllegalArgumentException if {@code policy} is PATIENCE, {@code current} is NaN, or the guard's
     *                                  label is not among {@code labels}
     */
    public static ThresholdDecision decide(List<ShadowTrace> window, Budget budget, List<String> labels,
                                           ExitPolicy policy, double current, boolean mayRaise) {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(labels, "labels");
        DisagreementSweep.requireNatsPolicy(policy);
        int protectedIndex = budget.protectedLabelIndex(labels);
        if (Double.isNaN(current)) {
            throw new IllegalArgumentException("the S in force must be a number (nats), got NaN");
        }
        double min = budget.minThreshold();
        double max = budget.maxThreshold();
        double conf = budget.confidence();
        double c = Math.min(max, Math.max(min, current));
        boolean clamped = c != current;
        int n = window.size();
        LabelGuardWindow guard = budget.guard() == null ? null
                : LabelGuardWindow.of(window, budget.guard(), protectedIndex, policy);
        if (n == 0) {
            ThresholdDecision.Action action = action(current, c);
            String reason = String.format(Locale.ROOT, "window 0 samples: nothing to judge; %s at S=%.4f nats",
                    verb(action), c) + clampNote(clamped, current, min, max);
            ThresholdDecision.GuardFigures figures = guard == null ? null
                    : new ThresholdDecision.GuardFigures(guard.guard().label(), guard.guard().maxRecallLoss(), 0, 0, 0.0, 1.0, 0, 1.0);
            return new ThresholdDecision(action, c, 0, 0, 0.0, 1.0, 0, 1.0, false, reason, figures);
        }

        DisagreementSweep sweep = DisagreementSweep.of(window, policy);
        long kCurrent = sweep.disagreements(c);
        double ucbCurrent = ConfidenceBounds.wilsonUpper(kCurrent, n, conf);
        double guardUcbCurrent = guard == null ? 0.0 : guard.upperBound(c, conf);

        double limit = budget.maxDisagreement();
        double headroomLimit = RAISE_HEADROOM * limit;
        double guardLimit = guard == null ? 1.0 : guard.guard().maxRecallLoss();
        double guardHeadroomLimit = RAISE_HEADROOM * guardLimit;
        double feasible = ThresholdSearch.largestWithin(sweep, n, guard, budget, limit, guardLimit);
        double comfortable = ThresholdSearch.largestWithin(sweep, n, guard, budget, headroomLimit, guardHeadroomLimit);
        boolean unattainable = Double.isNaN(feasible);
        String label = guard == null ? null : guard.guard().label();
        String headroomWords = guard == null
                ? String.format(Locale.ROOT, "upper bound <= %.2f %%", 100 * headroomLimit)
                : String.format(Locale.ROOT, "upper bound <= %.2f %% and %s recall loss bound <= %.2f %%",
                        100 * headroomLimit, label, 100 * guardHeadroomLimit);

        boolean overBudget = ucbCurrent > limit;
        boolean overGuard = guard != null && guardUcbCurrent > guardLimit;
        double margin = Math.max(MIN_RAISE_MARGIN, RELATIVE_RAISE_MARGIN * c);
        boolean raiseWorth = !Double.isNaN(comfortable) && comfortable > c + margin;
        double chosen;
        String why;
        if (overBudget || overGuard) {
            String broken = overBudget && overGuard ? "the budget and the " + label + " guard"
                    : overBudget ? "the budget" : "the " + label + " guard";
            if (!Double.isNaN(comfortable)) {
                chosen = comfortable;
                why = String.format(Locale.ROOT, " at once to the S with headroom (%s): the S in force breaks %s",
                        headroomWords, broken);
            } else if (!unattainable) {
                chosen = feasible;
                why = String.format(Locale.ROOT, " at once to the largest S within budget (none has an %s):"
                        + " the S in force breaks %s", headroomWords, broken);
            } else {
                chosen = min;
                why = String.format(Locale.ROOT, " %s the minimum: %s unattainable in range, even S=%.4f breaks it",
                        chosen == current ? "at" : "to", unattainableWhat(sweep, n, guard, budget, min), min);
            }
        } else if (raiseWorth && mayRaise) {
            chosen = comfortable;
            String its = guard == null
                    ? String.format(Locale.ROOT, "upper bound is <= %.2f %%", 100 * headroomLimit)
                    : String.format(Locale.ROOT, "upper bound is <= %.2f %% and its %s recall loss bound is <= %.2f %%",
                            100 * headroomLimit, label, 100 * guardHeadroomLimit);
            why = String.format(Locale.ROOT, " to the S with headroom: its %s and it exceeds"
                    + " the S in force by more than the margin %.4f", its, margin);
        } else if (raiseWorth) {
            chosen = c;
            why = String.format(Locale.ROOT, ": raise deferred: too few new samples since the last lowering"
                    + " (S with headroom S=%.4f exceeds the S in force by more than the margin %.4f)",
                    comfortable, margin);
        } else if (Double.isNaN(comfortable)) {
            chosen = c;
            why = String.format(Locale.ROOT, ": within budget, and no S in range has an %s", headroomWords);
        } else {
            chosen = c;
            why = String.format(Locale.ROOT, ": S with headroom S=%.4f (%s) is within the"
                    + " margin %.4f", comfortable, headroomWords, margin);
        }
        ThresholdDecision.Action action = action(current, chosen);

        long kChosen = sweep.disagreements(chosen);
        double share = (double) kChosen / n;
        double ucbChosen = ConfidenceBounds.wilsonUpper(kChosen, n, conf);
        ThresholdDecision.GuardFigures figures = null;
        String guardPart = "";
        String guardAtCurrent = "";
        if (guard != null) {
            long missed = guard.missed(chosen);
            int m = guard.samples();
            double guardUcbChosen = guard.upperBound(chosen, conf);
            figures = new ThresholdDecision.GuardFigures(label, guardLimit, m, missed, m == 0 ? 0.0 : (double) missed / m, guardUcbChosen,
                    guard.missed(c), guardUcbCurrent);
            guardPart = guardNote(figures);
            guardAtCurrent = String.format(Locale.ROOT, ", %s recall loss upper %.2f %%", label, 100 * guardUcbCurrent);
        }
        String reason = String.format(Locale.ROOT,
                "window %d samples: at S=%.4f nats %d disagree (%.2f %%, upper bound %.2f %% at %s %%) %s budget %.2f %%%s;"
                        + " was S=%.4f (upper bound %.2f %%%s); %s",
                n, chosen, kChosen, 100 * share, 100 * ucbChosen, percent(conf),
                ucbChosen <= limit ? "<=" : ">", 100 * limit, guardPart,
                current, 100 * ucbCurrent, guardAtCurrent, verb(action) + why)
                + clampNote(clamped, current, min, max);
        return new ThresholdDecision(action, chosen, n, kChosen, share, ucbChosen, kCurrent, ucbCurrent,
                unattainable, reason, figures);
    }

    private static ThresholdDecision.Action action(double from, double to) {
        return to > from ? ThresholdDecision.Action.RAISE
                : to < from ? ThresholdDecision.Action.LOWER : ThresholdDecision.Action.HOLD;
    }
}
