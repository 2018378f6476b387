package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology on a real KRaft broker with exactly_once_v2 (fake classifier, in-memory registry): the
 * paths TopologyTestDriver cannot show, i.e. dead-letter records of deserialization failures inside the
 * transaction, the control topic read by the global thread, and the batch buffer's changelog.
 */
class ClassifierTopologyBrokerTest {

    @TempDir
    Path stateDir;

    @Test
    void underExactlyOnceGoodRecordsAreClassifiedAndBadOnesDeadLetteredWithTheirCodes() throws Exception {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        TopicNames names = new TopicNames("in-" + System.nanoTime(), "out", "control", "dlq");
        Topics topics = Topics.create(names, registry);
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker().start();
             ClassifierPool pool = new ClassifierPool(FakeClassifier::new)) {
            broker.createTopic(names.input(), 2, false);
            broker.createTopic(names.output(), 2, false);
            broker.createTopic(names.control(), 1, true);
            broker.createTopic(names.deadLetter(), 1, false);

            // Given: a threshold already on the control topic before the service starts (restored via the processor).
            Properties producerProps = new Properties();
            producerProps.put("bootstrap.servers", broker.bootstrapServers());
            try (KafkaProducer<String, ThresholdControl> control = new KafkaProducer<>(producerProps, new StringSerializer(),
                    topics.control().valueSerde().serializer())) {
                control.send(new ProducerRecord<>(names.control(), FakeClassifier.MODEL, ThresholdControl.newBuilder()
                        .setThreshold(0.5).setPolicy(ExitPolicyName.ENTROPY).setModelName(FakeClassifier.MODEL)
                        .setChangedBy("test").setReason("test").setChangedAt(Instant.now()).build())).get();
            }

            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "broker-test-" + System.nanoTime());
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createDirectories(stateDir.resolve("state")).toString());
            props.put(StreamsConfig.POLL_MS_CONFIG, "5");
            props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
            props.putAll(ClassifierTopology.streamsConfig(topics));
            try (KafkaStreams streams = new KafkaStreams(ClassifierTopology.build(TopologySettings.DEFAULTS, topics, pool), props)) {
                streams.start();

                // When: good and bad records arrive.
                try (KafkaProducer<String, byte[]> in = new KafkaProducer<>(producerProps, new StringSerializer(),
                        new ByteArraySerializer())) {
                    for (int i = 0; i < 10; i++) {
                        in.send(new ProducerRecord<>(names.input(), "good-" + i, serialize(topics, event("g" + i, "hello " + i))));
                    }
                    in.send(new ProducerRecord<>(names.input(), "garbage", "not avro".getBytes(StandardCharsets.UTF_8)));
                    in.send(new ProducerRecord<>(names.input(), "empty", serialize(topics, event("e", " "))));
                    in.flush();
                }

                // Then: 10 results with the control topic's S, 2 dead letters with codes.
                List<ConsumerRecord<byte[], byte[]>> out = readCommitted(broker, names.output(), 10);
                List<ConsumerRecord<byte[], byte[]>> dead = readCommitted(broker, names.deadLetter(), 2);
                assertThat(out).hasSize(10);
                for (ConsumerRecord<byte[], byte[]> r : out) {
                    ClassifiedEvent e = topics.output().valueSerde().deserializer().deserialize(names.output(), r.value());
                    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("good-" + e.getId().substring(1));
                    assertThat(e.getThreshold()).isEqualTo(0.5);
                    assertThat(e.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                }
                Map<String, String> codes = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : dead) {
                    Header code = r.headers().lastHeader(DeadLetterCode.HEADER);
                    codes.put(new String(r.key(), StandardCharsets.UTF_8), new String(code.value(), StandardCharsets.UTF_8));
                    assertThat(r.headers().lastHeader(DeadLetterHeaders.OFFSET)).isNotNull();
                }
                assertThat(codes).containsEntry("garbage", "NOT_WIRE_FORMAT").containsEntry("empty", "EMPTY_TEXT").hasSize(2);
                ExitMetrics.Snapshot metrics = ExitMetrics.read(streams.metrics(), 4);
                assertThat(metrics.classifiedTotal()).isEqualTo(10);
                assertThat(metrics.exitHistogram()).containsExactly(10, 0, 0, 0);
            }
        }
    }

    private static TextEvent event(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setEventTime(Instant.now()).build();
    }

    private static byte[] serialize(Topics topics, TextEvent e) {
        return topics.input().valueSerde().serializer().serialize(topics.input().name(), e);
    }

    /** Reads committed records until {@code expected} arrived or 60 s passed, then 1 s more to catch extras. */
    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(EmbeddedKafkaBroker broker, String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            while (records.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            consumer.poll(Duration.ofSeconds(1)).forEach(records::add);
        }
        return records;
    }
}
