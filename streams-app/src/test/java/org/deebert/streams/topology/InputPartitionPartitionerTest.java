package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class InputPartitionPartitionerTest {

    private static final String TOPIC = "out";
    private final InputPartitionPartitioner<String> partitioner = new InputPartitionPartitioner<>();

    /** @return a key whose murmur2 partition over {@code numPartitions} is not {@code avoid} */
    private static byte[] keyNotHashedTo(int avoid, int numPartitions) {
        return IntStream.range(0, 100).mapToObj(i -> ("key-" + i).getBytes(StandardCharsets.UTF_8))
                .filter(k -> BuiltInPartitioner.partitionForKey(k, numPartitions) != avoid)
                .findFirst().orElseThrow();
    }

    @Test
    void anOutputTopicWithEnoughPartitionsGetsTheInputPartitionNumberWhateverTheKeyHashSays() {
        byte[] key = keyNotHashedTo(2, 4);

        assertThat(partitioner.partitions(TOPIC, key, new InputPartitioned<>("v", 2), 4)).contains(Set.of(2));
        assertThat(partitioner.partitions(TOPIC, key, new InputPartitioned<>("v", 2), 3)).contains(Set.of(2));
        assertThat(partitioner.partitions(TOPIC, null, new InputPartitioned<>("v", 0), 1)).contains(Set.of(0));
    }

    @Test
    void fewerOutputPartitionsOrAnUnknownInputPartitionFallBackToTheJavaProducersKeyHash() {
        for (int numPartitions = 1; numPartitions <= 5; numPartitions++) {
            for (int i = 0; i < 50; i++) {
                byte[] key = ("event-" + i).getBytes(StandardCharsets.UTF_8);
                // The Java producer's own default for a keyed record is the reference.
                Set<Integer> expected = Set.of(BuiltInPartitioner.partitionForKey(key, numPartitions));
                assertThat(partitioner.partitions(TOPIC, key, new InputPartitioned<>("v", 7), numPartitions))
                        .contains(expected);
                assertThat(partitioner.partitions(TOPIC, key, new InputPartitioned<>("v", -1), numPartitions))
                        .contains(expected);
            }
        }
    }

    @Test
    void aNullKeyThatCannotKeepItsPartitionIsLeftToTheProducer() {
        assertThat(partitioner.partitions(TOPIC, null, new InputPartitioned<>("v", 3), 2)).isEqualTo(Optional.empty());
        assertThat(partitioner.partitions(TOPIC, null, new InputPartitioned<>("v", -1), 2)).isEqualTo(Optional.empty());
    }

    @Test
    void theSerializerWritesTheWrappedValueAloneAndNullForNull() {
        Serializer<InputPartitioned<String>> serializer = InputPartitioned.serializer(new StringSerializer());

        assertThat(serializer.serialize(TOPIC, new RecordHeaders(), new InputPartitioned<>("classified", 1)))
                .isEqualTo("classified".getBytes(StandardCharsets.UTF_8));
        assertThat(serializer.serialize(TOPIC, new InputPartitioned<>("classified", 1)))
                .isEqualTo("classified".getBytes(StandardCharsets.UTF_8));
        assertThat(serializer.serialize(TOPIC, null)).isNull();
    }
}
