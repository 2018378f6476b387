package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The merge rule alone, on rows and padded lengths: which groups share a layer call, and in what order. */
class GroupMergeTest {

    private static final int COST = GroupMerge.CALL_COST_TOKEN_ROWS;

    @Test
    void fewSurvivorsOfNearbyLengthsShareOneCall() {
        // Three buckets' survivors after a few layers: 2 rows at 9 tokens, 1 at 14, 3 at 30. Padding the first run
        // costs 2 x 5 = 10, then 3 x 16 = 48 token-rows, each less than the call saved.
        List<int[]> plan = GroupMerge.plan(new int[] {3, 2, 1}, new int[] {30, 9, 14}, 32, COST);

        assertThat(plan).containsExactly(new int[] {1, 2, 0});
    }

    @Test
    void manyRowsAreNotPaddedFarToSaveOneCall() {
        // 16 rows at 12 tokens and 8 at 20: padding the 16 costs 16 x 8 = 128 token-rows, more than a call.
        assertThat(GroupMerge.plan(new int[] {16, 8}, new int[] {12, 20}, 32, COST))
                .containsExactly(new int[] {0}, new int[] {1});
        // A short row next to an e-mail at 128 tokens: 1 x 118 padded token-rows > a call.
        assertThat(GroupMerge.plan(new int[] {1, 1}, new int[] {10, 128}, 32, COST))
                .containsExactly(new int[] {0}, new int[] {1});
    }

    @Test
    void theRuleIsPaddingOfTheRunAgainstTheCallCostAtTheBoundary() {
        // R x (T' - T) == cost merges; one token-row more does not.
        assertThat(GroupMerge.plan(new int[] {5, 1}, new int[] {10, 20}, 32, 50)).hasSize(1);
        assertThat(GroupMerge.plan(new int[] {5, 1}, new int[] {10, 21}, 32, 50)).hasSize(2);
        // The run grows: after 4 + 1 rows merge at 12 tokens, padding all 5 to 22 costs 50 and still merges, to
        // 23 (55) not.
        assertThat(GroupMerge.plan(new int[] {4, 1, 1}, new int[] {10, 12, 22}, 32, 50)).hasSize(1);
        assertThat(GroupMerge.plan(new int[] {4, 1, 1}, new int[] {10, 12, 23}, 32, 50))
                .containsExactly(new int[] {0, 1}, new int[] {2});
    }

    @Test
    void equalLengthsMergeEvenWithoutACallCostAndRunsStopAtMaxRows() {
        assertThat(GroupMerge.plan(new int[] {3, 4}, new int[] {16, 16}, 32, 0)).containsExactly(new int[] {0, 1});
        // 10 + 10 fit in 24, the third 10 does not: it starts a run of its own.
        assertThat(GroupMerge.plan(new int[] {10, 10, 10}, new int[] {8, 8, 8}, 24, COST))
                .containsExactly(new int[] {0, 1}, new int[] {2});
        // A group larger than max rows stays alone.
        assertThat(GroupMerge.plan(new int[] {40, 1}, new int[] {8, 8}, 32, COST))
                .containsExactly(new int[] {0}, new int[] {1});
    }

    @Test
    void everyGroupAppearsOnceSortedByLengthWithinAndAcrossRuns() {
        int[] rows = {1, 7, 2, 2, 5, 1, 3};
        int[] seqLen = {40, 9, 11, 128, 13, 60, 9};

        List<int[]> plan = GroupMerge.plan(rows, seqLen, 32, COST);

        int[] order = plan.stream().flatMapToInt(Arrays::stream).toArray();
        assertThat(order).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
        assertThat(Arrays.stream(order).map(g -> seqLen[g]).toArray()).isSorted();
        assertThat(plan).allSatisfy(run -> assertThat(Arrays.stream(run).map(g -> rows[g]).sum()).isLessThanOrEqualTo(32));
        assertThat(GroupMerge.plan(new int[0], new int[0], 32, COST)).isEmpty();
        assertThatThrownBy(() -> GroupMerge.plan(new int[] {1}, new int[0], 32, COST))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
