package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.deebert.streams.classifier.ClassifierOptions.Buckets;
import org.junit.jupiter.api.Test;

/** The bucket plan alone, on token counts: sizes, order within and across buckets, and the caps. */
class LengthBucketsTest {

    @Test
    void noneCutsArrivalOrderIntoChunksOfMaxBatchSize() {
        List<int[]> plan = LengthBuckets.plan(new int[] {50, 3, 128, 9, 7}, 2, Buckets.NONE);

        assertThat(plan).containsExactly(new int[] {0, 1}, new int[] {2, 3}, new int[] {4});
    }

    @Test
    void lengthSortsStablyAndKeepsASmallCallInOneBucketWhateverTheLengths() {
        // Fewer rows than MIN_ROWS: never cut for length, however far apart the lengths are.
        int[] tokens = {128, 9, 40, 9, 12};

        assertThat(LengthBuckets.plan(tokens, 32, Buckets.LENGTH)).containsExactly(new int[] {1, 3, 4, 2, 0});
    }

    @Test
    void lengthStartsABucketWhenARowOutgrowsTheFirstByTheFactorOnceTheBucketHasTheMinimumRows() {
        // 8 rows of 10 tokens, then 15 (exactly 1.5 x 10: stays), then 8 x 16 (> 1.5 x 10: cut), then 8 x 100.
        int[] tokens = new int[25];
        Arrays.fill(tokens, 0, 8, 10);
        tokens[8] = 15;
        Arrays.fill(tokens, 9, 17, 16);
        Arrays.fill(tokens, 17, 25, 100);
        int[] arrival = reversed(tokens); // arrival order longest first: the plan must not depend on it

        List<int[]> plan = LengthBuckets.plan(arrival, 32, Buckets.LENGTH);

        assertThat(plan).extracting(b -> b.length).containsExactly(9, 8, 8);
        assertThat(plan).allSatisfy(b -> assertThat(lengths(arrival, b)).isSorted());
        assertThat(lengths(arrival, plan.get(0))).containsOnly(10, 15);
        assertThat(lengths(arrival, plan.get(1))).containsOnly(16);
        assertThat(lengths(arrival, plan.get(2))).containsOnly(100);
    }

    @Test
    void aBucketBelowTheMinimumRowsTakesLongerRows() {
        // 7 short rows are too few to close a bucket: the 8th row joins them, however long it is.
        int[] tokens = {5, 5, 5, 5, 5, 5, 5, 120, 121};

        assertThat(LengthBuckets.plan(tokens, 32, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(8, 1);
    }

    @Test
    void bucketsNeverExceedMaxBatchSizeAndEveryRowAppearsOnce() {
        int[] tokens = IntStream.range(0, 100).map(i -> 1 + (i * 37) % 128).toArray();

        for (int max : new int[] {1, 3, 8, 32, 200}) {
            List<int[]> plan = LengthBuckets.plan(tokens, max, Buckets.LENGTH);
            assertThat(plan).allSatisfy(b -> assertThat(b.length).isBetween(1, max));
            assertThat(plan.stream().flatMapToInt(IntStream::of).sorted().toArray())
                    .isEqualTo(IntStream.range(0, tokens.length).toArray());
            // Buckets run shortest first, and no bucket's rows are shorter than the previous bucket's last row.
            int[] order = plan.stream().flatMapToInt(IntStream::of).map(i -> tokens[i]).toArray();
            assertThat(order).isSorted();
        }
    }

    @Test
    void equalLengthsKeepArrivalOrder() {
        int[] tokens = {7, 3, 7, 3, 7};

        assertThat(LengthBuckets.plan(tokens, 32, Buckets.LENGTH)).containsExactly(new int[] {1, 3, 0, 2, 4});
    }

    @Test
    void emptyCallHasNoBucketAndMaxBatchSizeMustBePositive() {
        assertThat(LengthBuckets.plan(new int[0], 4, Buckets.LENGTH)).isEmpty();
        assertThat(LengthBuckets.plan(new int[0], 4, Buckets.NONE)).isEmpty();
        assertThatThrownBy(() -> LengthBuckets.plan(new int[] {3}, 0, Buckets.LENGTH))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBatchSize");
    }

    private static int[] reversed(int[] a) {
        return IntStream.range(0, a.length).map(i -> a[a.length - 1 - i]).toArray();
    }

    private static int[] lengths(int[] tokens, int[] bucket) {
        return IntStream.of(bucket).map(i -> tokens[i]).toArray();
    }
}
