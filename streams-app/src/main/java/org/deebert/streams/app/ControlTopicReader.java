package org.deebert.streams.app;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.deebert.streams.control.ControlHistory;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.Topics;

/**
 * Reads the control topic from its start to the end offsets captured when the read begins (committed records
 * only), for the CLI ({@code control clear-budget}, {@code control status}, {@code control history}): each
 * model's latest message, what the service's global store holds now, or every record still on the topic. Also reads the tail of the telemetry topic for the budget controller's last
 * window. No consumer group is joined and no offset is committed; every read is bounded by {@link #TIMEOUT}.
 */
final class ControlTopicReader {

    /** The model name shown for a record without a key (which the service ignores). */
    static final String NO_KEY = "(no key)";

    /** Longest wait for the broker while reading, per poll and for the end offsets, and for a whole read. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /**
     * Telemetry records read back per partition: the controller's instance writes one per telemetry interval, so
     * the last few hundred hold its latest window unless it stopped long ago.
     */
    static final int TELEMETRY_TAIL = 500;

    /**
     * The latest control record of one model.
     *
     * @param value       the message, or null for a tombstone
     * @param timestampMs the record's Kafka timestamp, ms since the epoch
     */
    record Latest(ThresholdControl value, long timestampMs) {
    }

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
        Latest latest = all(settings).get(model);
        return latest == null ? null : latest.value();
    }

    /**
     * @param settings the service's settings (bootstrap servers, registry, control topic)
     * @return each key's latest record, in the order the keys first appear; records whose value does not decode
     *     are skipped, as the service skips them (the record before stays in force)
     * @throws IllegalStateException if the control topic does not exist or cannot be read to its end in time
     */
    static Map<String, Latest> all(AppSettings settings) {
        Topics topics = topics(settings);
        String topic = topics.control().name();
        var keys = topics.control().keySerde().deserializer();
        var values = topics.control().valueSerde().deserializer();
        Map<String, Latest> latest = new LinkedHashMap<>();
        boolean exists = read(settings, topic, Long.MAX_VALUE, r -> {
            String key = keys.deserialize(topic, r.key());
            try {
                latest.put(key, new Latest(r.value() == null ? null : values.deserialize(topic, r.value()), r.timestamp()));
            } catch (RuntimeException e) {
                // Skipped, as the service's global store skips it: the message before stays in force.
            }
        });
        if (!exists) {
            throw new IllegalStateException("control topic " + topic + " does not exist");
        }
        return latest;
    }

    /**
     * Every record still on the control topic, for {@code control history}: what compaction has not removed yet
     * (see {@link ControlHistory} for how far back that goes).
     *
     * @param settings the service's settings (bootstrap servers, registry, control topic)
     * @return the records in the order read (by offset within each partition); a value that does not decode is an
     *     {@link ControlHistory.Kind#UNDECODABLE} entry, its bytes dropped
     * @throws IllegalStateException if the control topic does not exist or cannot be read to its end in time
     */
    static List<ControlHistory.Entry> history(AppSettings settings) {
        Topics topics = topics(settings);
        String topic = topics.control().name();
        var keys = topics.control().keySerde().deserializer();
        var values = topics.control().valueSerde().deserializer();
        List<ControlHistory.Entry> records = new ArrayList<>();
        boolean exists = read(settings, topic, Long.MAX_VALUE, r -> {
            String key = r.key() == null ? NO_KEY : keys.deserialize(topic, r.key());
            ControlHistory.Entry entry;
            try {
                entry = ControlHistory.Entry.of(key, r.partition(), r.offset(), r.timestamp(),
                        r.value() == null ? null : values.deserialize(topic, r.value()));
            } catch (RuntimeException e) {
                // Listed, not skipped: an operator looking at the history should see that something was written.
                entry = ControlHistory.Entry.undecodable(key, r.partition(), r.offset(), r.timestamp());
            }
            records.add(entry);
        });
        if (!exists) {
            throw new IllegalStateException("control topic " + topic + " does not exist");
        }
        return records;
    }

    /**
     * @param settings the service's settings (bootstrap servers, registry, telemetry topic)
     * @return per model, the telemetry record with the latest {@code interval_end} among those that carry the
     *     budget controller's window, read from the last {@link #TELEMETRY_TAIL} records of each partition;
     *     empty when the telemetry topic does not exist; records that do not decode are skipped
     * @throws IllegalStateException if the topic cannot be read to its end in time
     */
    static Map<String, ExitTelemetry> latestControllerWindows(AppSettings settings) {
        Topics topics = topics(settings);
        String topic = topics.telemetry().name();
        var values = topics.telemetry().valueSerde().deserializer();
        Map<String, ExitTelemetry> latest = new LinkedHashMap<>();
        read(settings, topic, TELEMETRY_TAIL, r -> {
            ExitTelemetry t;
            try {
                t = r.value() == null ? null : values.deserialize(topic, r.value());
            } catch (RuntimeException e) {
                return;
            }
            if (t != null && t.getController() != null) {
                latest.merge(t.getModelName(), t,
                        (a, b) -> b.getIntervalEnd().isBefore(a.getIntervalEnd()) ? a : b);
            }
        });
        return latest;
    }

    private static Topics topics(AppSettings settings) {
        return Topics.create(settings.topics(), settings.schemaRegistryClient(), settings.serializerSettings());
    }

    /**
     * Reads {@code topic} up to the end offsets captured first, starting {@code tail} records before them
     * (or at the beginning).
     *
     * @return false when the topic does not exist (nothing read)
     * @throws IllegalStateException if the end offsets are not reached within {@link #TIMEOUT}
     */
    private static boolean read(AppSettings settings, String topic, long tail,
                                Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties props = settings.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // A status read must never create a topic that the service or its operator did not.
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<PartitionInfo> info = consumer.partitionsFor(topic, TIMEOUT);
            if (info == null || info.isEmpty()) {
                return false;
            }
            List<TopicPartition> partitions = info.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            for (TopicPartition p : partitions) {
                long from = end.get(p) - begin.get(p) > tail ? end.get(p) - tail : begin.get(p);
                consumer.seek(p, from);
            }
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    // Records past the captured end (written meanwhile) are left for the next status.
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        each.accept(r);
                    }
                }
            }
            return true;
        }
    }
}
