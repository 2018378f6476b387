package org.deebert.streams.topology;

import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Places each output record on the partition number its input record was read from, whatever placed the
 * input there: a Java producer (murmur2 of the key), librdkafka's default ({@code consistent_random}, CRC32
 * of the key), a producer that chose the partition itself, or a null key. Without it Kafka Streams' producer
 * would place outputs by the murmur2 hash of the key, so an input written by a non-Java client would land on
 * a different partition number of the output topic.
 *
 * <p>Exactly:
 * <ol>
 *   <li>input partition {@code p} known and {@code p < numPartitions} of the output topic: partition {@code p};</li>
 *   <li>otherwise (an output topic with fewer partitions than the input, or the input partition unknown), a
 *       non-null key: {@code toPositive(murmur2(key bytes)) % numPartitions}, the Java producer's default for a
 *       keyed record, so all records of one key still share a partition;</li>
 *   <li>otherwise (null key): Kafka Streams' producer chooses, as its default partitioner does for a null key
 *       (sticky, spread over the available partitions).</li>
 * </ol>
 * Stateless and thread-safe: one instance serves every task and stream thread.
 *
 * @param <V> the wrapped output value type
 */
public final class InputPartitionPartitioner<V> implements StreamPartitioner<byte[], InputPartitioned<V>> {

    /**
     * @param topic         the output topic
     * @param key           the output key bytes (the input's, unchanged), or null
     * @param value         the output value with its input partition
     * @param numPartitions partitions of {@code topic}
     * @return the one partition to write to, or empty for the producer's default (null key, no usable input partition)
     */
    @Override
    public Optional<Set<Integer>> partitions(String topic, byte[] key, InputPartitioned<V> value, int numPartitions) {
        int input = value == null ? -1 : value.inputPartition();
        if (input >= 0 && input < numPartitions) {
            return Optional.of(Set.of(input));
        }
        if (key == null) {
            return Optional.empty();
        }
        return Optional.of(Set.of(keyHashPartition(key, numPartitions)));
    }

    /**
     * @param key           key bytes
     * @param numPartitions partitions of the topic (positive)
     * @return the partition the Java producer's default partitioner gives a record with this key:
     *     {@code toPositive(murmur2(key)) % numPartitions}
     */
    public static int keyHashPartition(byte[] key, int numPartitions) {
        return Utils.toPositive(Utils.murmur2(key)) % numPartitions;
    }
}
