package org.deebert.streams.app;

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.ClassifierTopology;
import org.deebert.streams.topology.ExitMetrics;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code run}: loads the model, registers the schemas, optionally creates missing topics, and runs the
 * Kafka Streams topology until the process is stopped (SIGTERM/Ctrl-C close it cleanly).
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the streaming classifier.")
public final class RunCommand implements java.util.concurrent.Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigOption config;

    @Option(names = "--create-topics", description = "Create missing topics (overrides topics.create).")
    Boolean createTopics;

    @Override
    public Integer call() throws InterruptedException {
        AppSettings settings = config.load();
        ConfluentSchemaRegistryClient registry = new ConfluentSchemaRegistryClient(settings.schemaRegistryUrl());
        Topics topics = Topics.create(settings.topics(), registry);
        SchemaRegistration.registerAll(registry, topics);
        if (createTopics != null ? createTopics : settings.createTopics()) {
            TopicCreator.createMissing(settings.clientProperties(), topics, settings.topicPartitions(),
                    settings.replicationFactor());
        }

        AtomicReference<EarlyExitClassifier> first = new AtomicReference<>();
        Supplier<TextClassifier> factory = () -> {
            EarlyExitClassifier c = EarlyExitClassifier.load(settings.modelDir(), settings.classifierOptions());
            first.compareAndSet(null, c);
            return c;
        };
        ClassifierPool pool = new ClassifierPool(factory);
        LOG.info("Model {} version {} on {} (preference {}); threshold S={} nats ({}) until the control topic says otherwise",
                pool.modelName(), pool.modelVersion(), first.get().device(), settings.device(),
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

        CountDownLatch stopped = new CountDownLatch(1);
        ScheduledExecutorService metricsLog = startMetricsLog(streams, pool.numLayers(), settings.metricsLogInterval());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Shutting down");
            if (metricsLog != null) {
                metricsLog.shutdownNow();
            }
            streams.close(Duration.ofSeconds(30));
            pool.close();
            stopped.countDown();
        }, "deebert-shutdown"));
        streams.start();
        stopped.await();
        return 0;
    }

    private static ScheduledExecutorService startMetricsLog(KafkaStreams streams, int numLayers, Duration interval) {
        if (interval.isZero()) {
            return null;
        }
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-metrics-log");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleAtFixedRate(() -> {
            ExitMetrics.Snapshot s = ExitMetrics.read(streams.metrics(), numLayers);
            LOG.info("state {} | {} events/s, {} total | exit histogram {} | batch {} avg, {} ms avg | S={} | {} classifier failures",
                    streams.state(), String.format("%.1f", s.eventsPerSecond()), s.classifiedTotal(),
                    Arrays.toString(s.exitHistogram()), String.format("%.1f", s.meanBatchSize()),
                    String.format("%.1f", s.meanLatencyMs()), s.thresholdS(), s.classifierFailures());
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return executor;
    }
}
