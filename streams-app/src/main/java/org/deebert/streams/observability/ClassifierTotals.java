package org.deebert.streams.observability;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.deebert.streams.topology.ClassifierMetrics;

/**
 * Monotonic totals of this instance's exits per layer and events classified, read from the classify
 * processor's Kafka Streams sensors ({@link ClassifierMetrics}: {@code exit-total}, {@code classified-total}),
 * which stay the one place where they are counted.
 *
 * <p>Why not just sum those sensors: they are per task and are removed when a task closes (a rebalance
 * moves it elsewhere), and restart from 0 if it comes back. A plain sum would then go down, which Prometheus
 * reads as a counter reset and the telemetry as a negative interval. Here each sensor's last value seen is
 * kept after it disappears, and a sensor that restarts lower is added on top of what it had. Counts recorded
 * after the last read and before the task closed are lost; every scrape and every telemetry interval reads,
 * so that window is short.
 */
public final class ClassifierTotals {

    /**
     * Totals since this instance started.
     *
     * @param exitHistogram events per exit layer, index 0 = layer 1
     * @param classified    events classified
     */
    public record Snapshot(long[] exitHistogram, long classified) {
        /** @return the sum of the exit histogram (equals {@link #classified()} once both sensors are read) */
        public long exits() {
            long sum = 0;
            for (long n : exitHistogram) {
                sum += n;
            }
            return sum;
        }
    }

    /** Per-sensor state: what it showed last, and what earlier lives of it (before a reset) had counted. */
    private static final class Seen {
        long earlierLives;
        long last;
    }

    private final Supplier<Map<MetricName, ? extends Metric>> metrics;
    private final int numLayers;
    private final Map<MetricName, Seen> seen = new HashMap<>();

    /**
     * @param metrics   the source, usually {@code KafkaStreams::metrics}
     * @param numLayers number of off-ramps of the model
     */
    public ClassifierTotals(Supplier<Map<MetricName, ? extends Metric>> metrics, int numLayers) {
        this.metrics = metrics;
        this.numLayers = numLayers;
    }

    /** @return the totals now (thread-safe; called by scrapes and the telemetry publisher) */
    public synchronized Snapshot read() {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.get().entrySet()) {
            MetricName name = e.getKey();
            if (!ClassifierMetrics.GROUP.equals(name.group())
                    || !(name.name().equals("exit-total") || name.name().equals("classified-total"))) {
                continue;
            }
            if (!(e.getValue().metricValue() instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                continue;
            }
            long value = (long) n.doubleValue();
            Seen s = seen.computeIfAbsent(name, k -> new Seen());
            if (value < s.last) {
                s.earlierLives += s.last; // the task's sensor was re-created and counts from 0 again
            }
            s.last = value;
        }
        long[] histogram = new long[numLayers];
        long classified = 0;
        for (Map.Entry<MetricName, Seen> e : seen.entrySet()) {
            long total = e.getValue().earlierLives + e.getValue().last;
            MetricName name = e.getKey();
            if (name.name().equals("classified-total")) {
                classified += total;
            } else {
                int layer = Integer.parseInt(name.tags().get(ClassifierMetrics.EXIT_LAYER_TAG));
                if (layer >= 1 && layer <= numLayers) {
                    histogram[layer - 1] += total;
                }
            }
        }
        return new Snapshot(histogram, classified);
    }
}
