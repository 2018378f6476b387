package org.deebert.streams.observability;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one {@link ExitTelemetry} record per interval to the telemetry topic, keyed by this instance's
 * id: the exit histogram, events, events/s, expected saving and dead letters of the interval (differences
 * of the running totals), with the S in force at its end.
 *
 * <p>It uses a plain producer, outside the Streams exactly-once transaction: telemetry describes this
 * instance, not the input records, and must keep flowing whatever the stream threads' tasks and commits
 * do. A record lost or written twice after a crash only blurs one interval of a monitoring series.
 * Not thread-safe except {@link #publishInterval()} being called by its own scheduler and by {@link #close()}.
 */
public final class ExitTelemetryPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExitTelemetryPublisher.class);

    private final Producer<String, ExitTelemetry> producer;
    private final String topic;
    private final String instanceId;
    private final String modelName;
    private final String modelVersion;
    private final ClassifierTotals totals;
    private final Supplier<Map<DeadLetterCode, Long>> deadLetterTotals;
    private final Supplier<ExitSettingInForce> setting;
    private final LongSupplier clockMs;
    private final BudgetFigures budget;
    private ScheduledExecutorService scheduler;
    private long lastShadowSamples;

    private long intervalStartMs;
    private long[] lastHistogram;
    private Map<DeadLetterCode, Long> lastDeadLetters;

    /**
     * Starts the first interval now (its baseline is the totals at construction).
     *
     * @param producer         writes the records (closed by {@link #close()})
     * @param topic            the telemetry topic
     * @param instanceId       this instance's id (see {@link #instanceId(String)})
     * @param modelName        the model's name
     * @param modelVersion     the model's version
     * @param totals           running exit totals
     * @param deadLetterTotals running dead-letter totals by code
     * @param setting          the exit setting in force
     * @param clockMs          wall clock in ms since the epoch
     */
    public ExitTelemetryPublisher(Producer<String, ExitTelemetry> producer, String topic, String instanceId,
                                  String modelName, String modelVersion, ClassifierTotals totals,
                                  Supplier<Map<DeadLetterCode, Long>> deadLetterTotals,
                                  Supplier<ExitSettingInForce> setting, LongSupplier clockMs) {
        this(producer, topic, instanceId, modelName, modelVersion, totals, deadLetterTotals, setting, clockMs,
                BudgetFigures.NONE);
    }

    /**
     * As the constructor above, with the accuracy budget's figures (shadow samples, controller window) in each record.
     *
     * @param budget this instance's budget figures
     */
    public ExitTelemetryPublisher(Producer<String, ExitTelemetry> producer, String topic, String instanceId,
                                  String modelName, String modelVersion, ClassifierTotals totals,
                                  Supplier<Map<DeadLetterCode, Long>> deadLetterTotals,
                                  Supplier<ExitSettingInForce> setting, LongSupplier clockMs, BudgetFigures budget) {
        this.budget = budget;
        this.lastShadowSamples = budget.shadowSampleTotal();
        this.producer = producer;
        this.topic = topic;
        this.instanceId = instanceId;
        this.modelName = modelName;
        this.modelVersion = modelVersion;
        this.totals = totals;
        this.deadLetterTotals = deadLetterTotals;
        this.setting = setting;
        this.clockMs = clockMs;
        this.intervalStartMs = clockMs.getAsLong();
        this.lastHistogram = totals.read().exitHistogram();
        this.lastDeadLetters = deadLetterTotals.get();
    }

    /**
     * A plain producer for the telemetry topic, with the topic's serdes, outside the Streams transaction (see the
     * class comment for why).
     *
     * @param clientProperties bootstrap servers and security settings (not modified)
     * @param topic            the telemetry topic ({@code Topics.telemetry()})
     * @param instanceId       this instance's id; the producer's client id is {@code <instanceId>-telemetry}
     * @return a new producer, which the publisher closes
     */
    public static KafkaProducer<String, ExitTelemetry> producer(Properties clientProperties,
                                                               Topic<String, ExitTelemetry> topic, String instanceId) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, instanceId + "-telemetry");
        return new KafkaProducer<>(p, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    /**
     * @param applicationId the Kafka Streams application id
     * @return {@code <application.id>-<host name>-<8 random hex digits>}: unique per process, stable for its life
     */
    public static String instanceId(String applicationId) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "unknown-host");
        }
        return applicationId + "-" + host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** @return the record key of this instance's telemetry */
    public String instanceId() {
        return instanceId;
    }

    /**
     * Publishes every {@code interval} from now on, on a daemon thread.
     *
     * @param interval how often, &gt; 0
     */
    public synchronized void start(Duration interval) {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-telemetry");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleAtFixedRate(() -> {
            try {
                publishInterval();
            } catch (RuntimeException e) {
                // Never let one failure end the schedule (a failed scheduled task is not run again).
                LOG.warn("Exit telemetry not written ({})", e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Ends the current interval, sends its record (asynchronously) and starts the next one.
     *
     * @return the record sent
     */
    public synchronized ExitTelemetry publishInterval() {
        long endMs = clockMs.getAsLong();
        long[] histogram = totals.read().exitHistogram();
        Map<DeadLetterCode, Long> dead = deadLetterTotals.get();
        long[] delta = new long[histogram.length];
        for (int i = 0; i < histogram.length; i++) {
            delta[i] = Math.max(0, histogram[i] - lastHistogram[i]);
        }
        Map<DeadLetterCode, Long> deadDelta = new EnumMap<>(DeadLetterCode.class);
        dead.forEach((code, n) -> deadDelta.put(code, Math.max(0, n - lastDeadLetters.getOrDefault(code, 0L))));
        long shadow = budget.shadowSampleTotal();
        ExitTelemetry record = ExitTelemetryRecords.of(instanceId, modelName, modelVersion, intervalStartMs, endMs, delta,
                deadDelta, setting.get(), Math.max(0, shadow - lastShadowSamples), budget.controllerStatus());
        lastShadowSamples = shadow;
        producer.send(new ProducerRecord<>(topic, instanceId, record), (metadata, e) -> {
            if (e != null) {
                LOG.warn("Exit telemetry for {} not written to {} ({})", instanceId, topic, e.toString());
            }
        });
        intervalStartMs = endMs;
        lastHistogram = histogram;
        lastDeadLetters = dead;
        return record;
    }

    /** Stops the schedule, writes the last (partial) interval and closes the producer. */
    @Override
    public void close() {
        synchronized (this) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
        }
        try {
            publishInterval();
        } catch (RuntimeException e) {
            LOG.warn("Last exit telemetry not written ({})", e.toString());
        }
        producer.close(Duration.ofSeconds(5));
    }
}
