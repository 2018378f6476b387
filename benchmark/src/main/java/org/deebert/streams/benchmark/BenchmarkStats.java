package org.deebert.streams.benchmark;

import java.util.Arrays;
import java.util.Collection;

/**
 * The small statistics both benchmarks share: nearest-rank percentiles, the median run of repeated
 * measurements, and a latency summary. Pure functions, no state.
 */
public final class BenchmarkStats {

    private BenchmarkStats() {
    }

    /**
     * Nearest-rank percentile: the smallest value such that at least {@code q} of the values are at or
     * below it (p50 of {1, 2, 3, 4} is 2; p99 of 100 values is the 99th smallest).
     *
     * @param sorted values in ascending order (any unit; the result has the same unit)
     * @param q      the quantile, in [0, 1]
     * @return the percentile; 0 for no values
     * @throws IllegalArgumentException if {@code q} is outside [0, 1]
     */
    public static double percentile(double[] sorted, double q) {
        if (!(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile must be in [0, 1], got " + q);
        }
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /**
     * Which of K repeated runs is the median one, by a figure such as events/s. For an even K the
     * lower of the two middle runs is chosen, so the figure reported is one that was really measured
     * (not an average of two) and errs on the slow side.
     *
     * @param values one figure per run (e.g. events/s)
     * @return the index, in {@code values}, of the median run
     * @throws IllegalArgumentException if there are no values or one is NaN
     */
    public static int medianIndex(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no runs");
        }
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) {
                throw new IllegalArgumentException("run " + i + " has no value (NaN)");
            }
            order[i] = i;
        }
        // Stable sort: equal values keep run order, so the choice is deterministic.
        Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        return order[(values.length - 1) / 2];
    }

    /**
     * @param values the values
     * @return the values as a new array sorted ascending
     */
    public static double[] sorted(Collection<? extends Number> values) {
        double[] out = values.stream().mapToDouble(Number::doubleValue).toArray();
        Arrays.sort(out);
        return out;
    }

    /**
     * A latency distribution in milliseconds.
     *
     * @param count  number of samples
     * @param meanMs mean, ms
     * @param p50Ms  median (nearest rank), ms
     * @param p90Ms  90th percentile (nearest rank), ms
     * @param p99Ms  99th percentile (nearest rank), ms
     * @param maxMs  largest sample, ms
     */
    public record LatencySummary(int count, double meanMs, double p50Ms, double p90Ms, double p99Ms, double maxMs) {

        /**
         * @param samplesMs latencies in ms, any order (not modified)
         * @return their summary; all zeros for no samples
         */
        public static LatencySummary of(double[] samplesMs) {
            double[] s = samplesMs.clone();
            Arrays.sort(s);
            if (s.length == 0) {
                return new LatencySummary(0, 0, 0, 0, 0, 0);
            }
            double mean = Arrays.stream(s).average().orElse(0);
            return new LatencySummary(s.length, mean, percentile(s, 0.50), percentile(s, 0.90), percentile(s, 0.99),
                    s[s.length - 1]);
        }
    }

    /**
     * Rate between the first and the last of a series of timestamps: the events after the first,
     * divided by the span. E.g. 11 records arriving over 2 s give 5 events/s.
     *
     * @param events       number of events in the series (at least 2 for a rate)
     * @param firstNanos   time of the first, ns (any origin, e.g. {@link System#nanoTime()})
     * @param lastNanos    time of the last, ns (same origin)
     * @return events/s; NaN when fewer than 2 events or no time elapsed
     */
    public static double ratePerSecond(long events, long firstNanos, long lastNanos) {
        if (events < 2 || lastNanos <= firstNanos) {
            return Double.NaN;
        }
        return (events - 1) * 1e9 / (lastNanos - firstNanos);
    }
}
