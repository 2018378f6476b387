package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.deebert.streams.topology.ClassifierMetrics;
import org.junit.jupiter.api.Test;

class ClassifierTotalsTest {

    private final Map<MetricName, Metric> metrics = new HashMap<>();
    private final ClassifierTotals totals = new ClassifierTotals(() -> metrics, 3);

    @Test
    void sumsTheTasksSensors() {
        set("0_0", 1, 5);
        set("0_0", 3, 2);
        set("0_1", 1, 4);
        setClassified("0_0", 7);
        setClassified("0_1", 4);

        ClassifierTotals.Snapshot s = totals.read();

        assertThat(s.exitHistogram()).containsExactly(9, 0, 2);
        assertThat(s.classified()).isEqualTo(11);
        assertThat(s.exits()).isEqualTo(11);
    }

    @Test
    void neverGoesDownWhenATasksSensorsAreRemovedOrRecreated() {
        set("0_0", 1, 5);
        set("0_1", 1, 4);
        assertThat(totals.read().exitHistogram()[0]).isEqualTo(9);

        // Task 0_1 moves to another instance: its sensors are removed.
        metrics.keySet().removeIf(n -> n.tags().get("task-id").equals("0_1"));
        assertThat(totals.read().exitHistogram()[0]).isEqualTo(9);

        // It comes back: a new sensor counts from 0 again.
        set("0_1", 1, 2);
        assertThat(totals.read().exitHistogram()[0]).isEqualTo(11);
        set("0_1", 1, 3);
        assertThat(totals.read().exitHistogram()[0]).isEqualTo(12);
    }

    private void set(String task, int layer, double value) {
        metrics.put(new MetricName("exit-total", ClassifierMetrics.GROUP, "",
                Map.of("thread-id", "t1", "task-id", task, ClassifierMetrics.EXIT_LAYER_TAG, Integer.toString(layer))),
                metric(value));
    }

    private void setClassified(String task, double value) {
        metrics.put(new MetricName("classified-total", ClassifierMetrics.GROUP, "", Map.of("thread-id", "t1", "task-id", task)),
                metric(value));
    }

    static Metric metric(double value) {
        return new Metric() {
            @Override
            public MetricName metricName() {
                return null;
            }

            @Override
            public Object metricValue() {
                return value;
            }
        };
    }
}
