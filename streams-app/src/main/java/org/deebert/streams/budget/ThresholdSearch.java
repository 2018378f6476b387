package org.deebert.streams.budget;

/**
 * The search over candidate S behind {@link ThresholdChooser}: the largest S in a budget's
 * [minThreshold, maxThreshold] whose Wilson upper bound ({@link ConfidenceBounds#wilsonUpper}, at the budget's
 * confidence) on the window's disagreement, and on a label guard's recall loss, is within a limit. Both counts
 * are step functions of S ({@link DisagreementSweep}), so only minThreshold, maxThreshold and their breakpoints
 * in (min, max] need to be tried.
 */
final class ThresholdSearch {

    private ThresholdSearch() {
    }

    /**
     * S*: the largest S in [minThreshold, maxThreshold] whose Wilson upper bound is within the budget; the
     * four-argument form with the limit {@code budget.maxDisagreement()}.
     *
     * @param sweep   the window's step function
     * @param samples the window's size, {@code >= 1}
     * @param budget  the budget
     * @return S* in nats, or NaN when even minThreshold breaks the budget
     */
    static double largestWithinBudget(DisagreementSweep sweep, int samples, Budget budget) {
        return largestWithinBudget(sweep, samples, budget, budget.maxDisagreement());
    }

    /**
     * The largest S in [minThreshold, maxThreshold] whose Wilson upper bound, at the budget's confidence, is
     * at most {@code limit}. Tries maxThreshold, then the breakpoints in (min, max) from the top, then
     * minThreshold: the count is constant on each {@code (b_j, b_{j+1}]}, so no other S can be larger and
     * within the limit.
     *
     * @param sweep   the window's step function
     * @param samples the window's size, {@code >= 1}
     * @param budget  the budget: range of S and confidence
     * @param limit   the most the upper bound may be, a share (the budget, or
     *                {@link ThresholdChooser#RAISE_HEADROOM} times it)
     * @return that S in nats, or NaN when even minThreshold's bound exceeds {@code limit}
     */
    static double largestWithinBudget(DisagreementSweep sweep, int samples, Budget budget, double limit) {
        return largestWithin(sweep, samples, null, budget, limit, 1.0);
    }

    /**
     * The largest S in [minThreshold, maxThreshold] whose disagreement bound is at most {@code limit} and, with a
     * guard, whose recall-loss bound on the guard's samples is at most {@code guardLimit}. Tries maxThreshold,
     * then the breakpoints of either step function in (min, max) from the top, then minThreshold: both counts are
     * constant between consecutive breakpoints of the two merged, so no other S can be larger and within both.
     *
     * @param sweep      the window's disagreement step function
     * @param samples    the window's size, {@code >= 1}
     * @param guard      the guard's samples and step function, or null for none
     * @param budget     the budget: range of S and confidence
     * @param limit      the most the disagreement bound may be, a share
     * @param guardLimit the most the guard's bound may be, a share (ignored without a guard)
     * @return that S in nats, or NaN when even minThreshold is over a limit
     */
    static double largestWithin(DisagreementSweep sweep, int samples, LabelGuardWindow guard, Budget budget,
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

    /** @return whether the Wilson upper bound of {@code disagreements} in {@code samples} is at most {@code limit} */
    static boolean within(long disagreements, int samples, double confidence, double limit) {
        return ConfidenceBounds.wilsonUpper(disagreements, samples, confidence) <= limit;
    }
}
