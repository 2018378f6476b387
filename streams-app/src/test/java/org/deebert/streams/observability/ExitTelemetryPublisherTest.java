package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.topology.ClassifierMetrics;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.control.ExitSettingInForce;
import org.junit.jupiter.api.Test;

class ExitTelemetryPublisherTest {

    private final Map<MetricName, Metric> metrics = new HashMap<>();
    private final Map<DeadLetterCode, Long> deadLetters = new EnumMap<>(DeadLetterCode.class);
    private final AtomicLong clock = new AtomicLong(1_000);
    private final MockProducer<String, ExitTelemetry> producer =
            new MockProducer<>(true, null, new StringSerializer(), (topic, value) -> new byte[0]);

    @Test
    void eachRecordCarriesWhatHappenedInItsIntervalOnly() {
        exits(1, 3);
        deadLetters.put(DeadLetterCode.EMPTY_TEXT, 1L);
        ExitTelemetryPublisher publisher = new ExitTelemetryPublisher(producer, "telemetry", "app-h-0001", "spam", "1.0.0",
                new ClassifierTotals(() -> metrics, 2), () -> new EnumMap<>(deadLetters),
                () -> new ExitSettingInForce(ExitSetting.entropy(0.1), ExitSettingInForce.MODEL_CARD), clock::get);

        // Given: during the first interval 5 events leave at layer 1 (3 were there before), 2 at layer 2, one dead letter.
        exits(1, 8);
        exits(2, 2);
        deadLetters.put(DeadLetterCode.NOT_WIRE_FORMAT, 1L);
        clock.set(3_000);
        ExitTelemetry first = publisher.publishInterval();
        // And: nothing in the second.
        clock.set(5_000);
        ExitTelemetry second = publisher.publishInterval();

        assertThat(first.getExitHistogram()).containsExactly(5L, 2L);
        assertThat(first.getEvents()).isEqualTo(7);
        assertThat(first.getEventsPerSecond()).isEqualTo(3.5);
        assertThat(first.getDeadLettersByCode()).containsExactlyEntriesOf(Map.of("NOT_WIRE_FORMAT", 1L));
        assertThat(first.getIntervalStart().toEpochMilli()).isEqualTo(1_000);
        assertThat(second.getIntervalStart()).isEqualTo(first.getIntervalEnd());
        assertThat(second.getExitHistogram()).containsExactly(0L, 0L);
        assertThat(second.getDeadLetters()).isZero();

        assertThat(producer.history()).extracting(ProducerRecord::key).containsExactly("app-h-0001", "app-h-0001");
        assertThat(producer.history()).extracting(ProducerRecord::topic).containsOnly("telemetry");
        assertThat(producer.history()).extracting(ProducerRecord::value).containsExactly(first, second);
    }

    @Test
    void theInstanceIdStartsWithTheApplicationIdAndDiffersPerProcessStart() {
        String a = ExitTelemetryPublisher.instanceId("deebert-streams");
        String b = ExitTelemetryPublisher.instanceId("deebert-streams");
        assertThat(a).startsWith("deebert-streams-").isNotEqualTo(b);
    }

    private void exits(int layer, double total) {
        metrics.put(new MetricName("exit-total", ClassifierMetrics.GROUP, "",
                Map.of("thread-id", "t1", "task-id", "0_0", ClassifierMetrics.EXIT_LAYER_TAG, Integer.toString(layer))),
                ClassifierTotalsTest.metric(total));
    }
}
