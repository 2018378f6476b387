package org.deebert.streams.classifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Splits one classifier call's inputs into the chunks that run through {@link Algorithm1Loop}, so that each input
 * is padded only to the longest row of its own chunk, and groups the chunks that run in lock-step
 * ({@link #lockStep}).
 *
 * <p>{@link ClassifierOptions.Buckets#NONE}: chunks of at most max batch size inputs in arrival order (the
 * former behaviour). {@link ClassifierOptions.Buckets#LENGTH}: the inputs sorted by token count (stable: equal
 * counts keep arrival order), then cut greedily from the shortest: a row starts a new bucket when the bucket is
 * full (max batch size), or when its token count exceeds {@value #GROWTH} x the bucket's first (shortest) row's
 * and the bucket already has {@value #MIN_ROWS} rows. So a bucket of at least {@value #MIN_ROWS} rows pads every
 * row to less than {@value #GROWTH} x its own length, where arrival order pads a 10-token subject to the
 * 128-token e-mail beside it. A cut that saves less than {@value #MIN_SAVING} of the padded token-rows of
 * the two buckets merged (and whose merge fits in max batch size) is undone: on e-mails most rows reach the
 * 128-token cap, so the 8 shortest rows' bucket would pad to 128 too and only add TF calls.
 *
 * <p>Why a minimum: every bucket costs one TF session call per layer (plus {@code embed}) and a smaller matmul
 * (until early exit thins it and its survivors merge with another bucket's, {@link GroupMerge});
 * the minimum keeps a call of 32 from falling apart into many small buckets (at most 32 / {@value #MIN_ROWS}
 * = 4 for a call of 32). Why greedy over the sorted rows rather than an optimal split: sorted rows make every
 * bucket a contiguous run, the rule needs no cost model beyond padded token-rows, and its plan is easy to predict
 * from the token counts. Padding is masked, so the plan changes the time and float32 rounding only (TensorFlow's
 * CPU kernels block a matmul by the tensor's shape, so a row's values move by ~1e-7 with its bucket): no label or
 * exit layer unless a score lies that close to its threshold.
 */
final class LengthBuckets {

    /** A row whose token count is more than this factor times the bucket's shortest row's may start a new bucket. */
    static final double GROWTH = 1.5;
    /** A bucket holds at least this many rows before it may be cut for length (the last bucket may hold fewer). */
    static final int MIN_ROWS = 8;
    /** Two neighbouring buckets are merged unless keeping them apart saves this share of their padded token-rows. */
    static final double MIN_SAVING = 0.125;

    private LengthBuckets() {
    }

    /**
     * @param numTokens    token count of each input of the call, in call order ([CLS]/[SEP] included)
     * @param maxBatchSize the most rows of one bucket, >= 1
     * @param buckets      how to split
     * @return the buckets in the order to run them, each the call indices of its rows (ascending token count for
     *     {@code LENGTH}, arrival order for {@code NONE}); every index appears exactly once
     */
    static List<int[]> plan(int[] numTokens, int maxBatchSize, ClassifierOptions.Buckets buckets) {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        int rows = numTokens.length;
        List<int[]> plan = new ArrayList<>();
        if (buckets == ClassifierOptions.Buckets.NONE) {
            for (int from = 0; from < rows; from += maxBatchSize) {
                plan.add(IntStream.range(from, Math.min(rows, from + maxBatchSize)).toArray());
            }
            return plan;
        }
        int[] sorted = IntStream.range(0, rows).boxed()
                .sorted(Comparator.comparingInt(i -> numTokens[i])) // List.sort is stable
                .mapToInt(Integer::intValue).toArray();
        int start = 0;
        for (int k = 1; k <= rows; k++) {
            if (k == rows || k - start == maxBatchSize
                    || (k - start >= MIN_ROWS && numTokens[sorted[k]] > GROWTH * numTokens[sorted[start]])) {
                int[] bucket = Arrays.copyOfRange(sorted, start, k);
                int last = plan.size() - 1;
                if (last >= 0 && worthMerging(plan.get(last), bucket, numTokens, maxBatchSize)) {
                    plan.set(last, concat(plan.get(last), bucket));
                } else {
                    plan.add(bucket);
                }
                start = k;
            }
        }
        return plan;
    }

    /**
     * Which chunks of a plan run together in lock-step, layer by layer, so that {@link Algorithm1Loop} can merge the
     * survivors of several length buckets into one TF call per layer ({@link GroupMerge}). {@code NONE}: every
     * chunk alone (the former behaviour). {@code LENGTH}: consecutive buckets while their rows add up to at most max
     * batch size, so a lock-step run holds no more hidden state than one chunk of max batch size; a call of at
     * most max batch size inputs (every call of the streams app) runs all its buckets in one lock-step run.
     *
     * @param plan         {@link #plan}'s chunks
     * @param maxBatchSize the most rows of one chunk, >= 1
     * @param buckets      how the plan was made
     * @return the plan's chunks in order, grouped into lock-step runs
     */
    static List<List<int[]>> lockStep(List<int[]> plan, int maxBatchSize, ClassifierOptions.Buckets buckets) {
        List<List<int[]>> runs = new ArrayList<>();
        int rows = 0;
        for (int[] chunk : plan) {
            if (runs.isEmpty() || buckets == ClassifierOptions.Buckets.NONE || rows + chunk.length > maxBatchSize) {
                runs.add(new ArrayList<>());
                rows = 0;
            }
            runs.get(runs.size() - 1).add(chunk);
            rows += chunk.length;
        }
        return runs;
    }

    /**
     * @return whether two neighbouring buckets (rows ascending by token count, {@code shorter} before
     *     {@code longer}) fit in one and keeping them apart saves less than {@link #MIN_SAVING} of the merged
     *     bucket's padded token-rows
     */
    private static boolean worthMerging(int[] shorter, int[] longer, int[] numTokens, int maxBatchSize) {
        int rows = shorter.length + longer.length;
        if (rows > maxBatchSize) {
            return false;
        }
        long together = (long) rows * numTokens[longer[longer.length - 1]];
        long apart = (long) shorter.length * numTokens[shorter[shorter.length - 1]]
                + (long) longer.length * numTokens[longer[longer.length - 1]];
        return together - apart < MIN_SAVING * together;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
