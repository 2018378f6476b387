package org.deebert.streams.classifier;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The accuracy-budget controller's decision, as a pure function: given a window of shadow samples (inputs
 * that ran every layer, {@link ShadowTrace}), the operator's {@link AccuracyBudget}, the exit policy and the
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
 * seen enough.
 */
public final class ThresholdChooser {

    /** Below this, the raise margin is absolute (nats): S near 0 would otherwise move by hair-widths. */
    static final double MIN_RAISE_MARGIN = 0.01;
    /** The raise margin relative to the S in force: S* must beat it by 10 % before S moves up. */
    static final double RELATIVE_RAISE_MARGIN = 0.1;

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
     * @param unattainable             whether even minThreshold breaks the budget on this window (then
     *                                 {@code threshold} is minThreshold)
     * @param reason                   one line of English for the audit log, with the window's figures
     */
    public record Decision(Action action, double threshold, int samples, long disagreementsAtThreshold,
                           double disagreement, double upperBound, long disagreementsAtCurrent,
                           double upperBoundAtCurrent, boolean unattainable, String reason) {
    }

    /**
     * Decides the S to hold.
     *
     * <p>S* is the largest S in [minThreshold, maxThreshold] whose Wilson upper bound on the window's
     * disagreement is within {@code budget.maxDisagreement()}. The count of disagreements is a step function
     * of S that changes only at the breakpoints of {@link #sweep}, constant on each {@code (b_j, b_{j+1}]}
     * (the exit test is strict), so the candidates are minThreshold, maxThreshold and every breakpoint in
     * (min, max]. If none is within budget, S* = minThreshold, flagged unattainable.
     *
     * <p>Hysteresis, so S does not flap with the window's noise: with {@code c} the S in force clamped into
     * the range,
     * <ul>
     *   <li>if c's own upper bound exceeds the budget, move to S* at once (an over-budget S is never kept);</li>
     *   <li>else if {@code S* > c + max(0.01, 0.1 c)}, raise to S*;</li>
     *   <li>else hold c, even if S* differs a little (c is within budget).</li>
     * </ul>
     * An empty window holds c: there is nothing to judge.
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
    public static Decision decide(List<ShadowTrace> window, AccuracyBudget budget, ExitPolicy policy, double current) {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(budget, "budget");
        requireNatsPolicy(policy);
        if (Double.isNaN(current)) {
            throw new IllegalArgumentException("the S in force must be a number (nats), got NaN");
        }
        double min = budget.minThreshold();
        double max = budget.maxThreshold();
        double conf = budget.confidence();
        double c = Math.min(max, Math.max(min, current));
        boolean clamped = c != current;
        int n = window.size();
        if (n == 0) {
            Action action = action(current, c);
            String reason = String.format(Locale.ROOT, "window 0 samples: nothing to judge; %s at S=%.4f nats",
                    verb(action), c) + clampNote(clamped, current, min, max);
            return new Decision(action, c, 0, 0, 0.0, 1.0, 0, 1.0, false, reason);
        }

        Sweep sweep = sweep(window, policy);
        long kCurrent = sweep.disagreements(c);
        double ucbCurrent = ConfidenceBounds.wilsonUpper(kCurrent, n, conf);

        double best = largestWithinBudget(sweep, n, budget);
        boolean unattainable = Double.isNaN(best);
        if (unattainable) {
            best = min;
        }

        double margin = Math.max(MIN_RAISE_MARGIN, RELATIVE_RAISE_MARGIN * c);
        double chosen;
        String why;
        if (ucbCurrent > budget.maxDisagreement()) {
            chosen = best;
            why = unattainable
                    ? String.format(Locale.ROOT, " %s the minimum: budget unattainable in range, even S=%.4f breaks it",
                            chosen == current ? "at" : "to", min)
                    : " at once: the S in force breaks the budget";
        } else if (best > c + margin) {
            chosen = best;
            why = String.format(Locale.ROOT, ": best S exceeds the S in force by more than the margin %.4f", margin);
        } else {
            chosen = c;
            why = String.format(Locale.ROOT, ": best S=%.4f is within the margin %.4f", best, margin);
        }
        Action action = action(current, chosen);

        long kChosen = sweep.disagreements(chosen);
        double share = (double) kChosen / n;
        double ucbChosen = ConfidenceBounds.wilsonUpper(kChosen, n, conf);
        String reason = String.format(Locale.ROOT,
                "window %d samples: at S=%.4f nats %d disagree (%.2f %%, upper bound %.2f %% at %s %%) %s budget %.2f %%;"
                        + " was S=%.4f (upper bound %.2f %%); %s",
                n, chosen, kChosen, 100 * share, 100 * ucbChosen, percent(conf),
                ucbChosen <= budget.maxDisagreement() ? "<=" : ">", 100 * budget.maxDisagreement(),
                current, 100 * ucbCurrent, verb(action) + why)
                + clampNote(clamped, current, min, max);
        return new Decision(action, chosen, n, kChosen, share, ucbChosen, kCurrent, ucbCurrent,
                unattainable, reason);
    }

    /**
     * S*: the largest S in [minThreshold, maxThreshold] whose Wilson upper bound is within budget. Tries
     * maxThreshold, then the breakpoints in (min, max) from the top, then minThreshold: the count is constant
     * on each {@code (b_j, b_{j+1}]}, so no other S can be larger and feasible.
     *
     * @param sweep   the window's step function ({@link #sweep})
     * @param samples the window's size, {@code >= 1}
     * @param budget  the budget
     * @return S* in nats, or NaN when even minThreshold breaks the budget
     */
    static double largestWithinBudget(Sweep sweep, int samples, AccuracyBudget budget) {
        double min = budget.minThreshold();
        double max = budget.maxThreshold();
        if (withinBudget(sweep.disagreements(max), samples, budget)) {
            return max;
        }
        double[] at = sweep.at();
        for (int j = sweep.count(max) - 1; j >= 0 && at[j] > min; j--) {
            // Among tied breakpoints only the highest index needs a try; the others give the same count.
            boolean tiedAbove = j + 1 < at.length && at[j + 1] == at[j] && at[j + 1] < max;
            if (!tiedAbove && withinBudget(sweep.disagreements(at[j]), samples, budget)) {
                return at[j];
            }
        }
        return withinBudget(sweep.disagreements(min), samples, budget) ? min : Double.NaN;
    }

    private static boolean withinBudget(long disagreements, int samples, AccuracyBudget budget) {
        return ConfidenceBounds.wilsonUpper(disagreements, samples, budget.confidence()) <= budget.maxDisagreement();
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
