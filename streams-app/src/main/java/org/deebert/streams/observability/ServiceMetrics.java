package org.deebert.streams.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.topology.ClassifierMetrics;
import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.topology.ExitMetrics;
import org.deebert.streams.topology.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's metrics in one Micrometer {@link PrometheusMeterRegistry}, scraped by {@code /metrics}.
 * Prometheus names (Micrometer appends {@code _total}, {@code _seconds}, {@code _bucket} as usual):
 * <ul>
 *   <li>{@code deebert_exits_total{layer}}: events that left at off-ramp {@code layer} (1-based);</li>
 *   <li>{@code deebert_events_classified_total}; {@code deebert_events_per_second} (gauge, events/s over
 *       Kafka Streams' recent sample window);</li>
 *   <li>{@code deebert_labels_total{label}}: events classified as {@code label} (every label of the model
 *       listed, 0 included);</li>
 *   <li>{@code deebert_model_info{name,version}} (gauge, always 1: the model served);
 *       {@code deebert_model_layers} (gauge, the model's number of layers n);
 *       {@code deebert_layers_run_total} (counter, layers computed for classified events: an event that
 *       exits at layer i counts i), so that the expected saving of paper eq. 2 over a window is
 *       {@code 1 - rate(deebert_layers_run_total) / (deebert_model_layers * rate(deebert_events_classified_total))};</li>
 *   <li>{@code deebert_exit_threshold_nats}: the S in force (nats);
 *       {@code deebert_exit_label_threshold_nats{label}}: S in nats for inputs an off-ramp predicts as
 *       {@code label} while label-conditional thresholds are in force, else NaN;
 *       {@code deebert_exit_threshold_source{source="model_card"|"control_topic"|"accuracy_budget"}}: 1 for the current source, else 0;</li>
 *   <li>{@code deebert_batch_size} (histogram, events per classifier call);
 *       {@code deebert_classifier_batch_latency_seconds} (histogram, one classifier call);
 *       {@code deebert_event_latency_seconds} (histogram, from the input record's timestamp to its classification);</li>
 *   <li>{@code deebert_dead_letters_total{code}}: records dead-lettered, by {@link DeadLetterCode} name;</li>
 *   <li>{@code deebert_control_records_undecodable_total}; {@code deebert_health_degraded} (1 = DEGRADED);
 *       {@code deebert_health_ready} (1 while {@code /health/ready} answers 200);
 *       {@code deebert_schema_cache_invalidations_total} (times the Schema Registry disagreed with the cached schema
 *       ids, which were then dropped and the service's schemas re-registered); {@code deebert_health_failed}
 *       (1 once the service has failed for good and is about to exit);</li>
 *   <li>accuracy budget: {@code deebert_shadow_samples_total} (events run every layer as shadow samples);
 *       {@code deebert_budget_max_disagreement} (the budget in force, NaN when S is fixed);
 *       {@code deebert_controller_active} (1 on the instance running the budget controller),
 *       {@code deebert_controller_window_samples}, {@code deebert_controller_disagreement} and
 *       {@code deebert_controller_disagreement_upper_bound} (its window at the S in force; NaN elsewhere);
 *       with a label guard, {@code deebert_budget_max_recall_loss} (the guard's limit in force, a share; NaN
 *       without a guard) and, from the controller's window at the S in force,
 *       {@code deebert_controller_protected_samples}, {@code deebert_controller_protected_recall_loss} and
 *       {@code deebert_controller_protected_recall_loss_upper_bound} (NaN where the controller does not run or the
 *       budget has no guard);</li>
 *   <li>{@code kafka_*}: Kafka Streams' own client metrics (threads, tasks, consumer, producer), through
 *       Micrometer's {@link KafkaStreamsMetrics} binder;</li>
 *   <li>the JVM and the process, through Micrometer's own binders, so that memory pressure shows before it
 *       ends the process: {@code jvm_memory_used_bytes}, {@code jvm_memory_committed_bytes},
 *       {@code jvm_memory_max_bytes} ({@code area="heap"|"nonheap"}, {@code id} = memory pool; bytes, max -1
 *       when undefined), {@code jvm_buffer_*} (direct and mapped buffers, bytes);
 *       {@code jvm_gc_pause_seconds} (timer, by {@code action} and {@code cause}; appears with the first
 *       collection), {@code jvm_gc_memory_allocated_bytes_total}, {@code jvm_gc_memory_promoted_bytes_total},
 *       {@code jvm_gc_live_data_size_bytes}, {@code jvm_gc_max_data_size_bytes} (old generation, bytes),
 *       {@code jvm_gc_overhead} (share of CPU time spent in GC, 0..1) and
 *       {@code jvm_memory_usage_after_gc} (long-lived pools' share in use after the last collection, 0..1);
 *       {@code jvm_threads_*}; {@code jvm_classes_*}; {@code jvm_info}; {@code process_cpu_usage},
 *       {@code system_cpu_usage} (0..1), {@code system_cpu_count}, {@code system_load_average_1m}; {@code process_uptime_seconds},
 *       {@code process_start_time_seconds}; {@code process_files_open_files}, {@code process_files_max_files}.</li>
 * </ul>
 *
 * <p><b>One place per metric.</b> Exits and events classified are counted by the classify processor's Kafka
 * Streams sensors ({@link ClassifierMetrics}) and only read here ({@link ClassifierTotals}); those sensors
 * are therefore kept out of the binder's {@code kafka_*} copy. Distributions, dead letters and the control
 * topic's health have no Kafka Streams sensor: the topology reports them to this {@link StreamObserver}.
 */
public final class ServiceMetrics implements StreamObserver, BudgetFigures, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceMetrics.class);
    /** How often the Kafka Streams binder looks for new Kafka metrics (tasks created after start). */
    static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HealthState health;
    private final Map<DeadLetterCode, Counter> deadLetters = new EnumMap<>(DeadLetterCode.class);
    private final Map<String, Counter> labelCounters = new ConcurrentHashMap<>();
    private final Counter undecodableControlRecords;
    private final DistributionSummary batchSize;
    private final Timer batchLatency;
    private final Timer eventLatency;
    private final Counter shadowSamples;
    private final Counter schemaCacheInvalidations;
    private final BudgetControllerGauges controller = new BudgetControllerGauges();
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final JvmHeapPressureMetrics heapPressureMetrics = new JvmHeapPressureMetrics();
    private KafkaStreamsMetrics kafkaStreamsMetrics;
    private ScheduledExecutorService kafkaMetricsRefresh;

    /**
     * Registers the meters the topology records to and the JVM and process meters; {@link #bind} adds the
     * ones read from Kafka Streams.
     *
     * @param health marked degraded when a control record cannot be decoded
     */
    public ServiceMetrics(HealthState health) {
        this.health = health;
        // The binder would also copy our own classifier sensors as kafka_deebert_classifier_*: they are
        // exported once, under the deebert_* names below.
        registry.config().meterFilter(MeterFilter.denyNameStartsWith("kafka.deebert."));
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        heapPressureMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        for (DeadLetterCode code : DeadLetterCode.values()) {
            // Registered up front so every code shows 0 rather than being absent until its first record.
            deadLetters.put(code, Counter.builder("deebert.dead.letters").tag("code", code.name())
                    .description("records sent to the dead-letter topic, by deebert.error.code").register(registry));
        }
        undecodableControlRecords = Counter.builder("deebert.control.records.undecodable")
                .description("control-topic records skipped because they could not be decoded").register(registry);
        batchSize = DistributionSummary.builder("deebert.batch.size").description("events per classifier call")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
        batchLatency = Timer.builder("deebert.classifier.batch.latency").description("wall time of one classifier call")
                .serviceLevelObjectives(latencyBuckets()).register(registry);
        eventLatency = Timer.builder("deebert.event.latency")
                .description("from the input record's timestamp to the end of its classification")
                .serviceLevelObjectives(latencyBuckets()).register(registry);
        shadowSamples = Counter.builder("deebert.shadow.samples")
                .description("events run through every layer as shadow samples of an accuracy budget").register(registry);
        controller.register(registry);
        schemaCacheInvalidations = Counter.builder("deebert.schema.cache.invalidations")
                .description("times the Schema Registry disagreed with the cached schema ids (forgotten or re-assigned)")
                .register(registry);
        Gauge.builder("deebert.health.failed", health, h -> h.failed() ? 1 : 0)
                .description("1 once the service has failed for good (health DOWN; run exits), else 0").register(registry);
        Gauge.builder("deebert.health.degraded", health, h -> h.degraded() ? 1 : 0)
                .description("1 while the service is DEGRADED (control topic unreadable), else 0").register(registry);
        // The same answer as GET /health/ready, for alerts: Kafka Streams' own state gauge is a string and is
        // not exported.
        Gauge.builder("deebert.health.ready", health, h -> h.ready().httpStatus() == 200 ? 1 : 0)
                .description("1 while /health/ready answers 200 (Kafka Streams RUNNING, not failed), else 0")
                .register(registry);
    }

    private static Duration[] latencyBuckets() {
        return new Duration[] {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
    }

    /**
     * Adds the meters read from Kafka Streams: exits per layer, events classified and events/s (from
     * {@code totals} and the classifier sensors), the S in force and its source (from {@code setting}), and
     * Kafka Streams' own client metrics.
     *
     * @param streams   the service's Kafka Streams instance
     * @param totals    monotonic exit and event totals
     * @param setting   the exit setting in force
     * @param numLayers number of off-ramps of the model
     * @param labels    the model's label names in index order (the per-label thresholds' and the label
     *                  counters' tags)
     */
    public void bind(KafkaStreams streams, ClassifierTotals totals, ExitSettingProbe setting, int numLayers,
                     List<String> labels) {
        for (String label : labels) {
            // Registered up front so every label shows 0 rather than being absent until its first event.
            labelCounter(label);
        }
        ExitCounters.register(registry, totals, numLayers);
        Gauge.builder("deebert.events.per.second", streams, s -> ExitMetrics.read(s.metrics(), numLayers).eventsPerSecond())
                .description("events classified per second over Kafka Streams' recent sample window").register(registry);
        ExitSettingGauges.register(registry, setting, labels);
        kafkaMetricsRefresh = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-kafka-metrics-refresh");
            t.setDaemon(true);
            return t;
        });
        kafkaStreamsMetrics = new KafkaStreamsMetrics(streams, Tags.empty(), kafkaMetricsRefresh, KAFKA_METRICS_REFRESH);
        kafkaStreamsMetrics.bindTo(registry);
    }

    /**
     * Registers {@code deebert_model_info{name,version}}, a gauge that is always 1, so that dashboards and
     * alerts can show and join on the model served.
     *
     * @param name    the model's name (its model card's)
     * @param version the model's version
     */
    public void describeModel(String name, String version) {
        Gauge.builder("deebert.model.info", () -> 1).tag("name", name).tag("version", version)
                .description("1, with the served model's name and version as labels").register(registry);
    }

    /**
     * Registers {@code deebert_precision_info{precision, reason}} = 1: the arithmetic the classifiers run in
     * ({@code float32}, {@code bfloat16}) and why ({@code configured}, {@code no-cpu-support},
     * {@code self-check-passed}, {@code self-check-failed}; see {@code PrecisionSelfCheck}).
     *
     * @param precision the arithmetic, as the setting spells it
     * @param reason    a low-cardinality word saying why
     */
    public void describePrecision(String precision, String reason) {
        Gauge.builder("deebert.precision.info", () -> 1).tag("precision", precision).tag("reason", reason)
                .description("1, with the classifiers' arithmetic and the reason it was chosen as labels")
                .register(registry);
    }

    private Counter labelCounter(String label) {
        return labelCounters.computeIfAbsent(label, l -> Counter.builder("deebert.labels").tag("label", l)
                .description("events classified, by the label answered").register(registry));
    }

    /** @return every metric in the Prometheus text format (version 0.0.4) */
    public String scrape() {
        return registry.scrape();
    }

    /** @return records dead-lettered since start, by code (every code, 0 included) */
    public Map<DeadLetterCode, Long> deadLetterTotals() {
        Map<DeadLetterCode, Long> totals = new EnumMap<>(DeadLetterCode.class);
        deadLetters.forEach((code, counter) -> totals.put(code, (long) counter.count()));
        return totals;
    }

    @Override
    public void batchClassified(int events, double classifierSeconds) {
        batchSize.record(events);
        batchLatency.record(Duration.ofNanos((long) (classifierSeconds * 1e9)));
    }

    @Override
    public void eventClassified(double endToEndSeconds) {
        eventLatency.record(Duration.ofNanos((long) (endToEndSeconds * 1e9)));
    }

    @Override
    public void eventLabeled(String label) {
        labelCounter(label).increment();
    }

    @Override
    public void deadLettered(DeadLetterCode code) {
        deadLetters.get(code).increment();
    }

    @Override
    public void controlRecordUndecodable(String topic, int partition, long offset, String reason) {
        undecodableControlRecords.increment();
        health.degrade("control record at " + topic + "-" + partition + " offset " + offset + " could not be decoded ("
                + reason + "); the threshold in force may be stale");
    }

    @Override
    public void controlRecordDecoded() {
        if (health.degradedBy(HealthState.CONTROL_TOPIC)) {
            LOG.info("A control record decoded again: the control topic no longer degrades the service");
        }
        health.recover();
    }

    /** The Schema Registry disagreed with the cached schema ids; they were dropped. */
    public void schemaCacheInvalidated() {
        schemaCacheInvalidations.increment();
    }

    @Override
    public void shadowSampled(int events) {
        shadowSamples.increment(events);
    }

    @Override
    public void controllerDecided(ControllerStatus status) {
        controller.update(status);
    }

    @Override
    public long shadowSampleTotal() {
        return (long) shadowSamples.count();
    }

    @Override
    public ControllerStatus controllerStatus() {
        return controller.status();
    }

    /** Stops the Kafka Streams binder's refresh, unhooks the GC listeners and closes the registry. */
    @Override
    public void close() {
        // Both listen to the JVM's GC notifications; left registered they would outlive this registry.
        gcMetrics.close();
        heapPressureMetrics.close();
        if (kafkaStreamsMetrics != null) {
            kafkaStreamsMetrics.close();
        }
        if (kafkaMetricsRefresh != null) {
            kafkaMetricsRefresh.shutdownNow();
        }
        registry.close();
    }
}
