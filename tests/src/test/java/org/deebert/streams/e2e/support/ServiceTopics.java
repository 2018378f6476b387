package org.deebert.streams.e2e.support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.Topics;

/**
 * Fresh topics and a fresh application id for tests that run the service as separate processes
 * ({@link ServiceProcess}), plus the test's own producer of input events and read_committed readers of
 * the output and dead-letter topics. The settings {@link #serviceSettings} returns are what such a
 * process needs on top of the defaults.
 */
public final class ServiceTopics implements AutoCloseable {

    private final EmbeddedKafkaBroker broker;
    private final SchemaRegistryServer registry;
    private final String applicationId;
    private final TopicNames names;
    private final Topics topics;
    private final Map<String, String> clientSettings;
    private final KafkaProducer<String, byte[]> producer;
    private final CommittedTopicReader output;
    private final CommittedTopicReader deadLetters;

    /**
     * Creates the input topic with {@code inputPartitions} partitions, the output topic with 2, the
     * control topic (compacted), the dead-letter and telemetry topics with 1.
     *
     * @param prefix          names the test in topic names and the application id
     * @param broker          a started broker (a secured one: topics are created by its super user)
     * @param registry        a started registry
     * @param inputPartitions partitions of the input topic = number of tasks
     * @param clientSettings  login settings of the test's own clients ({} on a PLAINTEXT broker)
     */
    public ServiceTopics(String prefix, EmbeddedKafkaBroker broker, SchemaRegistryServer registry, int inputPartitions,
            Map<String, String> clientSettings) {
        this.broker = broker;
        this.registry = registry;
        this.clientSettings = Map.copyOf(clientSettings);
        String unique = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        // The application id is not a prefix of the topic names: prefixed ACLs on it (internal topics)
        // must not cover the input, output or control topic.
        applicationId = unique + "-app";
        names = new TopicNames(unique + "-in", unique + "-out", unique + "-control", unique + "-dlq",
                unique + "-telemetry", TopicNames.shadowSamplesTopic(applicationId));
        topics = Topics.create(names, new ConfluentSchemaRegistryClient(registry.url()));
        broker.createTopic(names.input(), inputPartitions, false);
        broker.createTopic(names.output(), 2, false);
        broker.createTopic(names.control(), 1, true);
        broker.createTopic(names.deadLetter(), 1, false);
        broker.createTopic(names.telemetry(), 1, false);

        Properties p = new Properties();
        p.putAll(clientSettings);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        output = new CommittedTopicReader(broker.bootstrapServers(), names.output(), clientSettings);
        deadLetters = new CommittedTopicReader(broker.bootstrapServers(), names.deadLetter(), clientSettings);
    }

    /** @return the application id (consumer group; prefix of internal topics and transactional ids) */
    public String applicationId() {
        return applicationId;
    }

    /** @return the topic names */
    public TopicNames names() {
        return names;
    }

    /** @return the telemetry topic's name */
    public String telemetryTopic() {
        return names.telemetry();
    }

    /**
     * @param stateDir this instance's Kafka Streams state directory (instances on one host need their own)
     * @param modelDir the exported model
     * @return settings for one service instance on these topics: no topic creation, HTTP on a free port
     */
    public Map<String, String> serviceSettings(Path stateDir, Path modelDir) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("application.id", applicationId);
        s.put("bootstrap.servers", broker.bootstrapServers());
        s.put("schema.registry.url", registry.url());
        s.put("topic.input", names.input());
        s.put("topic.output", names.output());
        s.put("topic.control", names.control());
        s.put("topic.dead.letter", names.deadLetter());
        s.put("topic.telemetry", names.telemetry());
        s.put("topics.create", "false");
        s.put("model.dir", modelDir.toString());
        s.put("device", "cpu");
        s.put("http.host", "127.0.0.1");
        s.put("http.port", "0");
        s.put("kafka.state.dir", stateDir.toString());
        return s;
    }

    /**
     * Produces events keyed by their id and waits for the broker's acknowledgements.
     *
     * @param events the events
     */
    public void produce(List<TextEvent> events) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (TextEvent e : events) {
            byte[] value = topics.input().valueSerde().serializer().serialize(names.input(), e);
            sent.add(producer.send(new ProducerRecord<>(names.input(), e.getId(), value)));
        }
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("produce failed", e);
            }
        }
    }

    /**
     * Produces a value exactly as given (no serializer) and waits for the broker's acknowledgement.
     *
     * @param key   the record key
     * @param value the value bytes
     */
    public void produceRaw(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(names.input(), key, value)).get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("produce failed", e);
        }
    }

    /** @return the registry id of the {@code TextEvent} schema under the input topic's subject (registers it if needed) */
    public int inputSchemaId() {
        TextEvent probe = TextEvent.newBuilder().setId("probe").setText("probe")
                .setEventTime(java.time.Instant.ofEpochMilli(0)).build();
        return ConfluentWireFormat.parse(topics.input().valueSerde().serializer().serialize(names.input(), probe))
                .schemaId();
    }

    /** @return the reader of the output topic (read_committed) */
    public CommittedTopicReader output() {
        return output;
    }

    /** @return the reader of the dead-letter topic (read_committed) */
    public CommittedTopicReader deadLetters() {
        return deadLetters;
    }

    /** @return the value of an output record */
    public ClassifiedEvent decode(byte[] value) {
        return topics.output().valueSerde().deserializer().deserialize(names.output(), value);
    }

    /** @return the login settings of the test's own clients */
    public Map<String, String> clientSettings() {
        return clientSettings;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        output.close();
        deadLetters.close();
    }
}
