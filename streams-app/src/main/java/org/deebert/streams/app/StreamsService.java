package org.deebert.streams.app;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.ClassifierTopology;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service wired from its settings, not yet started: schemas registered, topics created when asked,
 * the model loaded, and a {@link KafkaStreams} instance of {@link ClassifierTopology}. This is the one
 * public way to assemble the service: {@code run}, the demo ({@code deebert-local}), the end-to-end
 * tests and the benchmarks all build it here, so they run exactly what production runs; no other code
 * builds a Streams configuration.
 */
public final class StreamsService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StreamsService.class);
    /** How long {@link #close()} waits for Kafka Streams to commit and shut down. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Topics topics;
    private final ClassifierPool pool;
    private final KafkaStreams streams;
    private final String device;
    private final boolean ownsPool;

    private StreamsService(Topics topics, ClassifierPool pool, boolean ownsPool, KafkaStreams streams, String device) {
        this.topics = topics;
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.streams = streams;
        this.device = device;
    }

    /**
     * @param settings     the service's settings
     * @param createTopics whether to create missing topics (the control topic compacted)
     * @return the service, ready for {@link #start()}
     * @throws org.deebert.streams.registry.SchemaRegistryException if the registry is unreachable or rejects a schema
     * @throws IllegalStateException if topics cannot be created
     * @throws InterruptedException  if interrupted while creating topics
     * @throws RuntimeException      whatever loading the model throws (missing directory, card mismatch)
     */
    public static StreamsService create(AppSettings settings, boolean createTopics) throws InterruptedException {
        return create(settings, createTopics, null);
    }

    /**
     * As {@link #create(AppSettings, boolean)}, on an already loaded model: tests that start the service
     * several times in one JVM load the model once. The service does not close a pool it was given.
     *
     * @param classifiers the loaded model, or null to load {@code settings.modelDir()}
     */
    public static StreamsService create(AppSettings settings, boolean createTopics, ClassifierPool classifiers)
            throws InterruptedException {
        ConfluentSchemaRegistryClient registry = new ConfluentSchemaRegistryClient(settings.schemaRegistryUrl());
        Topics topics = Topics.create(settings.topics(), registry);
        SchemaRegistration.registerAll(registry, topics);
        if (createTopics) {
            TopicCreator.createMissing(settings.clientProperties(), topics, settings.topicPartitions(),
                    settings.replicationFactor());
        }

        ClassifierPool pool = classifiers;
        String device = "(shared pool)";
        if (pool == null) {
            AtomicReference<EarlyExitClassifier> first = new AtomicReference<>();
            Supplier<TextClassifier> factory = () -> {
                EarlyExitClassifier c = EarlyExitClassifier.load(settings.modelDir(), settings.classifierOptions());
                first.compareAndSet(null, c);
                return c;
            };
            pool = new ClassifierPool(factory);
            device = String.valueOf(first.get().device());
        }
        LOG.info("Model {} version {} on {} (preference {}); threshold S={} nats ({}) until the control topic says otherwise",
                pool.modelName(), pool.modelVersion(), device, settings.device(),
                pool.recommendedSetting().threshold(), pool.recommendedSetting().policy());

        Topology topology = ClassifierTopology.build(settings.topologySettings(), topics, pool);
        Properties props = settings.streamsProperties();
        props.putAll(ClassifierTopology.streamsConfig(topics));
        KafkaStreams streams = new KafkaStreams(topology, props);
        // A thread dies on errors such as an unreachable Schema Registry; a new thread resumes from the last
        // commit (exactly-once), so nothing is lost or duplicated.
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("Stream thread failed ({}); replacing it", e.getClass().getName(), e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        return new StreamsService(topics, pool, classifiers == null, streams, device);
    }

    /** @return the topics with the service's own serdes */
    public Topics topics() {
        return topics;
    }

    /** @return the loaded model's pool (name, version, layers, recommended setting) */
    public ClassifierPool pool() {
        return pool;
    }

    /** @return the Kafka Streams instance (state, metrics) */
    public KafkaStreams streams() {
        return streams;
    }

    /** @return the device the first classifier runs on, as DJL names it (e.g. {@code cpu()}); "(shared pool)" for a lent pool */
    public String device() {
        return device;
    }

    /** Starts processing; the global threshold store is restored from the control topic first. */
    public void start() {
        streams.start();
    }

    /**
     * Closes Kafka Streams (committing what was processed) and leaves the consumer group, then the
     * classifiers (unless the pool was lent by the caller). Leaving the group matters on restarts: a
     * member that only closes stays in the group until its session times out (45 s by default), and
     * its partitions sit idle in REBALANCING until then.
     */
    @Override
    public void close() {
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT));
        if (ownsPool) {
            pool.close();
        }
    }
}
