package org.deebert.streams.e2e.support;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.ClassifierTopology;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.Topics;

/**
 * The service running in this JVM against the shared broker and registry, assembled by
 * {@link StreamsService} from the default settings as {@code run} assembles it (exactly_once_v2), on
 * fresh topics and a fresh application id, plus the producers and readers a test needs.
 */
public final class RunningClassifier implements AutoCloseable {

    /** Longest wait for the application to reach RUNNING or for the global store to change. */
    public static final Duration STATE_TIMEOUT = Duration.ofSeconds(120);
    /** Telemetry interval of the service under test: short, so a test sees several intervals. */
    public static final Duration TELEMETRY_INTERVAL = Duration.ofSeconds(1);

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();
    private final SchemaRegistryServer registry = SharedInfrastructure.registry();
    private final TopicNames names;
    private final Topics topics;
    private final String modelName;
    private final AppSettings settings;
    private final StreamsService service;
    private final KafkaStreams streams;
    private final KafkaProducer<String, byte[]> producer;
    private final CommittedTopicReader output;
    private final CommittedTopicReader deadLetters;

    private RunningClassifier(String prefix, ClassifierPool pool, Path stateDir, Map<String, String> extraSettings) {
        String unique = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        names = new TopicNames(unique + "-in", unique + "-out", unique + "-control", unique + "-dlq",
                unique + "-telemetry", TopicNames.shadowSamplesTopic(unique));
        topics = Topics.create(names, new ConfluentSchemaRegistryClient(registry.url()));
        modelName = pool.modelName();
        // Two input partitions: two tasks on one stream thread share one classifier.
        broker.createTopic(names.input(), 2, false);
        broker.createTopic(names.output(), 2, false);
        broker.createTopic(names.control(), 1, true);
        broker.createTopic(names.deadLetter(), 1, false);
        broker.createTopic(names.telemetry(), 1, false);

        Path state;
        try {
            state = Files.createDirectories(stateDir.resolve(unique));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> all = new java.util.HashMap<>(Map.ofEntries(
                Map.entry("application.id", unique),
                Map.entry("bootstrap.servers", broker.bootstrapServers()),
                Map.entry("schema.registry.url", registry.url()),
                Map.entry("topic.input", names.input()),
                Map.entry("topic.output", names.output()),
                Map.entry("topic.control", names.control()),
                Map.entry("topic.dead.letter", names.deadLetter()),
                Map.entry("topic.telemetry", names.telemetry()),
                Map.entry("telemetry.interval.ms", Long.toString(TELEMETRY_INTERVAL.toMillis())),
                Map.entry("http.host", "127.0.0.1"),
                Map.entry("http.port", "0"),
                Map.entry("kafka.state.dir", state.toString())));
        all.putAll(extraSettings);
        settings = AppSettings.withDefaults(all);
        try {
            service = StreamsService.create(settings, false, pool);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        streams = service.streams();

        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
        output = new CommittedTopicReader(broker.bootstrapServers(), names.output());
        deadLetters = new CommittedTopicReader(broker.bootstrapServers(), names.deadLetter());
    }

    /**
     * Creates the topics and starts the application; returns once it is RUNNING.
     *
     * @param prefix   names the test in topic names and the application id
     * @param pool     the loaded model (shared between tests of a class; one stream thread uses it at a time)
     * @param stateDir a temporary directory for Kafka Streams state
     * @return the running application
     */
    public static RunningClassifier start(String prefix, ClassifierPool pool, Path stateDir) {
        return start(prefix, pool, stateDir, Map.of());
    }

    /**
     * As {@link #start(String, ClassifierPool, Path)}, with settings of its own on top of the test's (e.g.
     * {@code input.format}). The test's {@link #topics()} stay those of TextEvent input: producing events with
     * {@link #produce} needs the default format, {@link #produceRaw} works with any.
     *
     * @param extraSettings settings by key, applied last
     * @return the running application
     */
    public static RunningClassifier start(String prefix, ClassifierPool pool, Path stateDir,
                                          Map<String, String> extraSettings) {
        RunningClassifier app = new RunningClassifier(prefix, pool, stateDir, extraSettings);
        app.service.start();
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        while (app.streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            if (app.streams.state() == KafkaStreams.State.ERROR) {
                break;
            }
            pause(50);
        }
        if (app.streams.state() != KafkaStreams.State.RUNNING) {
            KafkaStreams.State state = app.streams.state();
            app.close();
            fail("Kafka Streams did not reach RUNNING within " + STATE_TIMEOUT.toSeconds() + " s; state " + state);
        }
        return app;
    }

    /** @return the topic names */
    public TopicNames names() {
        return names;
    }

    /** @return the topics with their serdes */
    public Topics topics() {
        return topics;
    }

    /** @return the settings the service was assembled from */
    public AppSettings settings() {
        return settings;
    }

    /** @return the service */
    public StreamsService service() {
        return service;
    }

    /** @return the Kafka Streams instance */
    public KafkaStreams streams() {
        return streams;
    }

    /** @return the exit-telemetry topic of this application */
    public String telemetryTopic() {
        return names.telemetry();
    }

    /** @return the base URL of the service's HTTP endpoint, e.g. {@code http://127.0.0.1:41234} */
    public String httpBase() {
        return "http://127.0.0.1:" + service.httpPort();
    }

    /** @return the bootstrap servers of the shared broker */
    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** @return the Confluent-compatible URL of the shared registry */
    public String registryUrl() {
        return registry.url();
    }

    /** @return the reader of the output topic (read_committed) */
    public CommittedTopicReader output() {
        return output;
    }

    /** @return the reader of the dead-letter topic (read_committed) */
    public CommittedTopicReader deadLetters() {
        return deadLetters;
    }

    /**
     * @param id   the event id, also the record key
     * @param text the text
     * @return a TextEvent as an upstream producer would write it
     */
    public static TextEvent event(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setEventTime(Instant.now()).setSource("e2e-test").build();
    }

    /**
     * @param prefix prepended to each email's id (keeps runs of one test apart)
     * @param emails real held-out emails
     * @return one TextEvent per email ({@link #event}), keyed and identified by prefix + email id, in order
     */
    public static Map<String, TextEvent> events(String prefix, List<ReferenceEmails.Email> emails) {
        Map<String, TextEvent> events = new java.util.LinkedHashMap<>();
        for (ReferenceEmails.Email e : emails) {
            events.put(prefix + e.id(), event(prefix + e.id(), e.text()));
        }
        return events;
    }

    /** @return the event in the Confluent wire format, its schema registered under {@code <input>-value} */
    public byte[] serialize(TextEvent event) {
        return topics.input().valueSerde().serializer().serialize(names.input(), event);
    }

    /**
     * Produces events keyed by id and waits for the broker's acknowledgements.
     *
     * @param events the events
     */
    public void produce(Iterable<TextEvent> events) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (TextEvent e : events) {
            sent.add(producer.send(new ProducerRecord<>(names.input(), e.getId(), serialize(e))));
        }
        for (Future<RecordMetadata> f : sent) {
            get(f);
        }
    }

    /**
     * Produces one input record with the given raw value bytes.
     *
     * @return where it was written
     */
    public RecordMetadata produceRaw(String key, byte[] value) {
        return get(producer.send(new ProducerRecord<>(names.input(), key, value)));
    }

    /**
     * Produces input records with the given raw values and headers, and waits for the broker's acknowledgements.
     *
     * @param records the records, in order (key null for a record without key)
     * @return where each was written, in the same order
     */
    public List<RecordMetadata> produceAllRaw(List<ProducerRecord<String, byte[]>> records) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ProducerRecord<String, byte[]> r : records) {
            sent.add(producer.send(new ProducerRecord<>(names.input(), r.partition(), r.key(), r.value(), r.headers())));
        }
        List<RecordMetadata> written = new ArrayList<>();
        for (Future<RecordMetadata> f : sent) {
            written.add(get(f));
        }
        return written;
    }

    /**
     * Writes a control record straight to the control topic (bypassing the CLI's validation).
     *
     * @param key   the record key
     * @param value the message, or null for a tombstone
     */
    public void produceControl(String key, ThresholdControl value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, ThresholdControl> control = new KafkaProducer<>(p,
                topics.control().keySerde().serializer(), topics.control().valueSerde().serializer())) {
            get(control.send(new ProducerRecord<>(names.control(), key, value)));
        }
    }

    /**
     * Writes raw bytes straight to the control topic (e.g. a frame whose schema id the registry never issued).
     *
     * @param key   the record key
     * @param value the value bytes
     */
    public void produceControlRaw(String key, byte[] value) {
        get(producer.send(new ProducerRecord<>(names.control(), key, value)));
    }

    /** @return the output value of a record from {@link #output()} */
    public ClassifiedEvent decode(byte[] value) {
        return topics.output().valueSerde().deserializer().deserialize(names.output(), value);
    }

    /**
     * Writes a settings file for the CLI that points at this application's broker, registry, topics and model.
     *
     * @param dir      where to write it
     * @param modelDir the model directory
     * @return the file
     */
    public Path writeCliConfig(Path dir, Path modelDir) {
        Properties p = new Properties();
        p.setProperty("application.id", names.input() + "-cli");
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", registry.url());
        p.setProperty("topic.input", names.input());
        p.setProperty("topic.output", names.output());
        p.setProperty("topic.control", names.control());
        p.setProperty("topic.dead.letter", names.deadLetter());
        p.setProperty("model.dir", modelDir.toString());
        Path file = dir.resolve(names.input() + "-cli.properties");
        try (var out = Files.newBufferedWriter(file)) {
            p.store(out, "e2e test settings");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * Waits until the global threshold store holds, for this model, a setting {@code condition} accepts
     * (null when no control message is in force), as the classify processor reads it.
     *
     * @return the setting found
     */
    public ExitSetting awaitStoredSetting(Predicate<ExitSetting> condition, String description) {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        ExitSetting current = null;
        while (System.nanoTime() < deadline) {
            try {
                current = storedSetting();
                if (condition.test(current)) {
                    return current;
                }
            } catch (InvalidStateStoreException e) {
                // Not queryable at this moment (e.g. during a rebalance): ask again.
            }
            pause(50);
        }
        return fail("threshold store did not reach '" + description + "' within " + STATE_TIMEOUT.toSeconds()
                + " s; it holds " + current);
    }

    /** @return the setting the global threshold store holds for this model now, or null */
    public ExitSetting storedSetting() {
        ExitSettingInForce stored = thresholdStore().get(modelName);
        return stored == null ? null : stored.setting();
    }

    /**
     * Waits until the global thread's consumer has read at least {@code records} records of the control
     * topic (it processes each record right after reading it, on the same thread).
     */
    public void awaitControlRecordsRead(long records) {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        double read = 0;
        while (System.nanoTime() < deadline) {
            read = globalConsumerRecordsConsumed();
            if (read >= records) {
                return;
            }
            pause(50);
        }
        fail("the global thread read " + read + " of " + records + " control records within " + STATE_TIMEOUT.toSeconds() + " s");
    }

    private double globalConsumerRecordsConsumed() {
        for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
            MetricName name = e.getKey();
            String client = name.tags().getOrDefault("client-id", "");
            if (name.name().equals("records-consumed-total") && name.group().equals("consumer-fetch-manager-metrics")
                    && client.endsWith("global-consumer") && names.control().equals(name.tags().get("topic"))) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return 0;
    }

    private ReadOnlyKeyValueStore<String, ExitSettingInForce> thresholdStore() {
        return streams.store(StoreQueryParameters.fromNameAndType(ClassifierTopology.THRESHOLD_STORE,
                QueryableStoreTypes.<String, ExitSettingInForce>keyValueStore()));
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("produce failed", e);
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops the application (its classifier goes back to the pool) and closes the clients. */
    @Override
    public void close() {
        service.close();
        producer.close(Duration.ofSeconds(5));
        output.close();
        deadLetters.close();
    }
}
