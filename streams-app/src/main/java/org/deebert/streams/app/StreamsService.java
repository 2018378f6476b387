package org.deebert.streams.app;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.PrecisionSelfCheck;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.observability.ClassifierTotals;
import org.deebert.streams.observability.ExitSettingProbe;
import org.deebert.streams.observability.ExitTelemetryPublisher;
import org.deebert.streams.observability.HealthState;
import org.deebert.streams.observability.ObservabilityServer;
import org.deebert.streams.observability.ServiceMetrics;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.ClassifierTopology;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service wired from its settings, not yet started: its own schemas registered (or looked up, see
 * {@link SchemaRegistration}), topics created when asked,
 * the model loaded, and a {@link KafkaStreams} instance of {@link ClassifierTopology}. This is the one
 * public way to assemble the service: {@code run}, the demo ({@code deebert-local}), the end-to-end
 * tests and the benchmarks all build it here, so they run exactly what production runs; no other code
 * builds a Streams configuration.
 *
 * <p>{@link #start()} also starts the HTTP endpoint ({@code /metrics}, {@code /health/live},
 * {@code /health/ready} on {@code http.host}:{@code http.port}, see {@link ObservabilityServer}) and, unless
 * {@code telemetry.interval.ms} is 0, the exit-telemetry publisher ({@link ExitTelemetryPublisher});
 * {@link #close()} stops them.
 *
 * <p><b>Fatal means exit.</b> The service reports a failure it cannot recover from in-process through
 * {@link #failure()}: Kafka Streams reached ERROR, stream threads died more often than the replacement budget
 * allows ({@link ThreadFailurePolicy}), or a topic it reads or writes was deleted or re-created
 * ({@link TopicWatch}). {@code /health/live} and {@code /health/ready} then answer 503 DOWN with the reason, and
 * {@code run} closes the service and exits non-zero, so that an orchestrator restarts it.
 */
public final class StreamsService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StreamsService.class);
    /** How long {@link #close()} waits for Kafka Streams to commit and shut down. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final AppSettings settings;
    private final Topics topics;
    private final ClassifierPool pool;
    private final KafkaStreams streams;
    private final String device;
    private final boolean ownsPool;
    private final HealthState health;
    private final ServiceMetrics metrics;
    private final ExitTelemetryPublisher telemetry;
    private final CompletableFuture<String> failure;
    private final AtomicBoolean closed = new AtomicBoolean();
    private ObservabilityServer http;
    private TopicWatch topicWatch;
    private final RegistryWatch registryWatch;

    private StreamsService(AppSettings settings, Topics topics, ClassifierPool pool, boolean ownsPool, KafkaStreams streams,
                           String device, HealthState health, ServiceMetrics metrics, ExitTelemetryPublisher telemetry,
                           CompletableFuture<String> failure, RegistryWatch registryWatch) {
        this.settings = settings;
        this.topics = topics;
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.streams = streams;
        this.device = device;
        this.health = health;
        this.metrics = metrics;
        this.telemetry = telemetry;
        this.failure = failure;
        this.registryWatch = registryWatch;
    }

    /**
     * @param settings     the service's settings
     * @param createTopics whether to create missing topics (the control topic compacted, with
     *                     {@code topic.control.min.compaction.lag.ms})
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
        ConfluentSchemaRegistryClient registry = settings.schemaRegistryClient();
        Topics topics = Topics.create(settings.topics(), registry, settings.input(), settings.serializerSettings());
        SchemaRegistration.registerAll(registry, topics, settings.serializerSettings());
        if (createTopics) {
            TopicCreator.createMissing(settings.clientProperties(), topics, settings.topicPartitions(),
                    settings.replicationFactor(), settings.controlMinCompactionLag());
        }

        ClassifierPool pool = classifiers;
        String device = "(shared pool)";
        PrecisionSelfCheck.Decision precision = null;
        if (pool == null) {
            precision = PrecisionSelfCheck.choose(settings.modelDir(), settings.classifierOptions(),
                    settings.exitSetting(), settings.precision());
            LOG.info("Precision {} ({}): {}", precision.precisionName(), precision.reason(), precision.detail());
            ClassifierOptions options = settings.classifierOptions().withPrecision(precision.precision());
            AtomicReference<EarlyExitClassifier> first = new AtomicReference<>();
            Supplier<TextClassifier> factory = () -> {
                EarlyExitClassifier c = EarlyExitClassifier.load(settings.modelDir(), options);
                first.compareAndSet(null, c);
                return c;
            };
            pool = new ClassifierPool(factory, settings.exitSetting());
            device = String.valueOf(first.get().device());
        }
        LOG.info("Model {} version {} on {} (preference {}); exit setting {} (the model card's {} setting) until the "
                        + "control topic says otherwise", pool.modelName(), pool.modelVersion(), device, settings.device(),
                pool.startingSetting().describe(pool.labels()), settings.exitSetting());

        TopicCreator.createShadowTopic(settings.clientProperties(), topics.shadowSamples().name(),
                settings.replicationFactor());
        String instanceId = ExitTelemetryPublisher.instanceId(settings.applicationId());
        Topology topology = ClassifierTopology.build(settings.topologySettings(), topics, pool, instanceId);
        HealthState health = new HealthState();
        CompletableFuture<String> failure = new CompletableFuture<>();
        // The topology's handlers and processors report dead letters, batches and undecodable control
        // records to the metrics through the Streams configuration (see StreamObserver).
        ServiceMetrics metrics = new ServiceMetrics(health);
        Properties props = settings.streamsProperties();
        props.putAll(ClassifierTopology.streamsConfig(topics, metrics));
        LOG.info("Consumer group {}: {}", settings.applicationId(), settings.instanceName()
                .map(name -> "static membership as instance " + name)
                .orElse("dynamic membership (no instance.name)"));
        KafkaStreams streams = new KafkaStreams(topology, props);
        streams.setStateListener((newState, oldState) -> {
            health.onStateChange(newState, oldState);
            if (newState == KafkaStreams.State.ERROR) {
                fail(health, failure, "Kafka Streams entered ERROR");
            }
        });
        ClassifierTotals totals = new ClassifierTotals(streams::metrics, pool.numLayers());
        ExitSettingProbe setting = new ExitSettingProbe(streams, pool.modelName(), pool.startingSetting());
        metrics.bind(streams, totals, setting, pool.numLayers(), pool.labels());
        metrics.describeModel(pool.modelName(), pool.modelVersion());
        if (precision != null) { // a lent pool's precision was decided by whoever loaded it
            metrics.describePrecision(precision.precisionName(), precision.reason());
        }
        ExitTelemetryPublisher telemetry = null;
        if (!settings.telemetryInterval().isZero()) {
            telemetry = new ExitTelemetryPublisher(
                    ExitTelemetryPublisher.producer(settings.clientProperties(), topics.telemetry(), instanceId),
                    topics.telemetry().name(), instanceId, pool.modelName(), pool.modelVersion(),
                    totals, metrics::deadLetterTotals, setting::current, System::currentTimeMillis, metrics);
        }
        Supervision supervision = settings.supervision();
        streams.setUncaughtExceptionHandler(new ThreadFailurePolicy(supervision.maxThreadReplacements(),
                supervision.replacementWindow(), reason -> fail(health, failure, reason)));
        RegistryWatch registryWatch = RegistryWatch.start(registry,
                () -> SchemaRegistration.registerAll(registry, topics, settings.serializerSettings()), health,
                metrics::schemaCacheInvalidated, supervision.registryCheckInterval());
        return new StreamsService(settings, topics, pool, classifiers == null, streams, device, health, metrics, telemetry,
                failure, registryWatch);
    }

    /** Health DOWN first (probes see it at once), then the future that {@code run} waits on. */
    private static void fail(HealthState health, CompletableFuture<String> failure, String reason) {
        health.fail(reason);
        if (failure.complete(reason)) {
            LOG.error("Service failed: {}", reason);
        }
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

    /** @return the service's health, as {@code /health/live} and {@code /health/ready} report it */
    public HealthState health() {
        return health;
    }

    /** @return the service's metrics (the text of {@code /metrics} is {@code metrics().scrape()}) */
    public ServiceMetrics metrics() {
        return metrics;
    }

    /**
     * @return the port the HTTP endpoint is bound to (the free port chosen when {@code http.port} is 0)
     * @throws IllegalStateException before {@link #start()}
     */
    public int httpPort() {
        if (http == null) {
            throw new IllegalStateException("the HTTP endpoint starts with start()");
        }
        return http.port();
    }

    /**
     * @return completes with the reason once the service has failed for good (see the class comment); never
     *     completes on a healthy service or on {@link #close()}
     */
    public CompletableFuture<String> failure() {
        return failure;
    }

    /** @return the key of this instance's telemetry records, or null when {@code telemetry.interval.ms} is 0 */
    public String telemetryInstanceId() {
        return telemetry == null ? null : telemetry.instanceId();
    }

    /**
     * Starts the HTTP endpoint, then processing (the global threshold store is restored from the control
     * topic first), then the telemetry publisher.
     *
     * @throws java.io.UncheckedIOException if {@code http.host}:{@code http.port} cannot be bound
     */
    public void start() {
        http = ObservabilityServer.start(settings.httpHost(), settings.httpPort(), metrics::scrape, health);
        streams.start();
        if (telemetry != null) {
            telemetry.start(settings.telemetryInterval());
        }
        Duration topicsCheck = settings.supervision().topicsCheckInterval();
        if (!topicsCheck.isZero()) {
            topicWatch = TopicWatch.start(settings.clientProperties(), topics.names().watched(), topicsCheck,
                    reason -> fail(health, failure, reason));
        }
    }

    /**
     * Writes the last telemetry interval, closes Kafka Streams (committing what was processed) and leaves
     * the consumer group, stops the HTTP endpoint and the metrics, then closes the classifiers (unless the
     * pool was lent by the caller). Leaving the group matters on restarts: a member that only closes stays
     * in the group until its session times out ({@code kafka.session.timeout.ms}), and its partitions sit
     * idle in REBALANCING until then.
     *
     * <p>A static member ({@code instance.name} set) leaves too: {@code LEAVE_GROUP} makes the classic
     * consumer send its LeaveGroup request whether or not it has a {@code group.instance.id}, whereas by
     * default a static member stays. Staying would save one rebalance when the same instance comes back, but
     * an instance stopped for good (scale-down, a rolling update that renames pods) would then hold its
     * partitions for the whole session timeout; leaving hands them to the other instances at once, and an
     * instance restarted under the same name simply joins again.
     *
     * <p>Idempotent: {@code run}'s shutdown hook may close it again after a failure.
     */
    @Override
    public void close() {
        close(CLOSE_TIMEOUT);
    }

    /**
     * As {@link #close()}, waiting at most {@code timeout} for Kafka Streams.
     *
     * @param timeout how long Kafka Streams may take to commit and shut down (after a failure, a deleted output
     *                topic can keep a commit from ever finishing: {@code run} then waits less)
     */
    public void close(Duration timeout) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (topicWatch != null) {
            topicWatch.close();
        }
        registryWatch.close();
        if (telemetry != null) {
            // Before Kafka Streams closes: its classifier sensors, which the totals read, go with it.
            telemetry.close();
        }
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(timeout));
        if (http != null) {
            http.close();
        }
        metrics.close();
        if (ownsPool) {
            pool.close();
        }
    }
}
