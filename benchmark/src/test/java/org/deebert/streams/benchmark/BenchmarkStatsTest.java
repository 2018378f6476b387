package org.deebert.streams.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BenchmarkStatsTest {

    @Test
    void nearestRankPercentiles() {
        double[] sorted = new double[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1; // 1..100
        }
        assertThat(BenchmarkStats.percentile(sorted, 0.50)).isEqualTo(50);
        assertThat(BenchmarkStats.percentile(sorted, 0.99)).isEqualTo(99);
        assertThat(BenchmarkStats.percentile(sorted, 1.0)).isEqualTo(100);
        assertThat(BenchmarkStats.percentile(sorted, 0.0)).isEqualTo(1);
        assertThat(BenchmarkStats.percentile(new double[] {1, 2, 3, 4}, 0.5)).isEqualTo(2);
        assertThat(BenchmarkStats.percentile(new double[] {7}, 0.99)).isEqualTo(7);
        assertThat(BenchmarkStats.percentile(new double[0], 0.5)).isZero();
        assertThatThrownBy(() -> BenchmarkStats.percentile(sorted, 1.5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void medianRunIsARealRunAndTheLowerMiddleForEvenCounts() {
        // events/s of repeated runs in the order they were measured
        assertThat(BenchmarkStats.medianIndex(new double[] {30.0, 10.0, 20.0})).isEqualTo(2);
        assertThat(BenchmarkStats.medianIndex(new double[] {40.0, 10.0, 30.0, 20.0})).isEqualTo(3); // 20, not 25
        assertThat(BenchmarkStats.medianIndex(new double[] {5.0})).isZero();
        assertThat(BenchmarkStats.medianIndex(new double[] {9.0, 9.0, 9.0})).isEqualTo(1); // ties: run order kept
        assertThatThrownBy(() -> BenchmarkStats.medianIndex(new double[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BenchmarkStats.medianIndex(new double[] {1, Double.NaN}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void latencySummaryOfUnsortedSamples() {
        double[] samples = {50, 10, 40, 20, 30, 100, 60, 70, 80, 90};
        BenchmarkStats.LatencySummary s = BenchmarkStats.LatencySummary.of(samples);
        assertThat(s.count()).isEqualTo(10);
        assertThat(s.meanMs()).isEqualTo(55.0);
        assertThat(s.p50Ms()).isEqualTo(50);
        assertThat(s.p90Ms()).isEqualTo(90);
        assertThat(s.p99Ms()).isEqualTo(100);
        assertThat(s.maxMs()).isEqualTo(100);
        assertThat(samples[0]).isEqualTo(50); // the caller's array is left alone
        assertThat(BenchmarkStats.LatencySummary.of(new double[0]).count()).isZero();
    }

    @Test
    void rateCountsTheEventsAfterTheFirst() {
        assertThat(BenchmarkStats.ratePerSecond(11, 1_000_000_000L, 3_000_000_000L)).isEqualTo(5.0);
        assertThat(BenchmarkStats.ratePerSecond(1, 0, 1_000_000_000L)).isNaN();
        assertThat(BenchmarkStats.ratePerSecond(5, 7, 7)).isNaN();
    }
}
