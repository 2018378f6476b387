package org.deebert.streams.budget;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
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

    /** What the controller does with S. */
    public enum Action {
        /** S stays where it is. */
        HOLD,
        /** S moves up: more inputs leave early. */
        RAISE,
        /** S moves down: fewer inputs leave early. */
        LOWER
    }

    /**
     * One decision and the window's figures behind it, for the telemetry topic and the audit log.
     *
     * @param action                   HOLD, RAISE or LOWER, comparing {@code threshold} with the S in force
     *                                 as given (so clamping an out-of-range S counts as a move)
     * @param threshold                the S to hold, nats, in [minThreshold, maxThreshold]
     * @param samples                  shadow samples in the window
     * @param disagreementsAtThreshold samples whose answer at {@code threshold} differs from the full model's
     * @param disagreement             that count as a share of {@code samples}, in [0, 1]; 0 for an empty window
     * @param upperBound               Wilson upper bound of that share at the budget's confidence, in [0, 1];
     *                                 1 for an empty window
     * @param disagreementsAtCurrent   samples that disagree at the S in force (clamped into the range)
     * @param upperBoundAtCurrent      Wilson upper bound of their share, in [0, 1]
     * @param unattainable             whether even minThreshold breaks the budget (or the label guard) on this
     *                                 window (then {@code threshold} is minThreshold)
     * @param reason                   one line of English for the audit log, with the window's figures
     * @param guard                    the label guard's figures, or null when the budget has no guard
     */
    public record Decision(Action action, double threshold, int samples, long disagreementsAtThreshold,
                           double disagreement, double upperBound, long disagreementsAtCurrent,
                           double upperBoundAtCurrent, boolean unattainable, String reason, GuardFigures guard) {
    }

    /**
     * The label guard's figures behind a decision: the window's samples whose full-model answer is the protected
     * label, and how many of them the exit answers otherwise.
     *
     * @param label               the protected label's name
     * @param maxRecallLoss       the guard's limit, a share in (0, 1)
     * @param samples             m, the window's samples whose full-model (last off-ramp) label is {@code label}
     * @param missedAtThreshold   of those, samples whose answer at the decision's S is another label
     * @param recallLoss          that count as a share of m, in [0, 1]; 0 when m = 0
     * @param upperBound          its Wilson upper bound at the budget's confidence, in [0, 1]; 1 when m = 0
     * @param missedAtCurrent     of those, samples missed at the S in force (clamped into the range)
     * @param upperBoundAtCurrent the Wilson upper bound of their share, in [0, 1]; 1 when m = 0
     */
    public record GuardFigures(String label, double maxRecallLoss, int samples, long missedAtThreshold,
                               double recallLoss, double upperBound, long missedAtCurrent, double upperBoundAtCurrent) {

        /** @return whether the window holds at least one sample of the protected label */
        public boolean evaluable() {
            return samples > 0;
        }
    }

    /** The guard's view of the window: its limit, the protected samples and their miss count as a step function. */
    private record GuardWindow(Budget.LabelGuard guard, int samples, Sweep sweep) {

        long missed(double s) {
            return sweep.disagreements(s);
        }

        double upperBound(double s, double confidence) {
            return ConfidenceBounds.wilsonUpper(missed(s), samples, confidence);
        }
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
    public static Decision decide(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double current) {
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
     * The count of disagreements is a step function of S that changes only at the breakpoints of
     * {@link #sweep}, constant on each {@code (b_j, b_{j+1}]} (the exit test is strict), so the candidates are
     * minThreshold, maxThreshold and every breakpoint in (min, max]. If no S is within b, the budget is
     * unattainable on this window.
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
    public static Decision decide(List<ShadowTrace> window, Budget budget, ExitPolicy policy, double current,
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
    public static Decision decide(List<ShadowTrace> window, Budget budget, List<String> labels,
                                  ExitPolicy policy, double current, boolean mayRaise) {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(labels, "labels");
        requireNatsPolicy(policy);
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
        GuardWindow guard = budget.guard() == null ? null : guardWindow(window, budget.guard(), protectedIndex, policy);
        if (n == 0) {
            Action action = action(current, c);
            String reason = String.format(Locale.ROOT, "window 0 samples: nothing to judge; %s at S=%.4f nats",
                    verb(action), c) + clampNote(clamped, current, min, max);
            GuardFigures figures = guard == null ? null
                    : new GuardFigures(guard.guard().label(), guard.guard().maxRecallLoss(), 0, 0, 0.0, 1.0, 0, 1.0);
            return new Decision(action, c, 0, 0, 0.0, 1.0, 0, 1.0, false, reason, figures);
        }

        Sweep sweep = sweep(window, policy);
        long kCurrent = sweep.disagreements(c);
        double ucbCurrent = ConfidenceBounds.wilsonUpper(kCurrent, n, conf);
        double guardUcbCurrent = guard == null ? 0.0 : guard.upperBound(c, conf);

        double limit = budget.maxDisagreement();
        double headroomLimit = RAISE_HEADROOM * limit;
        double guardLimit = guard == null ? 1.0 : guard.guard().maxRecallLoss();
        double guardHeadroomLimit = RAISE_HEADROOM * guardLimit;
        double feasible = largestWithin(sweep, n, guard, budget, limit, guardLimit);
        double comfortable = largestWithin(sweep, n, guard, budget, headroomLimit, guardHeadroomLimit);
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
        Action action = action(current, chosen);

        long kChosen = sweep.disagreements(chosen);
        double share = (double) kChosen / n;
        double ucbChosen = ConfidenceBounds.wilsonUpper(kChosen, n, conf);
        GuardFigures figures = null;
        String guardPart = "";
        String guardAtCurrent = "";
        if (guard != null) {
            long missed = guard.missed(chosen);
            int m = guard.samples();
            double guardUcbChosen = guard.upperBound(chosen, conf);
            figures = new GuardFigures(label, guardLimit, m, missed, m == 0 ? 0.0 : (double) missed / m, guardUcbChosen,
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
        return new Decision(action, chosen, n, kChosen, share, ucbChosen, kCurrent, ucbCurrent,
                unattainable, reason, figures);
    }

    /**
     * "; spam recall loss <= 1.00 % (upper 0.76 %, n=352, 0 missed)": the guard's figures at the chosen S, in
     * the words the audit log uses; "> 1.00 % possible" when the bound is over the limit.
     */
    private static String guardNote(GuardFigures g) {
        boolean holds = g.upperBound() <= g.maxRecallLoss();
        return String.format(Locale.ROOT, "; %s recall loss %s %.2f %%%s (upper %.2f %%, n=%d, %d missed%s)",
                g.label(), holds ? "<=" : ">", 100 * g.maxRecallLoss(), holds ? "" : " possible",
                100 * g.upperBound(), g.samples(), g.missedAtThreshold(),
                g.evaluable() ? "" : ": no " + g.label() + " in the window, not evaluable");
    }

    /** Which bound even minThreshold breaks: "budget", "spam guard" or "budget and spam guard". */
    private static String unattainableWhat(Sweep sweep, int n, GuardWindow guard, Budget budget, double min) {
        boolean budgetBroken = !within(sweep.disagreements(min), n, budget.confidence(), budget.maxDisagreement());
        boolean guardBroken = guard != null
                && guard.upperBound(min, budget.confidence()) > guard.guard().maxRecallLoss();
        String label = guard == null ? "" : guard.guard().label();
        return budgetBroken && guardBroken ? "budget and " + label + " guard"
                : guardBroken ? label + " guard" : "budget";
    }

    /**
     * The guard's samples: the traces whose full-model answer is the protected label, and their misses as a step
     * function of S. For such a trace "answered otherwise" is exactly "disagrees with the full model", so the
     * disagreement sweep applies unchanged to the subset.
     */
    private static GuardWindow guardWindow(List<ShadowTrace> window, Budget.LabelGuard guard, int index,
                                           ExitPolicy policy) {
        List<ShadowTrace> protectedSamples = new ArrayList<>();
        for (ShadowTrace trace : window) {
            if (trace.fullModelLabel() == index) {
                protectedSamples.add(trace);
            }
        }
        return new GuardWindow(guard, protectedSamples.size(), sweep(protectedSamples, policy));
    }

    /**
     * S*: the largest S in [minThreshold, maxThreshold] whose Wilson upper bound is within the budget; the
     * four-argument form with the limit {@code budget.maxDisagreement()}.
     *
     * @param sweep   the window's step function ({@link #sweep})
     * @param samples the window's size, {@code >= 1}
     * @param budget  the budget
     * @return S* in nats, or NaN when even minThreshold breaks the budget
     */
    static double largestWithinBudget(Sweep sweep, int samples, Budget budget) {
        return largestWithinBudget(sweep, samples, budget, budget.maxDisagreement());
    }

    /**
     * The largest S in [minThreshold, maxThreshold] whose Wilson upper bound, at the budget's confidence, is
     * at most {@code limit}. Tries maxThreshold, then the breakpoints in (min, max) from the top, then
     * minThreshold: the count is constant on each {@code (b_j, b_{j+1}]}, so no other S can be larger and
     * within the limit.
     *
     * @param sweep   the window's step function ({@link #sweep})
     * @param samples the window's size, {@code >= 1}
     * @param budget  the budget: range of S and confidence
     * @param limit   the most the upper bound may be, a share (the budget, or {@code RAISE_HEADROOM} times it)
     * @return that S in nats, or NaN when even minThreshold's bound exceeds {@code limit}
     */
    static double largestWithinBudget(Sweep sweep, int samples, Budget budget, double limit) {
        return largestWithin(sweep, samples, null, budget, limit, 1.0);
    }

    /**
     * The largest S in [minThreshold, maxThreshold] whose disagreement bound is at most {@code limit} and, with a
     * guard, whose recall-loss bound on the guard's samples is at most {@code guardLimit}. Tries maxThreshold,
     * then the breakpoints of either step function in (min, max) from the top, then minThreshold: both counts are
     * constant between consecutive breakpoints of the two merged, so no other S can be larger and within both.
     *
     * @param sweep      the window's disagreement step function ({@link #sweep})
     * @param samples    the window's size, {@code >= 1}
     * @param guard      the guard's samples and step function, or null for none
     * @param budget     the budget: range of S and confidence
     * @param limit      the most the disagreement bound may be, a share
     * @param guardLimit the most the guard's bound may be, a share (ignored without a guard)
     * @return that S in nats, or NaN when even minThreshold is over a limit
     */
    private static double largestWithin(Sweep sweep, int samples, GuardWindow guard, Budget budget,
                                        double limit, double guardLimit) {
        double min = budget.minThreshold();
        double max = budget.maxThreshold();
        double conf = budget.confidence();
        double[] at = sweep.at();
        double[] guardAt = guard == null ? new double[0] : guard.sweep().at();
        // Walk both ascending breakpoint arrays from the top, as one descending sequence without repeats.
        int i = sweep.count(max) - 1;
        int j = guard == null ? -1 : guard.sweep().count(max) - 1;
        double s = max;
        while (true) {
            if (within(sweep.disagreements(s), samples, conf, limit)
                    && (guard == null || guard.upperBound(s, conf) <= guardLimit)) {
                return s;
            }
            double next = Double.NEGATIVE_INFINITY;
            if (i >= 0) {
                next = at[i];
            }
            if (j >= 0 && guardAt[j] > next) {
                next = guardAt[j];
            }
            if (!(next > min)) {
                break;
            }
            while (i >= 0 && at[i] >= next) {
                i--;
            }
            while (j >= 0 && guardAt[j] >= next) {
                j--;
            }
            s = next;
        }
        return within(sweep.disagreements(min), samples, conf, limit)
                && (guard == null || guard.upperBound(min, conf) <= guardLimit) ? min : Double.NaN;
    }

    private static boolean within(long disagreements, int samples, double confidence, double limit) {
        return ConfidenceBounds.wilsonUpper(disagreements, samples, confidence) <= limit;
    }

    /**
     * Brute-force count, one {@link ShadowTrace#disagreesAt} per trace: the definition {@link #decide}'s sweep
     * must agree with, for tests and for callers that need one S.
     *
     * @param window the shadow samples
     * @param policy ENTROPY or DIVERGENCE
     * @param s      S, nats, finite and {@code >= 0}
     * @return how many traces' answers at S differ from their full model's
     * @throws IllegalArgumentException if {@code policy} is PATIENCE or {@code s} is negative, NaN or infinite
     */
    public static long disagreements(List<ShadowTrace> window, ExitPolicy policy, double s) {
        requireNatsPolicy(policy);
        ExitSetting setting = new ExitSetting(policy, s);
        long count = 0;
        for (ShadowTrace trace : window) {
            if (trace.disagreesAt(setting)) {
                count++;
            }
        }
        return count;
    }

    /**
     * The disagreement count of a window as a step function of S.
     *
     * @param at    breakpoints, nats, ascending: the values of S just above which some trace's status changes
     * @param below {@code below[j]} = disagreements at any S with exactly {@code j} breakpoints below it
     */
    record Sweep(double[] at, long[] below) {

        /** @return how many breakpoints are strictly below {@code s} */
        int count(double s) {
            int lo = 0;
            int hi = at.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (at[mid] < s) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        /** @return the window's disagreement count at S (nats) */
        long disagreements(double s) {
            return below[count(s)];
        }
    }

    /**
     * Replays the whole window for every S at once, O(N n log(N n)) for N traces of n layers.
     *
     * <p>Why it works: a trace exits at the first layer {@code i < n} with {@code score_i < S}, which is the
     * first i whose prefix minimum {@code min(score_1..score_i)} is below S. Only the layers that set a new
     * (strictly lower) prefix minimum matter; call their layers {@code r_1 < r_2 < ...} and values
     * {@code v_1 > v_2 > ...}. For S in {@code (v_j, v_{j-1}]} the trace exits at {@code r_j}; for
     * {@code S <= v_last} at layer n, where it agrees by definition. So each trace adds, at each {@code v_j},
     * the change of its disagree status (−1, 0 or +1) seen when S passes above {@code v_j}: at most n−1
     * breakpoints. NaN and +Infinity scores (DIVERGENCE at layer 1) never pass the strict test and set none.
     *
     * @param window the shadow samples
     * @param policy ENTROPY or DIVERGENCE
     * @return the step function; breakpoints where the count does not change are left out
     */
    static Sweep sweep(List<ShadowTrace> window, ExitPolicy policy) {
        requireNatsPolicy(policy);
        int capacity = 0;
        for (ShadowTrace trace : window) {
            capacity += trace.numLayers() - 1;
        }
        double[] values = new double[capacity];
        int[] deltas = new int[capacity];
        int events = 0;
        int[] recordLayers = new int[0];
        for (ShadowTrace trace : window) {
            int n = trace.numLayers();
            if (recordLayers.length < n) {
                recordLayers = new int[n];
            }
            int records = 0;
            double prefixMin = Double.POSITIVE_INFINITY;
            for (int layer = 1; layer < n; layer++) {
                double score = trace.score(policy, layer);
                if (score < prefixMin) {
                    prefixMin = score;
                    recordLayers[records++] = layer;
                }
            }
            int full = trace.fullModelLabel();
            // From the lowest record (smallest v) upwards: below it the trace sits at layer n and agrees.
            boolean before = false;
            for (int j = records - 1; j >= 0; j--) {
                int layer = recordLayers[j];
                boolean after = trace.labels()[layer - 1] != full;
                if (after != before) {
                    values[events] = trace.score(policy, layer);
                    deltas[events] = after ? 1 : -1;
                    events++;
                }
                before = after;
            }
        }
        Integer[] order = new Integer[events];
        for (int e = 0; e < events; e++) {
            order[e] = e;
        }
        Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        double[] at = new double[events];
        long[] below = new long[events + 1];
        for (int e = 0; e < events; e++) {
            at[e] = values[order[e]];
            below[e + 1] = below[e] + deltas[order[e]];
        }
        return new Sweep(at, below);
    }

    private static void requireNatsPolicy(ExitPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        if (!policy.comparesScoreInNats()) {
            throw new IllegalArgumentException("the threshold chooser sets S of ENTROPY or DIVERGENCE, not " + policy);
        }
    }

    private static Action action(double from, double to) {
        return to > from ? Action.RAISE : to < from ? Action.LOWER : Action.HOLD;
    }

    private static String verb(Action action) {
        return switch (action) {
            case RAISE -> "raised";
            case LOWER -> "lowered";
            case HOLD -> "held";
        };
    }

    private static String clampNote(boolean clamped, double current, double min, double max) {
        return clamped
                ? String.format(Locale.ROOT, "; S=%.4f was outside [%.4f, %.4f] and was clamped", current, min, max)
                : "";
    }

    /** 0.95 -> "95", 0.975 -> "97.5": the confidence as the operator wrote it. */
    private static String percent(double share) {
        return new BigDecimal(100 * share).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }
}
