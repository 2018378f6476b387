package org.deebert.streams.app;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.observability.ExitSettingProbe;
import org.deebert.streams.topology.ExitMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code run}: loads the model, registers the schemas, optionally creates missing topics, and runs the
 * Kafka Streams topology until the process is stopped (SIGTERM/Ctrl-C close it cleanly, exit code 0), or
 * until the service fails for good ({@link StreamsService#failure()}: health DOWN, then exit code
 * {@value #FAILED}, so that an orchestrator restarts it).
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the streaming classifier.")
public final class RunCommand implements java.util.concurrent.Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    /** Exit code after the service failed for good (health DOWN): the process must be restarted. */
    static final int FAILED = 1;
    /** How long Kafka Streams may take to close after a failure (a commit to a deleted topic never ends). */
    static final Duration FAILURE_CLOSE_TIMEOUT = Duration.ofSeconds(10);

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

        ExitSettingProbe inForce = new ExitSettingProbe(streams, service.pool().modelName(),
                service.pool().startingSetting());
        ScheduledExecutorService metricsLog = startMetricsLog(streams, service.pool().numLayers(), inForce,
                service.pool().labels(), settings.metricsLogInterval());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Shutting down");
            if (metricsLog != null) {
                metricsLog.shutdownNow();
            }
            service.close();
        }, "deebert-shutdown"));
        service.start();
        // Returns only when the service fails for good; a SIGTERM ends the JVM through the shutdown hook.
        String reason;
        try {
            reason = service.failure().get();
        } catch (java.util.concurrent.ExecutionException e) {
            reason = e.getCause().toString();
        }
        LOG.error("Exiting with code {}: {}", FAILED, reason);
        if (metricsLog != null) {
            metricsLog.shutdownNow();
        }
        service.close(FAILURE_CLOSE_TIMEOUT);
        return FAILED;
    }

    private static ScheduledExecutorService startMetricsLog(KafkaStreams streams, int numLayers, ExitSettingProbe inForce,
                                                            List<String> labels, Duration interval) {
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
            // The setting in force from the global store, not the last batch's S: that one reads 0 before the first
            // batch and names only the base S of a label-conditional setting.
            ExitSettingInForce setting = inForce.current();
            LOG.info("state {} | {} events/s, {} total | exit histogram {} | batch {} avg, {} ms avg | {} ({}) | {} classifier failures",
                    streams.state(), String.format("%.1f", s.eventsPerSecond()), s.classifiedTotal(),
                    Arrays.toString(s.exitHistogram()), String.format("%.1f", s.meanBatchSize()),
                    String.format("%.1f", s.meanLatencyMs()), setting.setting().describe(labels), setting.source(),
                    s.classifierFailures());
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return executor;
    }
}
