package org.deebert.streams.benchmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.ControlTopicWriter;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.demo.DemoEvents;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The service end to end against a running Kafka broker and Schema Registry: the service is assembled
 * by {@link StreamsService} from {@link AppSettings}, exactly as {@code run} assembles it, on topics and
 * an {@code application.id} unique to this run (created with one partition).
 *
 * <ul>
 *   <li><b>Phase A, throughput.</b> N labelled TextEvents (Avro, Confluent wire format) are written to the
 *   input topic and flushed before the service starts; S is set through the control topic when it differs
 *   from the model card's; then the service starts and a separate read_committed consumer reads the output.
 *   events/s = (N - 1) / (arrival of the last output record - arrival of the first); also the time from
 *   {@code start()} to the first output, the mean batch size (per event), the exit histogram, the expected
 *   saving (DeeBERT eq. 2) and the accuracy against the labels. Output becomes visible to a read_committed
 *   consumer one transaction (commit) at a time, so the first arrival may already bring a whole batch or
 *   more: with small N this rate reads high; use hundreds of events. Without {@code --threshold} the service runs
 *   the model card's recommended setting as the card has it (per predicted label when label-conditional), and
 *   the JSON says so: {@code "setting": "card"} with its {@code label_thresholds}.</li>
 *   <li><b>Phase B, latency</b> (when {@code --rate} &gt; 0 or {@code --rates} is given). With the service still
 *   running, M more events are written at a fixed rate R (events/s) from a scheduled loop, each with record
 *   timestamp = its send wall time (ms). The output record carries its input's timestamp, so latency = the
 *   consumer's wall time at receipt - that timestamp, in ms: p50/p90/p99/max, the achieved rate and the mean
 *   batch. {@code --rate R} runs one such phase at R; {@code --rates F1,F2,...} runs one per fraction F of phase A's
 *   measured events/s (R = F x saturation; with {@code --capacity C}, R = F x C, so two runs of different settings
 *   can be compared at the same input rates), one after the other, each with M events of its own, after the
 *   {@code --rate} one. Each phase waits for all of its events, so the next starts on an empty buffer. Each phase
 *   also splits its latency into stages from the output record's {@code processed_at} and
 *   {@code processing_time_ms} ({@link PhaseTally#stages}) and counts Kafka Streams' commits.</li>
 * </ul>
 *
 * <p>{@code --commit} sets the service's {@code classifier.batch.commit}: {@code after-batch} asks for a commit after
 * every flush, {@code interval} leaves it to {@code commit.interval.ms}; output is visible to the benchmark's
 * read_committed consumer only after the commit.
 *
 * <p>Other settings of the service (device, {@code num.stream.threads}, {@code processing.guarantee},
 * security, {@code kafka.*}) come from the {@code DEEBERT_*} environment as for {@code run}; the options
 * here override them. Message text is never printed or logged.
 *
 * <p>Exit codes: 0 when every event came back classified within the timeout; 1 when one did not (missing,
 * dead-lettered, classified under another S) or on a runtime failure; 2 on a usage error.
 *
 * <pre>
 * java -cp "benchmark/target/classes:$(cat benchmark/target/classpath.txt)" \
 *   org.deebert.streams.benchmark.StreamBenchmark \
 *   --bootstrap-servers 127.0.0.1:9092 --schema-registry-url http://127.0.0.1:8081/apis/ccompat/v7 \
 *   --events model-export/build/spamassassin/data/test.jsonl --rate 20 --latency-events 200 --json stream.json
 * # latency at 20 %, 40 % and 70 % of the measured saturation rate, commits only at the commit interval:
 *   ... --limit 256 --rates 0.2,0.4,0.7 --latency-events 300 --commit interval --json stream.json
 * </pre>
 */
@Command(name = "stream-benchmark", mixinStandardHelpOptions = true,
        description = "The streaming service end to end on a running broker and registry: throughput of a "
                + "pre-filled input topic, then latency at a fixed input rate.")
public final class StreamBenchmark implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(StreamBenchmark.class);
    private static final String CHANGED_BY = "deebert-benchmark";
    private static final Duration POLL = Duration.ofMillis(100);

    /** The first failed send, reported by the producer's callback thread. */
    private final AtomicReference<Exception> producerFailure = new AtomicReference<>();

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers of the running broker.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", required = true, paramLabel = "URL",
            description = "Confluent-compatible registry API, e.g. http://127.0.0.1:8081/apis/ccompat/v7.")
    String schemaRegistryUrl;

    @Option(names = "--model-dir", paramLabel = "DIR", defaultValue = "model-export/models/deebert-spamassassin-minilm-l6",
            description = "Exported model directory (default: ${DEFAULT-VALUE}).")
    Path modelDir;

    @Option(names = "--events", paramLabel = "FILE", defaultValue = "model-export/build/spamassassin/data/test.jsonl",
            description = "JSON Lines {\"id\",\"text\",\"label\"} (default: ${DEFAULT-VALUE}).")
    Path events;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
            description = "Phase A sends the first N events of the file; 0 = all (default).")
    int limit;

    @Option(names = "--threshold", paramLabel = "S",
            description = "One threshold S in nats for every label, set through the control topic (default: the model "
                    + "card's recommended setting as the card has it, per label when label-conditional; no control message).")
    Double threshold;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N",
            description = "The service's classifier.batch.max.size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--linger-ms", defaultValue = "5", paramLabel = "MS",
            description = "The service's classifier.batch.linger.ms (default: ${DEFAULT-VALUE}).")
    int lingerMs;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "EVENTS_PER_S",
            description = "Input rate of the latency phase, events/s; 0 = no latency phase (default).")
    double rate;

    @Option(names = "--rates", split = ",", paramLabel = "F",
            description = "Latency phases at these fractions of phase A's measured events/s, e.g. 0.2,0.4,0.7 "
                    + "(one phase of --latency-events events each, after the --rate phase if any).")
    List<Double> rateFractions = new ArrayList<>();

    @Option(names = "--capacity", defaultValue = "0", paramLabel = "EVENTS_PER_S",
            description = "The events/s that --rates are fractions of; 0 = phase A's measured events/s (default). "
                    + "Give another run's saturation to compare two settings at the same input rates.")
    double capacity;

    @Option(names = "--commit", defaultValue = "interval", paramLabel = "WHEN",
            description = "The service's classifier.batch.commit: after-batch (a commit after every flush) or "
                    + "interval (only every commit.interval.ms) (default: ${DEFAULT-VALUE}).")
    String commit;

    @Option(names = "--latency-events", defaultValue = "200", paramLabel = "M",
            description = "Events sent in the latency phase (default: ${DEFAULT-VALUE}); taken from the file "
                    + "after phase A's, wrapping around, under new ids.")
    int latencyEvents;

    @Option(names = "--warmup", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Run one batch through all layers before the service starts, as the demo does "
                    + "(default: ${DEFAULT-VALUE}); --no-warmup leaves TensorFlow's first calls in phase A.")
    boolean warmup;

    @Option(names = "--warmup-events", defaultValue = "256", paramLabel = "W",
            description = "Before phase A, drain W events through a separate service instance on its own topics, "
                    + "unmeasured (default: ${DEFAULT-VALUE}; 0 = none): the broker and this JVM then run JIT-compiled "
                    + "code, as a long-running deployment does. A freshly started broker spends ~0.5 core on its JIT "
                    + "compiler during the first seconds of traffic, which a 2-core machine takes from the classifier.")
    int warmupEvents;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON to FILE.")
    Path jsonFile;

    @Option(names = "--timeout-s", defaultValue = "300", paramLabel = "SECONDS",
            description = "Bound on every wait: phase A from start to its last event, phase B after its last send, "
                    + "broker and registry calls (default: ${DEFAULT-VALUE}).")
    long timeoutS;

    /** Picocli creates the command through this constructor. */
    public StreamBenchmark() {
    }

    @Override
    public Integer call() {
        if (limit < 0 || batchSize < 1 || lingerMs < 1 || rate < 0 || !Double.isFinite(rate) || latencyEvents < 1
                || capacity < 0 || !Double.isFinite(capacity)
                || timeoutS < 1 || warmupEvents < 0) {
            return usage("--limit, --rate, --capacity and --warmup-events must be >= 0; --batch-size, --linger-ms, --latency-events "
                    + "and --timeout-s >= 1");
        }
        if (threshold != null && (!Double.isFinite(threshold) || threshold < 0)) {
            return usage("--threshold must be finite and >= 0 nats, got " + threshold);
        }
        for (Double f : rateFractions) {
            if (f == null || !Double.isFinite(f) || f <= 0) {
                return usage("--rates takes fractions > 0 of the saturation rate, got " + rateFractions);
            }
        }
        if (!commit.equals("after-batch") && !commit.equals("interval")) {
            return usage("--commit must be after-batch or interval, got " + commit);
        }
        if (!Files.isRegularFile(events)) {
            return usage("no events file " + events);
        }
        List<DemoEvents.LabelledText> texts;
        try {
            texts = DemoEvents.read(events, 0);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            return usage(e.getMessage());
        }
        if (texts.size() < 2) {
            return usage(events + " holds " + texts.size() + " events; at least 2 are needed for a rate");
        }
        Thread main = Thread.currentThread();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            main.interrupt(); // Ctrl-C: let the benchmark close the service and delete its state directory
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "deebert-benchmark-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(texts);
        } catch (InterruptedException | InterruptException e) {
            System.err.println("stream-benchmark interrupted");
            return 1;
        } catch (RuntimeException | IOException e) {
            LOG.error("stream benchmark failed", e);
            System.err.println("stream-benchmark failed: " + e.getMessage() + " (" + e.getClass().getSimpleName() + ")");
            return 1;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
    }

    /**
     * The unmeasured warm-up pass: W events through their own service instance and topics, pre-produced,
     * drained, then the instance closed.
     *
     * @return whether every warm-up event came back
     */
    private boolean warmupPass(List<DemoEvents.LabelledText> texts) throws InterruptedException, IOException {
        List<DemoEvents.LabelledText> warm = texts.subList(0, Math.min(warmupEvents, texts.size()));
        String runId = "deebert-bench-warmup-" + System.currentTimeMillis();
        Path stateDir = Files.createTempDirectory(runId + "-state-");
        AppSettings settings = settings(runId, stateDir);
        try (StreamsService service = StreamsService.create(settings, settings.createTopics())) {
            Topics topics = Topics.create(settings.topics(), settings.schemaRegistryClient());
            try (KafkaProducer<String, TextEvent> producer = producer(settings, topics);
                 KafkaConsumer<byte[], byte[]> consumer = readCommittedFromStart(settings, topics)) {
                produceAll(producer, topics, warm);
                ExitSetting card = service.pool().recommendedSetting();
                PhaseTally tally = new PhaseTally(DemoEvents.trueLabels(warm), service.pool().numLayers(),
                        card.threshold(), card.labelThresholds(), null);
                long start = System.nanoTime();
                service.start();
                boolean complete = follow(consumer, topics, service, List.of(tally), () -> false,
                        start + TimeUnit.SECONDS.toNanos(timeoutS));
                System.out.printf(Locale.ROOT, "warm-up pass (unmeasured): %d of %d events in %.1f s, %.1f events/s%n",
                        tally.classifiedCount(), warm.size(), (System.nanoTime() - start) / 1e9, tally.eventsPerSecond());
                return complete;
            }
        } finally {
            deleteStateDir(stateDir);
        }
    }

    private int run(List<DemoEvents.LabelledText> texts) throws InterruptedException, IOException {
        if (warmupEvents > 0 && !warmupPass(texts)) {
            System.err.println("warm-up pass: not every event came back within " + timeoutS + " s");
            return 1;
        }
        int n = limit == 0 ? texts.size() : Math.min(limit, texts.size());
        if (limit > texts.size()) {
            System.err.printf("stream-benchmark: --limit %d but %s holds %d events; using %d%n", limit, events,
                    texts.size(), n);
        }
        List<DemoEvents.LabelledText> phaseA = texts.subList(0, n);
        String runId = "deebert-bench-" + System.currentTimeMillis();
        Path stateDir = Files.createTempDirectory(runId + "-state-");
        AppSettings settings = settings(runId, stateDir);
        try (StreamsService service = StreamsService.create(settings, settings.createTopics())) {
            ClassifierPool pool = service.pool();
            ExitSetting recommended = pool.recommendedSetting();
            // The card's setting as the card has it unless --threshold asks for one S (through the control topic);
            // one S equal to a one-S card's is the card's setting and needs no message.
            boolean fromCard = threshold == null || (recommended.labelThresholds() == null
                    && Double.compare(threshold, recommended.threshold()) == 0);
            double s = fromCard ? recommended.threshold() : threshold;
            List<Double> labelS = fromCard ? recommended.labelThresholds() : null;
            ExitPolicy policy = recommended.policy();
            String source = fromCard ? "model-card" : "control-topic";
            ExitSetting running = labelS == null ? new ExitSetting(recommended.policy(), s)
                    : ExitSetting.perLabel(recommended.policy(), s, labelS);
            System.out.printf(Locale.ROOT, "model %s %s (%d layers, %s); topics %s-*; %d events; %s (%s%s); "
                            + "batch %d, linger %d ms, commit %s%n", pool.modelName(), pool.modelVersion(), pool.numLayers(),
                    service.device(), runId, n, ClassifierBenchmark.settingLabel(running, pool.labels()), source,
                    fromCard ? ", the model card's setting" : "", batchSize, lingerMs, commit);

            Topics topics = Topics.create(settings.topics(), settings.schemaRegistryClient());
            try (KafkaProducer<String, TextEvent> producer = producer(settings, topics)) {
                long produceStart = System.nanoTime();
                produceAll(producer, topics, phaseA);
                System.out.printf(Locale.ROOT, "phase A: %d events written and flushed in %.1f s%n", n,
                        (System.nanoTime() - produceStart) / 1e9);
                if (source.equals("control-topic")) {
                    // Before start: Kafka Streams restores the global threshold store before it classifies anything.
                    ControlTopicWriter.send(settings, pool.modelName(), ControlTopicWriter.thresholdMessage(
                            pool.modelName(), s, policy, CHANGED_BY, "stream benchmark threshold"));
                }
                if (warmup) {
                    warmUp(pool, phaseA);
                }
                String protectedLabel = ModelCard.read(modelDir).checkedProtectedLabel();
                PhaseTally tallyA = new PhaseTally(DemoEvents.trueLabels(phaseA), pool.numLayers(), s, labelS, protectedLabel);
                List<Map<String, Object>> latencyByLoad = new ArrayList<>();
                try (KafkaConsumer<byte[], byte[]> consumer = readCommittedFromStart(settings, topics)) {
                    long startNanos = System.nanoTime();
                    service.start();
                    boolean completeA = follow(consumer, topics, service, List.of(tallyA), () -> false,
                            startNanos + TimeUnit.SECONDS.toNanos(timeoutS));
                    double startupS = tallyA.classifiedCount() == 0 ? Double.NaN
                            : (tallyA.firstArrivalNanos() - startNanos) / 1e9;
                    printThroughput(tallyA, startupS, completeA);
                    Map<String, Object> throughputJson = throughputJson(tallyA, startupS);
                    if (!completeA) {
                        System.err.printf("phase A: %d of %d events did not come back within %d s%n", tallyA.missing(),
                                tallyA.expected(), timeoutS);
                    }
                    boolean ok = completeA && passed(tallyA, "phase A");
                    List<LoadPoint> loads = completeA ? loadPoints(rate, rateFractions,
                            capacity > 0 ? capacity : tallyA.eventsPerSecond()) : List.of();
                    for (int i = 0; i < loads.size(); i++) {
                        LoadPoint load = loads.get(i);
                        List<DemoEvents.LabelledText> phaseB = latencyTexts(texts, n + i * latencyEvents, i);
                        PhaseTally tallyB = new PhaseTally(DemoEvents.trueLabels(phaseB), pool.numLayers(), s, labelS,
                                protectedLabel);
                        double commitsBefore = streamThreadMetric(service, "commit-total");
                        LatencyRun b = latencyPhase(producer, consumer, topics, service, phaseB, tallyB, load);
                        printLatency(tallyB, b, load);
                        Map<String, Object> json = latencyJson(tallyB, b, load);
                        // Kafka Streams' own count of commits (transactions under exactly-once) during the phase, and
                        // its windowed mean commit time: what a commit per flush costs the stream thread.
                        json.put("commits", streamThreadMetric(service, "commit-total") - commitsBefore);
                        json.put("commit_latency_avg_ms", finite(streamThreadMetric(service, "commit-latency-avg")));
                        System.out.printf(Locale.ROOT, "  commits %.0f, mean commit %.1f ms%n", json.get("commits"),
                                streamThreadMetric(service, "commit-latency-avg"));
                        latencyByLoad.add(json);
                        ok &= b.complete() && passed(tallyB, "phase B");
                        if (!b.complete()) {
                            System.err.printf("phase B: %d of %d events did not come back within %d s of the last send%n",
                                    tallyB.missing(), tallyB.expected(), timeoutS);
                            break; // a backlog left behind would be measured as the next phase's latency
                        }
                    }
                    if (jsonFile != null) {
                        Map<String, Object> root = new LinkedHashMap<>();
                        root.put("events", n);
                        // "card": the model card's setting as the card has it; "threshold": one S (--threshold).
                        root.put("setting", fromCard ? "card" : "threshold");
                        root.put("policy", running.policy().name());
                        root.put("threshold", s);
                        root.put("label_thresholds", ClassifierBenchmark.labelThresholdsByName(running, pool.labels()));
                        root.put("batch_size", batchSize);
                        root.put("linger_ms", lingerMs);
                        root.put("commit", commit);
                        // What --rates are fractions of: phase A's own events/s, or --capacity (another run's saturation).
                        root.put("capacity_events_per_s", capacity > 0 ? Double.valueOf(capacity) : finite(tallyA.eventsPerSecond()));
                        root.put("warmup_events", warmupEvents);
                        root.put("throughput", throughputJson);
                        // "latency": one phase, as before --rates existed (summarize.py reads it); every phase is in
                        // "latency_by_load", in the order run.
                        root.put("latency", headlineLatency(latencyByLoad));
                        root.put("latency_by_load", latencyByLoad);
                        root.put("model", pool.modelName());
                        root.put("model_version", pool.modelVersion());
                        root.put("device", service.device());
                        root.put("threshold_source", source);
                        root.put("threads", ClassifierBenchmark.threads(System.getenv()));
                        root.put("complete", ok);
                        ClassifierBenchmark.writeJson(jsonFile, root);
                        System.out.println("JSON: " + jsonFile);
                    }
                    return ok ? 0 : 1;
                }
            }
        } finally {
            deleteStateDir(stateDir);
        }
    }

    private static void deleteStateDir(Path stateDir) {
        try {
            Utils.delete(stateDir.toFile());
        } catch (IOException e) {
            System.err.println("could not delete " + stateDir + ": " + e.getMessage());
        }
    }

    /** Writes every text as a TextEvent (record timestamp = send time) and waits until all are acknowledged. */
    private void produceAll(KafkaProducer<String, TextEvent> producer, Topics topics, List<DemoEvents.LabelledText> texts) {
        for (DemoEvents.LabelledText t : texts) {
            producer.send(record(topics, t.id(), t.text(), System.currentTimeMillis()), failOn(producerFailure));
        }
        producer.flush();
        checkProducer();
    }

    private void checkProducer() {
        Exception e = producerFailure.get();
        if (e != null) {
            throw new IllegalStateException("writing events failed: " + e.getMessage(), e);
        }
    }

    private static org.apache.kafka.clients.producer.Callback failOn(AtomicReference<Exception> failure) {
        return (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        };
    }

    /** Phase B's outcome besides the tally: send times and whether everything came back in time. */
    private record LatencyRun(int sent, long firstSendNanos, long lastSendNanos, boolean complete) {
        double achievedRate() {
            return BenchmarkStats.ratePerSecond(sent, firstSendNanos, lastSendNanos);
        }
    }

    /**
     * One latency phase's input rate.
     *
     * @param fraction the share of phase A's events/s it was derived from ({@code --rates}); null for {@code --rate}
     * @param rate     events/s
     */
    record LoadPoint(Double fraction, double rate) {
    }

    /**
     * @param fixedRate  {@code --rate}; 0 = none
     * @param fractions  {@code --rates}
     * @param saturation phase A's events/s
     * @return the latency phases to run, in order: {@code --rate} first, then one per fraction (none when saturation
     *     is not a positive number)
     */
    static List<LoadPoint> loadPoints(double fixedRate, List<Double> fractions, double saturation) {
        List<LoadPoint> out = new ArrayList<>();
        if (fixedRate > 0) {
            out.add(new LoadPoint(null, fixedRate));
        }
        if (Double.isFinite(saturation) && saturation > 0) {
            for (double f : fractions) {
                out.add(new LoadPoint(f, f * saturation));
            }
        }
        return out;
    }

    /** The fraction of saturation whose latency the JSON's {@code "latency"} shows when there is no {@code --rate}. */
    static final double HEADLINE_FRACTION = 0.4;

    /**
     * @param byLoad every latency phase's JSON, in the order run
     * @return the {@code --rate} phase if there was one, else the phase nearest {@value #HEADLINE_FRACTION} of
     *     saturation; null when there was none
     */
    static Map<String, Object> headlineLatency(List<Map<String, Object>> byLoad) {
        Map<String, Object> best = null;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (Map<String, Object> m : byLoad) {
            if (!(m.get("fraction") instanceof Double f)) {
                return m; // the --rate phase
            }
            double distance = Math.abs(f - HEADLINE_FRACTION);
            if (distance < bestDistance) {
                best = m;
                bestDistance = distance;
            }
        }
        return best;
    }

    private LatencyRun latencyPhase(KafkaProducer<String, TextEvent> producer, KafkaConsumer<byte[], byte[]> consumer,
                                    Topics topics, StreamsService service, List<DemoEvents.LabelledText> phaseB,
                                    PhaseTally tally, LoadPoint load) throws InterruptedException {
        double rate = load.rate();
        System.out.printf(Locale.ROOT, "phase B: %d events at %.2f events/s%s%n", phaseB.size(), rate,
                load.fraction() == null ? "" : String.format(Locale.ROOT, " (%.2f x phase A's)", load.fraction()));
        AtomicInteger next = new AtomicInteger();
        AtomicLong firstSend = new AtomicLong();
        AtomicLong lastSend = new AtomicLong();
        CountDownLatch allSent = new CountDownLatch(1);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-benchmark-sender");
            t.setDaemon(true);
            return t;
        });
        long periodNanos = Math.max(1, Math.round(1e9 / rate));
        ScheduledFuture<?> sender = scheduler.scheduleAtFixedRate(() -> {
            int i = next.get();
            if (i >= phaseB.size() || producerFailure.get() != null) {
                allSent.countDown();
                throw new IllegalStateException("done"); // ends the fixed-rate schedule
            }
            DemoEvents.LabelledText t = phaseB.get(i);
            long sendNanos = System.nanoTime();
            producer.send(record(topics, t.id(), t.text(), System.currentTimeMillis()), failOn(producerFailure));
            if (i == 0) {
                firstSend.set(sendNanos);
            }
            lastSend.set(sendNanos);
            next.incrementAndGet();
        }, 0, periodNanos, TimeUnit.NANOSECONDS);
        try {
            long sendingNanos = (long) (phaseB.size() / rate * 1e9);
            long deadline = System.nanoTime() + sendingNanos + TimeUnit.SECONDS.toNanos(timeoutS);
            boolean complete = follow(consumer, topics, service, List.of(tally), () -> {
                checkProducer();
                return false;
            }, deadline);
            allSent.await(1, TimeUnit.SECONDS);
            return new LatencyRun(next.get(), firstSend.get(), lastSend.get(), complete);
        } finally {
            sender.cancel(false);
            scheduler.shutdownNow();
            producer.flush();
        }
    }

    /**
     * Polls the output and dead-letter topics into the tallies until each is complete or the deadline passes.
     *
     * @return whether every tally completed in time
     */
    private static boolean follow(KafkaConsumer<byte[], byte[]> consumer, Topics topics, StreamsService service,
                                  List<PhaseTally> tallies, CheckedCondition abort, long deadlineNanos) {
        while (!tallies.stream().allMatch(PhaseTally::complete)) {
            if (System.nanoTime() > deadlineNanos) {
                return false;
            }
            ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
            long arrivalNanos = System.nanoTime();
            long arrivalMs = System.currentTimeMillis();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                String id = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
                PhaseTally tally = tallies.stream().filter(t -> id != null && t.expects(id)).findFirst().orElse(null);
                if (tally == null) {
                    continue;
                }
                if (r.topic().equals(topics.output().name())) {
                    ClassifiedEvent e = topics.output().valueSerde().deserializer().deserialize(r.topic(), r.headers(), r.value());
                    if (tally.classified(id, e.getLabel(), e.getExitLayer(), e.getBatchSize(), e.getThreshold(),
                            e.getLabelThresholds(), arrivalNanos, arrivalMs - r.timestamp(), e.getProcessingTimeMs())) {
                        long processedAtMs = e.getProcessedAt().toEpochMilli();
                        double batchMs = e.getProcessingTimeMs() * e.getBatchSize();
                        tally.stages(processedAtMs - batchMs - r.timestamp(), batchMs, arrivalMs - processedAtMs);
                    }
                } else {
                    tally.deadLettered(id);
                }
            }
            if (abort.test()) {
                return false;
            }
            KafkaStreams.State state = service.streams().state();
            if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
                    || state == KafkaStreams.State.NOT_RUNNING) {
                throw new IllegalStateException("Kafka Streams stopped (state " + state + ")");
            }
        }
        return true;
    }

    @FunctionalInterface
    private interface CheckedCondition {
        boolean test();
    }

    /** @return whether the phase is clean: nothing dead-lettered, every event under the expected S */
    private static boolean passed(PhaseTally t, String phase) {
        boolean ok = true;
        if (t.deadLetteredCount() > 0) {
            System.err.printf("%s: %d of %d events were dead-lettered%n", phase, t.deadLetteredCount(), t.expected());
            ok = false;
        }
        if (t.thresholdMismatches() > 0) {
            System.err.printf("%s: %d events were classified under another setting than the benchmark's%n", phase,
                    t.thresholdMismatches());
            ok = false;
        }
        return ok;
    }

    private static void printThroughput(PhaseTally t, double startupS, boolean complete) {
        System.out.printf(Locale.ROOT, "throughput: %d of %d classified%s; %.1f events/s over %.2f s (first to last output); "
                        + "start to first output %.2f s; mean batch %.1f; exits %s; expected saving %.3f; accuracy %s%s%n",
                t.classifiedCount(), t.expected(), complete ? "" : " (TIMED OUT, " + t.missing() + " missing)",
                t.eventsPerSecond(), t.firstToLastSeconds(), startupS, t.meanBatch(),
                Arrays.toString(t.exitHistogram()), t.expectedSaving(), format(t.accuracy()),
                t.protectedLabel() == null ? "" : "; " + t.protectedLabel() + " recall " + format(t.protectedRecall()));
    }

    private static void printLatency(PhaseTally t, LatencyRun b, LoadPoint load) {
        BenchmarkStats.LatencySummary l = t.latency();
        System.out.printf(Locale.ROOT, "latency%s: %d of %d classified%s at %.2f events/s (asked %.2f); p50 %.0f ms, "
                        + "p90 %.0f ms, p99 %.0f ms, max %.0f ms; mean batch %.1f%n",
                load.fraction() == null ? "" : String.format(Locale.ROOT, " @ %.2f x saturation", load.fraction()),
                t.classifiedCount(), t.expected(), b.complete() ? "" : " (TIMED OUT, " + t.missing() + " missing)",
                b.achievedRate(), load.rate(), l.p50Ms(), l.p90Ms(), l.p99Ms(), l.maxMs(), t.meanBatch());
        StringBuilder stages = new StringBuilder("  stages p50/p99 ms:");
        t.stageLatency().forEach((stage, s) -> stages.append(String.format(Locale.ROOT, " %s %.0f/%.0f", stage,
                s.p50Ms(), s.p99Ms())));
        System.out.println(stages);
    }

    private static Map<String, Object> throughputJson(PhaseTally t, double startupS) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("events_per_s", finite(t.eventsPerSecond()));
        m.put("first_to_last_s", t.firstToLastSeconds());
        m.put("startup_to_first_output_s", finite(startupS));
        m.put("mean_batch", finite(t.meanBatch()));
        // Where the stream's time goes: the classifier's own share, and its speed inside the service.
        m.put("classifier_busy_s", t.classifierBusySeconds());
        m.put("classifier_events_per_s_in_stream", finite(t.classifiedCount() / t.classifierBusySeconds()));
        m.put("exit_histogram", t.exitHistogram());
        m.put("expected_saving", t.expectedSaving());
        m.put("accuracy", t.accuracy());
        m.put("protected_label", t.protectedLabel());
        m.put("protected_recall", t.protectedRecall());
        m.put("classified", t.classifiedCount());
        m.put("dead_lettered", t.deadLetteredCount());
        m.put("missing", t.missing());
        return m;
    }

    private static Map<String, Object> latencyJson(PhaseTally t, LatencyRun b, LoadPoint load) {
        BenchmarkStats.LatencySummary l = t.latency();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fraction", load.fraction());
        m.put("rate_per_s", load.rate());
        m.put("achieved_rate_per_s", finite(b.achievedRate()));
        m.put("events", t.expected());
        m.put("p50_ms", l.p50Ms());
        m.put("p90_ms", l.p90Ms());
        m.put("p99_ms", l.p99Ms());
        m.put("max_ms", l.maxMs());
        m.put("mean_batch", finite(t.meanBatch()));
        // Where the latency went (PhaseTally.stages): waiting to be classified, the batch's classification, and
        // processed_at -> visible to a read_committed consumer (the exactly-once commit).
        t.stageLatency().forEach((stage, s) -> {
            m.put(stage + "_p50_ms", s.p50Ms());
            m.put(stage + "_p99_ms", s.p99Ms());
        });
        m.put("classified", t.classifiedCount());
        m.put("dead_lettered", t.deadLetteredCount());
        m.put("missing", t.missing());
        return m;
    }

    /**
     * @param name a stream-thread-metrics metric, e.g. {@code commit-total} or {@code commit-latency-avg} (ms)
     * @return its value summed over the service's stream threads; NaN when none reports a number
     */
    private static double streamThreadMetric(StreamsService service, String name) {
        double sum = Double.NaN;
        for (var e : service.streams().metrics().entrySet()) {
            if (e.getKey().group().equals("stream-thread-metrics") && e.getKey().name().equals(name)
                    && e.getValue().metricValue() instanceof Number v && Double.isFinite(v.doubleValue())) {
                sum = (Double.isNaN(sum) ? 0 : sum) + v.doubleValue();
            }
        }
        return sum;
    }

    /** JSON has no NaN: null instead. */
    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String format(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
    }

    /**
     * A latency phase's texts: the file's events from {@code from} on, wrapping around, under new ids unique to
     * the phase.
     */
    private List<DemoEvents.LabelledText> latencyTexts(List<DemoEvents.LabelledText> texts, int from, int phase) {
        List<DemoEvents.LabelledText> out = new ArrayList<>(latencyEvents);
        for (int i = 0; i < latencyEvents; i++) {
            DemoEvents.LabelledText t = texts.get((from + i) % texts.size());
            out.add(new DemoEvents.LabelledText("deebert-bench-latency-" + (phase == 0 ? "" : phase + "-") + i,
                    t.text(), t.label()));
        }
        return out;
    }

    /**
     * The service's settings through the production path ({@link AppSettings#load}: the classpath defaults,
     * then the environment), with this run's values given as their {@code DEEBERT_*} variables.
     */
    private AppSettings settings(String runId, Path stateDir) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("application.id", runId);
        overrides.put("bootstrap.servers", bootstrapServers);
        overrides.put("schema.registry.url", schemaRegistryUrl);
        overrides.put("topic.input", runId + "-text-events");
        overrides.put("topic.output", runId + "-text-events-classified");
        overrides.put("topic.control", runId + "-control");
        overrides.put("topic.dead.letter", runId + "-text-events-dlq");
        overrides.put("topics.create", "true");
        // One input partition: one task sees every event, so batches fill up to classifier.batch.max.size.
        overrides.put("topics.partitions", "1");
        overrides.put("model.dir", modelDir.toString());
        overrides.put("classifier.batch.max.size", Integer.toString(batchSize));
        overrides.put("classifier.batch.linger.ms", Integer.toString(lingerMs));
        overrides.put("classifier.batch.commit", commit);
        overrides.put("kafka.state.dir", stateDir.toString());
        overrides.put("http.port", "0");
        Map<String, String> env = new HashMap<>(System.getenv());
        overrides.forEach((key, value) -> env.put(AppSettings.envName(key), value));
        return AppSettings.load(null, env);
    }

    private static KafkaProducer<String, TextEvent> producer(AppSettings settings, Topics topics) {
        Properties props = settings.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // No producer-side batching delay: in phase B a send is on the wire at once, so latency is the service's.
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        return new KafkaProducer<>(props, new StringSerializer(), topics.input().valueSerde().serializer());
    }

    /** A TextEvent record whose record timestamp and event_time are both {@code nowMs}. */
    private static ProducerRecord<String, TextEvent> record(Topics topics, String id, String text, long nowMs) {
        TextEvent event = TextEvent.newBuilder().setId(id).setText(text).setEventTime(Instant.ofEpochMilli(nowMs))
                .setSource(CHANGED_BY).build();
        return new ProducerRecord<>(topics.input().name(), null, nowMs, id, event);
    }

    /** One batch through every layer on the classifier the stream thread will use (as the demo does). */
    private void warmUp(ClassifierPool pool, List<DemoEvents.LabelledText> texts) {
        List<String> batch = texts.subList(0, Math.min(batchSize, texts.size())).stream()
                .map(DemoEvents.LabelledText::text).toList();
        long start = System.nanoTime();
        ClassifierPool.Lease lease = pool.acquire();
        try {
            lease.classifier().classify(ClassifyRequest.of(batch, ExitSetting.entropy(0.0)));
        } finally {
            pool.release(lease);
        }
        System.out.printf(Locale.ROOT, "warm-up: one batch of %d through all %d layers in %.1f s%n", batch.size(),
                pool.numLayers(), (System.nanoTime() - start) / 1e9);
    }

    private KafkaConsumer<byte[], byte[]> readCommittedFromStart(AppSettings settings, Topics topics) {
        Properties p = settings.clientProperties();
        // Only committed transactions: what a downstream consumer of the exactly-once service sees.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            // Assigned, not subscribed: no consumer group, so no rebalance delay, and every partition from offset 0.
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(topics.output().name(), topics.deadLetter().name())) {
                for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(timeoutS))) {
                    partitions.add(new TopicPartition(topic, info.partition()));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            return consumer;
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    private static int usage(String message) {
        System.err.println("stream-benchmark: " + message);
        return 2;
    }

    /** @param args options (see {@code --help}); the process exits with the benchmark's exit code */
    public static void main(String[] args) {
        System.exit(new CommandLine(new StreamBenchmark()).execute(args));
    }
}
