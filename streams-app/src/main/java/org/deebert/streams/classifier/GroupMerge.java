package org.deebert.streams.classifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Decides which groups of live rows share one TF call at the next layer, when {@link Algorithm1Loop} runs the
 * length buckets of one call in lock-step. A group is a set of rows padded to one length T (its longest row's
 * token count); merging groups pads every row to the longest group's T, so it trades padding for calls.
 *
 * <p>The cost model: one layer call costs {@link #CALL_COST_TOKEN_ROWS} + B x T token-rows (B rows padded to T
 * tokens). The constant is the call's fixed cost (session run, feeding and fetching tensors, op dispatch) in units
 * of one token-row's compute, measured on CPU for MiniLM-L6 (H = 384, the committed models); see
 * {@link #CALL_COST_TOKEN_ROWS}. Early exit leaves a
 * few survivors per bucket after a few layers, each paying a whole call per layer; merged, they pay one.
 *
 * <p>The rule is greedy over the groups sorted by T (shortest first): the next group joins the current run when
 * the run's rows R, padded from its T to the next group's T', cost no more than the call saved,
 * {@code R x (T' - T) <= CALL_COST_TOKEN_ROWS}, and the run stays within max batch size rows. Sorted groups make
 * every merge a contiguous run, so a short group is never padded past a longer one it skipped. Padding is masked
 * (the SavedModel adds -1e9 to a padded key's attention score, whose exp is exactly 0 in float32), so a merge moves
 * only float32 rounding (~1e-7), as length buckets do: no label or exit layer unless a score lies that close to its
 * threshold.
 */
final class GroupMerge {

    /**
     * A layer call's fixed cost in token-rows. Fitted as time(B, T) = a + b x B x T, least squares, to the median
     * of 25 {@code layer_2} calls of the MiniLM-L6 subject-line model (H = 384, 6 layers) on the 2-core CPU
     * machine of the benchmarks (2 intra-op threads, float32) at every B in 1, 2, 4, 8, 16, 32 and T in 8, 16, 32,
     * 64, 128: a = 1.17 ms, b = 0.0234 ms per token-row, a / b = 50 (54 weighting each point by 1 / time, 58 on
     * the calls of at most 512 token-rows). Measured with a throwaway program timing {@link SignatureRunner#layer};
     * GPU calls have another ratio, but merging there changes the time only.
     */
    static final int CALL_COST_TOKEN_ROWS = 50;

    private GroupMerge() {
    }

    /**
     * @param rows      per group, its live rows, >= 1
     * @param seqLen    per group, the length T its rows are padded to (tokens), >= 1
     * @param maxRows   the most rows of one merged group (max batch size), >= 1
     * @param callCost  a call's fixed cost in token-rows ({@link #CALL_COST_TOKEN_ROWS}; 0 merges only groups of
     *                  equal T)
     * @return the groups to run, each the indices of the groups merged into it, shortest T first within and across
     *     runs; every index appears exactly once; a group of more than {@code maxRows} rows stays alone
     */
    static List<int[]> plan(int[] rows, int[] seqLen, int maxRows, int callCost) {
        if (rows.length != seqLen.length) {
            throw new IllegalArgumentException("rows and seqLen differ in length");
        }
        int[] sorted = IntStream.range(0, rows.length).boxed()
                .sorted(Comparator.comparingInt(g -> seqLen[g])) // stable: equal T keep their order
                .mapToInt(Integer::intValue).toArray();
        List<int[]> plan = new ArrayList<>();
        int start = 0;
        long runRows = 0;
        for (int k = 0; k < sorted.length; k++) {
            int g = sorted[k];
            boolean joins = k > start
                    && runRows + rows[g] <= maxRows
                    && runRows * (seqLen[g] - seqLen[sorted[k - 1]]) <= callCost;
            if (k > start && !joins) {
                plan.add(Arrays.copyOfRange(sorted, start, k));
                start = k;
                runRows = 0;
            }
            runRows += rows[g];
        }
        if (start < sorted.length) {
            plan.add(Arrays.copyOfRange(sorted, start, sorted.length));
        }
        return plan;
    }
}
