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
        // 8 rows of 10 tokens, then 15 (exactly 1.5 x 10: stays), then 8 x 20 (> 1.5 x 10: cut), then 8 x 100.
        int[] tokens = new int[25];
        Arrays.fill(tokens, 0, 8, 10);
        tokens[8] = 15;
        Arrays.fill(tokens, 9, 17, 20);
        Arrays.fill(tokens, 17, 25, 100);
        int[] arrival = reversed(tokens); // arrival order longest first: the plan must not depend on it

        List<int[]> plan = LengthBuckets.plan(arrival, 32, Buckets.LENGTH);

        // Apart, the first two pad 9 x 15 + 8 x 20 = 295 token-rows, merged 17 x 20 = 340: 13 % saved, kept apart.
        assertThat(plan).extracting(b -> b.length).containsExactly(9, 8, 8);
        assertThat(plan).allSatisfy(b -> assertThat(lengths(arrival, b)).isSorted());
        assertThat(lengths(arrival, plan.get(0))).containsOnly(10, 15);
        assertThat(lengths(arrival, plan.get(1))).containsOnly(20);
        assertThat(lengths(arrival, plan.get(2))).containsOnly(100);
    }

    @Test
    void aCutThatSavesLittlePaddingIsUndone() {
        // 8 short rows, then 24 rows at the 128-token cap, as on e-mails: the 8 shortest rows' bucket would pad to
        // 128 as well (its 8th row is at the cap), so the cut saves nothing and costs a TF call per layer.
        int[] emails = {40, 60, 90, 100, 110, 120, 127, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128};
        assertThat(LengthBuckets.plan(emails, 32, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(18);

        // 8 x 10 and 8 x 16: apart 208 token-rows, merged 256; the cut saves 19 % and stays.
        int[] twoLengths = {16, 10, 16, 10, 16, 10, 16, 10, 16, 10, 16, 10, 16, 10, 16, 10};
        assertThat(LengthBuckets.plan(twoLengths, 32, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(8, 8);
        // 8 x 10 and 8 x 11: apart 168, merged 176; 5 % saved, merged.
        int[] close = {11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10};
        assertThat(LengthBuckets.plan(close, 32, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(16);
        // A merge never exceeds max batch size.
        assertThat(LengthBuckets.plan(close, 12, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(12, 4);
    }

    @Test
    void aBucketBelowTheMinimumRowsTakesLongerRows() {
        // 7 short rows are too few for a bucket of their own: the 8th joins them, however long it is. The cut
        // before the 9th would then save 8 of 1089 token-rows, so it joins too.
        int[] tokens = {5, 5, 5, 5, 5, 5, 5, 120, 121};

        assertThat(LengthBuckets.plan(tokens, 32, Buckets.LENGTH)).extracting(b -> b.length).containsExactly(9);
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

    @Test
    void lockStepRunsFillUpToMaxBatchSizeWithLengthBucketsAndKeepNoneApart() {
        List<int[]> plan = List.of(new int[] {0, 1, 2}, new int[] {3, 4}, new int[] {5, 6, 7, 8}, new int[] {9});

        assertThat(LengthBuckets.lockStep(plan, 5, ClassifierOptions.Buckets.LENGTH))
                .extracting(List::size).containsExactly(2, 2);
        assertThat(LengthBuckets.lockStep(plan, 32, ClassifierOptions.Buckets.LENGTH))
                .extracting(List::size).containsExactly(4);
        assertThat(LengthBuckets.lockStep(plan, 32, ClassifierOptions.Buckets.NONE))
                .extracting(List::size).containsExactly(1, 1, 1, 1);
    }

    private static int[] reversed(int[] a) {
        return IntStream.range(0, a.length).map(i -> a[a.length - 1 - i]).toArray();
    }

    private static int[] lengths(int[] tokens, int[] bucket) {
        return IntStream.of(bucket).map(i -> tokens[i]).toArray();
    }
}
