package org.deebert.streams.topology;

import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Reads the live exit-layer histogram and throughput back out of {@code KafkaStreams.metrics()}, summed
 * over all tasks and threads of the instance (see {@link ClassifierMetrics} for the metrics themselves).
 */
public final class ExitMetrics {

    private ExitMetrics() {
    }

    /**
     * A point-in-time view of this instance's classifier metrics.
     *
     * @param exitHistogram      events per exit layer since start, index 0 = layer 1
     * @param eventsPerSecond    classified events/s over the recent sample window
     * @param classifiedTotal    events classified since start
     * @param meanBatchSize      mean events per classifier call (mean over tasks with data), 0 if none
     * @param meanLatencyMs      mean ms per classifier call (mean over tasks with data), 0 if none
     * @param thresholdS         S in nats of the latest batch of some task (0 before the first batch)
     * @param classifierFailures events dead-lettered because the classifier threw
     */
    public record Snapshot(long[] exitHistogram, double eventsPerSecond, long classifiedTotal, double meanBatchSize,
                           double meanLatencyMs, double thresholdS, long classifierFailures) {
    }

    /**
     * @param metrics   {@code KafkaStreams.metrics()}
     * @param numLayers number of off-ramps of the model (length of the histogram)
     * @return the summed view
     */
    public static Snapshot read(Map<MetricName, ? extends Metric> metrics, int numLayers) {
        long[] histogram = new long[numLayers];
        double rate = 0;
        long total = 0;
        double batchSum = 0;
        int batchN = 0;
        double latencySum = 0;
        int latencyN = 0;
        double threshold = Double.NaN;
        long failures = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            MetricName name = e.getKey();
            if (!ClassifierMetrics.GROUP.equals(name.group())) {
                continue;
            }
            double v = number(e.getValue());
            switch (name.name()) {
                case "exit-total" -> {
                    int layer = Integer.parseInt(name.tags().get(ClassifierMetrics.EXIT_LAYER_TAG));
                    if (layer >= 1 && layer <= numLayers) {
                        histogram[layer - 1] += (long) v;
                    }
                }
                case "classified-rate" -> rate += v;
                case "classified-total" -> total += (long) v;
                case "batch-size-avg" -> {
                    if (Double.isFinite(v)) {
                        batchSum += v;
                        batchN++;
                    }
                }
                case "classify-latency-avg" -> {
                    if (Double.isFinite(v)) {
                        latencySum += v;
                        latencyN++;
                    }
                }
                case "exit-threshold" -> {
                    if (Double.isFinite(v)) {
                        threshold = v;
                    }
                }
                case "classifier-failure-total" -> failures += (long) v;
                default -> { }
            }
        }
        return new Snapshot(histogram, rate, total, batchN == 0 ? 0 : batchSum / batchN,
                latencyN == 0 ? 0 : latencySum / latencyN, threshold, failures);
    }

    private static double number(Metric metric) {
        Object value = metric.metricValue();
        return value instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
