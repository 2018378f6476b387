package org.deebert.streams.app;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.topology.ExitMetrics;
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
        StreamsService service = StreamsService.create(settings,
                createTopics != null ? createTopics : settings.createTopics());
        KafkaStreams streams = service.streams();

        CountDownLatch stopped = new CountDownLatch(1);
        ScheduledExecutorService metricsLog = startMetricsLog(streams, service.pool().numLayers(),
                settings.metricsLogInterval());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Shutting down");
            if (metricsLog != null) {
                metricsLog.shutdownNow();
            }
            service.close();
            stopped.countDown();
        }, "deebert-shutdown"));
        service.start();
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
