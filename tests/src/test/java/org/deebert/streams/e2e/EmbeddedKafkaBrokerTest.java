package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The in-process KRaft broker serves plain and transactional (exactly_once_v2-style) clients, and keeps its
 * topics and records across {@link EmbeddedKafkaBroker#restart(Duration)}.
 */
@Timeout(120)
class EmbeddedKafkaBrokerTest {

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();

    @Test
    void shouldDeliverAProducedRecordToAConsumer() throws Exception {
        String topic = "broker-plain-" + UUID.randomUUID();
        broker.createTopic(topic, 1, false);

        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            producer.send(new ProducerRecord<>(topic, "k1", "v1")).get();
        }

        assertThat(consumeUntil(topic, "read_uncommitted", 1))
                .extracting(ConsumerRecord::key, ConsumerRecord::value)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("k1", "v1"));
    }

    @Test
    void shouldExposeOnlyCommittedTransactionsToReadCommittedConsumers() throws Exception {
        // Transactions need the transaction-state topic, which a one-node broker can only create with
        // replication factor 1: this is what exactly_once_v2 in Kafka Streams depends on.
        String topic = "broker-tx-" + UUID.randomUUID();
        broker.createTopic(topic, 1, false);

        try (KafkaProducer<String, String> producer = producer(Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID()))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "aborted", "a")).get();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "committed", "c")).get();
            producer.commitTransaction();
        }

        // Read until the committed record arrives; the aborted one, written earlier, must never show up.
        assertThat(consumeUntil(topic, "read_committed", 1))
                .extracting(ConsumerRecord::key)
                .containsExactly("committed");
    }

    @Test
    void shouldCreateCompactedTopicsOnRequest() throws Exception {
        String topic = "broker-compacted-" + UUID.randomUUID();

        broker.createTopic(topic, 1, true);

        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = broker.admin().describeConfigs(List.of(resource)).all().get().get(resource);
        assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
    }

    @Test
    void aTopicAndItsCommittedRecordsSurviveARestartOnTheSamePort() throws Exception {
        // Its own broker: restarting the shared one would cut off the other tests in this JVM.
        try (EmbeddedKafkaBroker own = new EmbeddedKafkaBroker().start()) {
            String topic = "broker-restart-" + UUID.randomUUID();
            own.createTopic(topic, 2, false);
            Uuid topicId = own.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
            String bootstrap = own.bootstrapServers();
            try (KafkaProducer<String, String> producer = producer(own, Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID()))) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, "before", "b")).get();
                producer.commitTransaction();
            }

            own.restart(Duration.ofSeconds(1));

            // Same address, same topic (same id: the metadata log was kept, not re-created), same records,
            // and the restarted broker takes new transactional writes.
            assertThat(own.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(own.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId())
                    .isEqualTo(topicId);
            try (KafkaProducer<String, String> producer = producer(own, Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID()))) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, "after", "a")).get();
                producer.commitTransaction();
            }
            assertThat(consumeUntil(own, topic, "read_committed", 2)).extracting(ConsumerRecord::key)
                    .containsExactlyInAnyOrder("before", "after");
        }
    }

    private KafkaProducer<String, String> producer(Map<String, Object> extra) {
        return producer(broker, extra);
    }

    private List<ConsumerRecord<String, String>> consumeUntil(String topic, String isolation, int count) {
        return consumeUntil(broker, topic, isolation, count);
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafkaBroker broker, Map<String, Object> extra) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
        config.putAll(extra);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    /** Polls from the beginning until {@code count} records arrived or 30 s passed; returns what arrived. */
    private static List<ConsumerRecord<String, String>> consumeUntil(EmbeddedKafkaBroker broker, String topic,
            String isolation, int count) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "g-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
