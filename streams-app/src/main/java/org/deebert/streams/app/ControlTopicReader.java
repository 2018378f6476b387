package org.deebert.streams.app;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.Topics;

/**
 * Reads the control topic from its start to its current end (committed records only) and returns a model's
 * latest message: what the service's global store holds now, for the CLI ({@code control clear-budget}). No
 * consumer group is joined and no offset is committed.
 */
final class ControlTopicReader {

    /** Longest wait for the broker while reading, per poll and for the end offsets. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private ControlTopicReader() {
    }

    /**
     * @param settings the service's settings (bootstrap servers, registry, control topic)
     * @param model    the model name (the record key)
     * @return the latest message for {@code model}, or null when there is none or the latest is a tombstone;
     *     records that do not decode are skipped, as the service skips them
     * @throws IllegalStateException if the control topic does not exist or cannot be read to its end in time
     */
    static ThresholdControl latest(AppSettings settings, String model) {
        Topics topics = Topics.create(settings.topics(), settings.schemaRegistryClient(), settings.serializerSettings());
        Properties props = settings.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        String topic = topics.control().name();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<PartitionInfo> info = consumer.partitionsFor(topic, TIMEOUT);
            if (info == null || info.isEmpty()) {
                throw new IllegalStateException("control topic " + topic + " does not exist");
            }
            List<TopicPartition> partitions = info.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            var keys = topics.control().keySerde().deserializer();
            var values = topics.control().valueSerde().deserializer();
            ThresholdControl latest = null;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read control topic " + topic + " to its end within " + TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (!model.equals(keys.deserialize(topic, r.key()))) {
                        continue;
                    }
                    try {
                        latest = r.value() == null ? null : values.deserialize(topic, r.value());
                    } catch (RuntimeException e) {
                        // Skipped, as the service's global store skips it: the message before stays in force.
                    }
                }
            }
            return latest;
        }
    }
}
