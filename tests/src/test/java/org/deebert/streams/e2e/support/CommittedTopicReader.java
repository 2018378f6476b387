package org.deebert.streams.e2e.support;

import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one topic from its beginning with {@code isolation.level=read_committed}, so only records of
 * committed transactions count, and keeps every record it has seen, grouped by UTF-8 key. Waits are
 * bounded: a wait that runs out fails the test naming the keys still missing.
 */
public final class CommittedTopicReader implements AutoCloseable {

    /** After the expected keys arrived, keep reading this long to catch duplicates. */
    private static final Duration SETTLE = Duration.ofSeconds(1);

    private final String topic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, List<ConsumerRecord<byte[], byte[]>>> byKey = new LinkedHashMap<>();
    private final Map<String, Long> firstSeenNanos = new HashMap<>();

    /**
     * @param bootstrapServers the broker
     * @param topic            an existing topic
     */
    public CommittedTopicReader(String bootstrapServers, String topic) {
        this(bootstrapServers, topic, Map.of());
    }

    /**
     * @param bootstrapServers the broker
     * @param topic            an existing topic
     * @param clientSettings   extra consumer settings, e.g. SASL_SSL login settings for a secured broker
     */
    public CommittedTopicReader(String bootstrapServers, String topic, Map<String, String> clientSettings) {
        this.topic = topic;
        Properties p = new Properties();
        p.putAll(clientSettings);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /**
     * Reads until every key in {@code keys} has at least one record, then a little longer.
     *
     * @param keys    the keys expected
     * @param timeout how long to wait at most
     * @return every record seen so far, by key (including keys not asked for)
     */
    public Map<String, List<ConsumerRecord<byte[], byte[]>>> awaitKeys(Set<String> keys, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!byKey.keySet().containsAll(keys) && System.nanoTime() < deadline) {
            pollOnce(Duration.ofMillis(200));
        }
        if (!byKey.keySet().containsAll(keys)) {
            Set<String> missing = new TreeSet<>(keys);
            missing.removeAll(byKey.keySet());
            fail("after " + timeout.toSeconds() + " s, " + missing.size() + " of " + keys.size() + " expected keys have no"
                    + " committed record on " + topic + ": " + missing);
        }
        long settleEnd = System.nanoTime() + SETTLE.toNanos();
        while (System.nanoTime() < settleEnd) {
            pollOnce(Duration.ofMillis(100));
        }
        return byKey;
    }

    /** @return every record seen so far, by key, after reading for {@link #SETTLE} more */
    public Map<String, List<ConsumerRecord<byte[], byte[]>>> readAvailable() {
        return awaitKeys(Set.of(), Duration.ZERO);
    }

    /**
     * Reads until a record with one of {@code keys} arrives (it may have arrived before this call).
     *
     * @param keys    the keys to look for
     * @param timeout how long to wait at most
     * @return System.nanoTime() when this reader first saw such a record
     */
    public long awaitAnyKey(Set<String> keys, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long seen = firstSeen(keys);
            if (seen != null) {
                return seen;
            }
            pollOnce(Duration.ofMillis(100));
        }
        Long seen = firstSeen(keys);
        if (seen == null) {
            fail("after " + timeout.toSeconds() + " s, none of " + keys.size() + " expected keys has a committed record on "
                    + topic);
        }
        return seen;
    }

    private Long firstSeen(Set<String> keys) {
        Long first = null;
        for (String key : keys) {
            Long t = firstSeenNanos.get(key);
            if (t != null && (first == null || t < first)) {
                first = t;
            }
        }
        return first;
    }

    private void pollOnce(Duration poll) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(poll)) {
            String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
            firstSeenNanos.putIfAbsent(key, System.nanoTime());
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
