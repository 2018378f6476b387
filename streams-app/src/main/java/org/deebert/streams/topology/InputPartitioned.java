package org.deebert.streams.topology;

import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A value on its way from the classify processor to the output sink, together with the partition number of
 * the input record it was computed from. Kafka Streams hands a sink's {@link org.apache.kafka.streams.processor.StreamPartitioner}
 * only the topic, key, value and partition count (not the headers, not the task), and the classify processor
 * emits batches from a punctuator, long after the input record was current; so the input partition travels
 * in the value. It never reaches the topic: {@link #serializer(Serializer)} writes the wrapped value alone, so
 * the output record's bytes and headers are exactly those of {@code value}.
 *
 * @param value          the output value
 * @param inputPartition the partition of the input record; -1 when unknown (then
 *                       {@link InputPartitionPartitioner} hashes the key)
 * @param <V>            the output value type
 */
public record InputPartitioned<V>(V value, int inputPartition) {

    /**
     * @param inner the serializer of the wrapped value (configured and closed through the returned one)
     * @param <V>   the wrapped value type
     * @return a serializer that writes {@code inner}'s bytes for the wrapped value, and null for a null wrapper
     */
    public static <V> Serializer<InputPartitioned<V>> serializer(Serializer<V> inner) {
        return new Serializer<>() {
            @Override
            public void configure(Map<String, ?> configs, boolean isKey) {
                inner.configure(configs, isKey);
            }

            @Override
            public byte[] serialize(String topic, InputPartitioned<V> data) {
                return inner.serialize(topic, data == null ? null : data.value());
            }

            @Override
            public byte[] serialize(String topic, Headers headers, InputPartitioned<V> data) {
                return inner.serialize(topic, headers, data == null ? null : data.value());
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
