package org.deebert.streams.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Rate;
import org.apache.kafka.common.metrics.stats.Value;
import org.apache.kafka.common.metrics.stats.WindowedSum;
import org.apache.kafka.streams.StreamsMetrics;

/**
 * The classify processor's sensors, registered in Kafka Streams' own metrics registry so that
 * {@code KafkaStreams.metrics()} (and JMX) show them live. One set per task; all metrics are in group
 * {@value #GROUP} with tags {@code thread-id} and {@code task-id} (plus {@code exit-layer} for the
 * per-layer ones). Read them back with {@link ExitMetrics}.
 *
 * <ul>
 *   <li>{@code exit-total} / {@code exit-rate}: events that left at off-ramp {@code exit-layer} (1-based),
 *       total and per second</li>
 *   <li>{@code classified-total} / {@code classified-rate}: events classified, total and events/s</li>
 *   <li>{@code batch-size-avg} / {@code batch-size-max}: events per classifier call</li>
 *   <li>{@code classify-latency-avg} / {@code classify-latency-max}: ms per classifier call (whole batch)</li>
 *   <li>{@code exit-threshold}: S in nats used for the latest batch</li>
 *   <li>{@code classifier-failure-total}: events dead-lettered because the classifier threw</li>
 * </ul>
 */
public final class ClassifierMetrics implements AutoCloseable {

    /** Metric group of every metric here. */
    public static final String GROUP = "deebert-classifier-metrics";
    /** Tag naming the 1-based exit layer of the per-layer metrics. */
    public static final String EXIT_LAYER_TAG = "exit-layer";

    private final StreamsMetrics metrics;
    private final List<Sensor> sensors = new ArrayList<>();
    private final Sensor[] exitByLayer;
    private final Sensor classified;
    private final Sensor batchSize;
    private final Sensor latency;
    private final Sensor threshold;
    private final Sensor failures;

    /**
     * @param metrics   the task's {@code context.metrics()}
     * @param threadId  the stream thread's name
     * @param taskId    the task id
     * @param numLayers number of off-ramps of the model
     */
    public ClassifierMetrics(StreamsMetrics metrics, String threadId, String taskId, int numLayers) {
        this.metrics = metrics;
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("thread-id", threadId);
        tags.put("task-id", taskId);
        // Sensor names are global in the registry: prefix them with thread and task so tasks never share one.
        String prefix = "deebert." + threadId + "." + taskId + ".";

        exitByLayer = new Sensor[numLayers];
        for (int layer = 1; layer <= numLayers; layer++) {
            Map<String, String> layerTags = new LinkedHashMap<>(tags);
            layerTags.put(EXIT_LAYER_TAG, Integer.toString(layer));
            Sensor s = sensor(prefix + "exit-layer-" + layer);
            s.add(new MetricName("exit-total", GROUP, "events that left at this off-ramp", layerTags), new CumulativeSum());
            s.add(new MetricName("exit-rate", GROUP, "events/s that left at this off-ramp", layerTags),
                    new Rate(TimeUnit.SECONDS, new WindowedSum()));
            exitByLayer[layer - 1] = s;
        }
        classified = sensor(prefix + "classified");
        classified.add(new MetricName("classified-total", GROUP, "events classified", tags), new CumulativeSum());
        classified.add(new MetricName("classified-rate", GROUP, "events classified per second", tags),
                new Rate(TimeUnit.SECONDS, new WindowedSum()));
        batchSize = sensor(prefix + "batch-size");
        batchSize.add(new MetricName("batch-size-avg", GROUP, "mean events per classifier call", tags), new Avg());
        batchSize.add(new MetricName("batch-size-max", GROUP, "most events in one classifier call", tags), new Max());
        latency = sensor(prefix + "classify-latency");
        latency.add(new MetricName("classify-latency-avg", GROUP, "mean ms per classifier call", tags), new Avg());
        latency.add(new MetricName("classify-latency-max", GROUP, "longest classifier call in ms", tags), new Max());
        threshold = sensor(prefix + "exit-threshold");
        threshold.add(new MetricName("exit-threshold", GROUP, "threshold S in nats used for the latest batch", tags), new Value());
        failures = sensor(prefix + "classifier-failure");
        failures.add(new MetricName("classifier-failure-total", GROUP, "events dead-lettered because the classifier threw", tags),
                new CumulativeSum());
    }

    private Sensor sensor(String name) {
        Sensor s = metrics.addSensor(name, Sensor.RecordingLevel.INFO);
        sensors.add(s);
        return s;
    }

    /**
     * Records one classifier call.
     *
     * @param exitCounts  events per exit layer, index 0 = layer 1
     * @param events      events classified in the call
     * @param latencyMs   wall time of the call in ms
     * @param thresholdS  S in nats used
     */
    public void recordBatch(long[] exitCounts, int events, double latencyMs, double thresholdS) {
        for (int i = 0; i < exitCounts.length && i < exitByLayer.length; i++) {
            if (exitCounts[i] > 0) {
                exitByLayer[i].record(exitCounts[i]);
            }
        }
        classified.record(events);
        batchSize.record(events);
        latency.record(latencyMs);
        threshold.record(thresholdS);
    }

    /** Counts one event dead-lettered with CLASSIFIER_FAILURE. */
    public void recordFailure() {
        failures.record(1);
    }

    /** Removes this task's sensors (and their metrics) from the registry. */
    @Override
    public void close() {
        for (Sensor s : sensors) {
            metrics.removeSensor(s);
        }
        sensors.clear();
    }
}
