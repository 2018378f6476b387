package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.deebert.streams.registry.WireFormatException;
import org.junit.jupiter.api.Test;

/** The exception handlers find the observer in the Streams configuration and report to it. */
class DeadLetterHandlersObserverTest {

    private final List<String> seen = new ArrayList<>();
    private final StreamObserver observer = new StreamObserver() {
        @Override
        public void deadLettered(DeadLetterCode code) {
            seen.add("dead-letter " + code);
        }

        @Override
        public void controlRecordUndecodable(String topic, int partition, long offset, String reason) {
            seen.add("undecodable " + topic + "-" + partition + "@" + offset + " " + reason);
        }
    };

    @Test
    void anUndecodableControlRecordIsSkippedAndReportedWithoutADeadLetter() {
        DeadLetterDeserializationExceptionHandler handler = new DeadLetterDeserializationExceptionHandler();
        handler.configure(Map.of(DeadLetterDeserializationExceptionHandler.NO_DEAD_LETTER_TOPICS_CONFIG, "control",
                StreamObserver.CONFIG, observer));
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("control", 0, 42, "model".getBytes(), new byte[] {0, 1, 2, 3, 4});

        DeserializationExceptionHandler.Response response = handler.handleError(null, record,
                new WireFormatException(WireFormatException.Reason.UNKNOWN_SCHEMA_ID, "schema id 16909060 not found", null));

        assertThat(response.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).isEmpty();
        assertThat(seen).containsExactly("undecodable control-0@42 UNKNOWN_SCHEMA_ID");
    }

    @Test
    void withoutAnObserverTheHandlersUseNone() {
        assertThat(StreamObserver.from(Map.of())).isSameAs(StreamObserver.NONE);
        assertThat(StreamObserver.from(Map.of(StreamObserver.CONFIG, "not an observer"))).isSameAs(StreamObserver.NONE);
    }
}
