package org.deebert.streams.budget;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;

/**
 * A window of shadow samples' disagreement count as a step function of the entropy threshold S: how many of
 * its traces would answer otherwise than the full model (the last off-ramp) if S were in force. The count
 * changes only at the breakpoints {@code at}, and is constant on each {@code (at[j], at[j+1]]}, since the exit
 * test of DeeBERT (Xin et al. 2020, Algorithm 1) is strict: an input leaves at the first layer {@code i < n}
 * whose score is strictly below S.
 *
 * @param at    breakpoints, nats, ascending: the values of S just above which some trace's status changes
 * @param below {@code below[j]} = disagreements at any S with exactly {@code j} breakpoints below it; one
 *              longer than {@code at}
 */
record DisagreementSweep(double[] at, long[] below) {

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
     * @param window the shadow samples, in any order; traces may differ in layer count
     * @param policy ENTROPY or DIVERGENCE
     * @return the step function; breakpoints where the count does not change are left out
     * @throws NullPointerException     if {@code policy} or a trace is null
     * @throws IllegalArgumentException if {@code policy} is PATIENCE (its threshold is not in nats)
     */
    static DisagreementSweep of(List<ShadowTrace> window, ExitPolicy policy) {
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
        return new DisagreementSweep(at, below);
    }

    /**
     * Brute-force count, one {@link ShadowTrace#disagreesAt} per trace: the definition {@link #of}'s step
     * function must agree with, for tests and for callers that need one S.
     *
     * @param window the shadow samples
     * @param policy ENTROPY or DIVERGENCE
     * @param s      S, nats, finite and {@code >= 0}
     * @return how many traces' answers at S differ from their full model's
     * @throws IllegalArgumentException if {@code policy} is PATIENCE or {@code s} is negative, NaN or infinite
     */
    static long bruteForce(List<ShadowTrace> window, ExitPolicy policy, double s) {
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
     * @param policy the policy whose S is chosen
     * @throws NullPointerException     if {@code policy} is null
     * @throws IllegalArgumentException if it is PATIENCE: its threshold is a patience in layers, not nats
     */
    static void requireNatsPolicy(ExitPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        if (!policy.comparesScoreInNats()) {
            throw new IllegalArgumentException("the threshold chooser sets S of ENTROPY or DIVERGENCE, not " + policy);
        }
    }

    /** @return how many breakpoints are strictly below {@code s} (nats) */
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
