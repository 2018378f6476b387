package org.deebert.streams.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.ControlTopicWriter;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code demo}: the whole system on one machine in one command. Starts a Kafka broker in this JVM and
 * the Schema Registry as a child process, runs the service exactly as {@code run} does (through
 * {@link StreamsService}), writes the labelled emails as TextEvents plus one malformed record, changes
 * the threshold S through the control topic half-way (as {@code control set-threshold} does), reads the
 * output and dead-letter topics back (read_committed) and prints a live line every second and a
 * per-phase summary at the end. The summary also goes to {@code deploy/local/target/demo-summary.json}.
 *
 * <p>Then, unless {@code --no-budget-phase}, the accuracy-budget phase ({@link BudgetPhase}): the same emails
 * ordered easy to hard by their own off-ramp entropies, streamed at a steady pace once at the model card's fixed
 * setting (per label when the card's is label-conditional) and once under an accuracy budget whose controller
 * moves one S for every label; its table compares the two per half (disagreement with the full model, the
 * protected label's recall, expected saving, the setting) and goes into the JSON too.
 *
 * <p>Half-way means: once the first half of the events has come back, the demo sends the control message
 * and only then writes the second half. Each classified event is attributed to a phase by the setting it
 * records (S, and S by label when label-conditional), not by arrival time. Message text is never printed.
 *
 * <p>Exit codes: 0 when every record came back (classified or dead-lettered), 1 on a runtime failure
 * or a stall, 2 on a usage error (missing model or events file, equal thresholds).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "One-command demo: embedded Kafka broker and Schema Registry, the service, labelled emails in, "
                + "a threshold change half-way through the control topic, a live view and a per-phase summary; then "
                + "the emails again, easy to hard, at the card's fixed setting and under an accuracy budget.")
public final class Demo implements Callable<Integer> {

    /** Default model directory, relative to the repository root. */
    static final Path DEFAULT_MODEL_DIR = Path.of("model-export", "models", "deebert-spamassassin-minilm-l6");
    /** Default labelled input (the test split written by {@code python -m deebert_export prepare}), relative to the root. */
    static final Path DEFAULT_EVENTS = Path.of("model-export", "build", "spamassassin", "data", "test.jsonl");
    /** Where the JSON summary goes, relative to the root. */
    static final Path SUMMARY_JSON = Path.of("deploy", "local", "target", "demo-summary.json");

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    private static final Duration LIVE_INTERVAL = Duration.ofSeconds(1);
    private static final String CHANGED_BY = "deebert-demo";

    @Option(names = "--model-dir", paramLabel = "DIR",
            description = "Exported model directory (default: model-export/models/deebert-spamassassin-minilm-l6 under the repository root).")
    Path modelDir;

    @Option(names = "--events", paramLabel = "FILE",
            description = "JSON Lines {\"id\",\"text\",\"label\"} (default: model-export/build/spamassassin/data/test.jsonl).")
    Path events;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
            description = "Send only the first N events; 0 = all (default).")
    int limit;

    @Option(names = "--initial-threshold", paramLabel = "S",
            description = "One S in nats, for every label, for the first half, set through the control topic (default: the "
                    + "model card's recommended setting as the card has it, per label when label-conditional; no control "
                    + "message).")
    Double initialThreshold;

    @Option(names = "--switch-threshold", paramLabel = "S", defaultValue = "0.0",
            description = "S in nats set through the control topic half-way (default: ${DEFAULT-VALUE} = no early exit, "
                    + "every event runs all layers).")
    double switchThreshold;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "EVENTS_PER_S",
            description = "Events/s to write; 0 = unlimited (default).")
    double rate;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N",
            description = "The service's classifier.batch.max.size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--registry-jar", paramLabel = "JAR",
            description = "Schema Registry app (default: built by deploy/schema-registry under the repository root).")
    Path registryJar;

    @Option(names = "--budget-phase", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "After the threshold phases, stream the emails twice more, ordered easy -> hard by their off-ramp "
                    + "entropies: at the card's fixed setting, then under an accuracy budget (default: on; --no-budget-phase "
                    + "skips it).")
    boolean budgetPhase;

    @Option(names = "--budget-max-disagreement", defaultValue = "0.05", paramLabel = "SHARE",
            description = "The budget phase's budget: largest share of answers that may differ from the full model's "
                    + "(default: ${DEFAULT-VALUE}).")
    double budgetMaxDisagreement;

    @Option(names = "--budget-sample-rate", defaultValue = "1.0", paramLabel = "SHARE",
            description = "The budget phase's shadow sample rate, in (0, 1] (default: ${DEFAULT-VALUE}).")
    double budgetSampleRate;

    @Option(names = "--stall-timeout", defaultValue = "180", paramLabel = "SECONDS",
            description = "Fail when no record comes back for this long (default: ${DEFAULT-VALUE} s).")
    long stallTimeoutS;

    /** Picocli creates the command through this constructor. */
    public Demo() {
    }

    /**
     * The demo's own entry point (the service's {@code deebert-streams} CLI does not carry it).
     *
     * @param args demo options; {@code --help} lists them
     */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new Demo()).execute(args));
    }

    @Override
    public Integer call() {
        Path root = repositoryRoot(Path.of("").toAbsolutePath());
        Path model = modelDir != null ? modelDir : root.resolve(DEFAULT_MODEL_DIR);
        Path eventsFile = events != null ? events : root.resolve(DEFAULT_EVENTS);
        if (!Files.isRegularFile(model.resolve(ModelCard.FILE_NAME))) {
            return usage("no model at " + model + " (no " + ModelCard.FILE_NAME + "); train and export one with "
                    + "`model-export/.venv/bin/python -m deebert_export run`, or pass --model-dir");
        }
        if (!Files.isRegularFile(eventsFile)) {
            return usage("no events file " + eventsFile + "; write it with `model-export/.venv/bin/python -m deebert_export prepare`, "
                    + "or pass --events");
        }
        if (rate < 0 || batchSize < 1 || limit < 0 || stallTimeoutS < 1) {
            return usage("--rate and --limit must be >= 0, --batch-size and --stall-timeout >= 1");
        }
        List<DemoEvents.LabelledText> texts;
        ExitSetting recommended;
        String protectedLabel;
        try {
            texts = DemoEvents.read(eventsFile, limit);
            ModelCard card = ModelCard.read(model);
            recommended = card.recommendedSetting();
            protectedLabel = card.checkedProtectedLabel();
        } catch (IllegalArgumentException | UncheckedIOException e) {
            return usage(e.getMessage());
        }
        if (texts.size() < 2) {
            return usage(eventsFile + " holds " + texts.size() + " events; the demo needs at least 2 (one per phase)");
        }
        // Without --initial-threshold the first phase runs the card's setting as the card has it (per label when
        // label-conditional), with no control message; --initial-threshold sets one S for every label instead.
        boolean initialFromCard = initialThreshold == null || (recommended.labelThresholds() == null
                && Double.compare(initialThreshold, recommended.threshold()) == 0);
        double initialS = initialFromCard ? recommended.threshold() : initialThreshold;
        List<Double> initialLabelS = initialFromCard ? recommended.labelThresholds() : null;
        for (double s : new double[] {initialS, switchThreshold}) {
            if (!Double.isFinite(s) || s < 0) {
                return usage("thresholds must be finite and >= 0 nats, got " + s);
            }
        }
        if (initialLabelS == null && Double.compare(initialS, switchThreshold) == 0) {
            return usage("--switch-threshold equals the initial S=" + initialS + "; pick a different one");
        }
        if (budgetPhase) {
            try {
                BudgetPhase.budget(recommended, budgetMaxDisagreement, budgetSampleRate);
            } catch (IllegalArgumentException e) {
                return usage("budget phase: " + e.getMessage() + " (or pass --no-budget-phase)");
            }
        }
        // Ctrl-C: interrupt the demo and let it close the service, registry and broker and delete their files.
        Thread demoThread = Thread.currentThread();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            demoThread.interrupt();
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "deebert-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(root, model, eventsFile, texts, recommended, initialFromCard, initialS, protectedLabel);
        } catch (InterruptedException | InterruptException e) {
            System.err.println("demo interrupted");
            return 1;
        } catch (RuntimeException e) {
            LOG.error("demo failed", e);
            System.err.println("demo failed: " + e.getMessage() + " (" + e.getClass().getSimpleName()
                    + "; the log has the details)");
            return 1;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook is running and has just been released.
            }
        }
    }

    /**
     * @param initialFromCard whether the first phase runs the card's setting (no control message); else one S,
     *                        {@code initialS}, is set through the control topic before the service starts
     * @param initialS        S in nats of the first phase (the card's {@code value} when {@code initialFromCard})
     */
    private int run(Path root, Path model, Path eventsFile, List<DemoEvents.LabelledText> texts, ExitSetting recommended,
                    boolean initialFromCard, double initialS, String protectedLabel) throws InterruptedException {
        Path stateDir = createTempDirectory();
        System.out.println("Starting Kafka (in-process) and the Schema Registry (child process)...");
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker().start();
             SchemaRegistryServer registry = new SchemaRegistryServer(registryJar != null ? registryJar : root).start()) {
            AppSettings settings = settings(broker.bootstrapServers(), registry.url(), model, stateDir);
            System.out.printf("Kafka at %s, Schema Registry at %s; loading model %s%n", broker.bootstrapServers(),
                    registry.url(), model);
            try (StreamsService service = StreamsService.create(settings, true)) {
                String modelName = service.pool().modelName();
                ExitPolicy policy = recommended.policy();
                int firstHalf = texts.size() / 2;
                List<String> labels = service.pool().labels();
                List<Double> initialLabelS = initialFromCard ? recommended.labelThresholds() : null;
                String initialSource = "model card";
                if (!initialFromCard) {
                    // Before the start: Kafka Streams restores the global threshold store before it classifies anything.
                    setThreshold(settings, modelName, initialS, policy, "demo: initial threshold from --initial-threshold");
                    initialSource = "control topic";
                }
                System.out.printf(Locale.ROOT, "Plan: %d events at %s nats (%s, %s), then S=%s nats for every label through "
                                + "the control topic for the other %d; plus 1 malformed record for the dead-letter topic%s%n",
                        firstHalf, initialLabelS == null ? "S=" + initialS : "S by predicted label "
                                + DemoReport.setting(initialS, initialLabelS, labels), initialSource, policy, switchThreshold,
                        texts.size() - firstHalf,
                        budgetPhase ? "; then the budget phase (the " + texts.size() + " emails twice more, easy -> hard)" : "");
                if (initialLabelS != null) {
                    System.out.println("The model card's setting is label-conditional: an input leaves at layer i when its "
                            + "entropy is below the S of the label off-ramp i predicts; the switch replaces it with one S");
                }
                warmUp(service.pool(), texts);
                List<DifficultyOrder.Email> ordered = budgetPhase ? BudgetPhase.prepare(service.pool(), texts) : null;
                service.start();

                DemoTally tally = new DemoTally(DemoEvents.trueLabels(texts), Set.of(DemoProducer.MALFORMED_KEY),
                        service.pool().numLayers(), initialS, initialLabelS, switchThreshold, protectedLabel);
                Topics clientTopics = Topics.create(settings.topics(), settings.schemaRegistryClient());
                CountDownLatch switched = new CountDownLatch(1);
                DemoProducer producer = new DemoProducer(settings.clientProperties(), clientTopics, texts, firstHalf, rate, switched);
                Thread producerThread = new Thread(producer, "deebert-demo-producer");
                producerThread.setDaemon(true);
                producerThread.start();
                try (KafkaConsumer<byte[], byte[]> consumer = readCommittedFromStart(settings, clientTopics)) {
                    follow(consumer, clientTopics, tally, service, producer, labels, firstHalf + 1, () ->
                            setThreshold(settings, modelName, switchThreshold, policy,
                                    "demo: half-way switch to show the effect of S"), switched);
                } finally {
                    producerThread.interrupt();
                    producerThread.join(10_000);
                }

                DemoReport.Run run = new DemoReport.Run(modelName, service.pool().modelVersion(), service.pool().numLayers(),
                        labels, service.device(), root.relativize(eventsFile.toAbsolutePath()).toString(), texts.size(), batchSize, rate);
                System.out.println();
                System.out.println(DemoReport.summary(run, tally));
                Map<String, Object> summary = new LinkedHashMap<>(DemoReport.summaryJson(run, tally));
                Path json = root.resolve(SUMMARY_JSON);
                // Written now, so that a failed budget phase still leaves the threshold phases' summary behind.
                DemoReport.writeJson(json, summary);
                if (ordered != null) {
                    BudgetReport.Result budget = new BudgetPhase(settings, service, clientTopics, recommended, protectedLabel,
                            budgetMaxDisagreement, budgetSampleRate, Duration.ofSeconds(stallTimeoutS)).run(ordered);
                    System.out.println();
                    System.out.println(BudgetReport.table(budget));
                    summary.put("budget_phase", BudgetReport.json(budget));
                    DemoReport.writeJson(json, summary);
                }
                System.out.println("Summary JSON: " + json);
                System.out.println("Shutting down...");
            }
        } finally {
            deleteRecursively(stateDir);
        }
        return 0;
    }

    /**
     * Runs one batch through every layer before the service starts, on the classifier its stream thread
     * will use: TensorFlow's first calls are several times slower, and without this the first phase
     * would carry that cost alone and look slower than it is.
     */
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
        System.out.printf(Locale.ROOT, "Model warmed up: one batch of %d through all %d layers in %.1f s%n", batch.size(),
                pool.numLayers(), (System.nanoTime() - start) / 1e9);
    }

    /** Reads both result topics until every record sent is accounted for; prints the live view. */
    private void follow(KafkaConsumer<byte[], byte[]> consumer, Topics topics, DemoTally tally, StreamsService service,
                        DemoProducer producer, List<String> labels, int switchAfter, ThrowingRunnable sendSwitch,
                        CountDownLatch switched) throws InterruptedException {
        long lastProgress = System.nanoTime();
        long nextLive = lastProgress + LIVE_INTERVAL.toNanos();
        LiveView live = new LiveView(labels);
        try {
            while (!tally.complete()) {
                boolean progress = false;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    progress |= count(r, topics, tally);
                }
                long now = System.nanoTime();
                if (progress) {
                    lastProgress = now;
                }
                boolean switchNow = switched.getCount() > 0 && tally.accountedFor() >= switchAfter;
                if (now >= nextLive || switchNow || tally.complete()) {
                    live.print(now, tally, producer.firstSendNanos());
                    nextLive = now + LIVE_INTERVAL.toNanos();
                }
                if (switchNow) {
                    live.endLine();
                    RecordMetadata at = sendSwitch.run();
                    System.out.printf(Locale.ROOT, "--- half-way: %d of %d records back; S set to %s nats through the control topic (%s-%d@%d)%n",
                            tally.accountedFor(), tally.expected(), switchThreshold, at.topic(), at.partition(), at.offset());
                    switched.countDown();
                    lastProgress = now;
                }
                if (producer.failure() != null) {
                    throw new IllegalStateException("writing events failed: " + producer.failure().getMessage(), producer.failure());
                }
                KafkaStreams.State state = service.streams().state();
                if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
                        || state == KafkaStreams.State.NOT_RUNNING) {
                    throw new IllegalStateException("Kafka Streams stopped (state " + state + ")");
                }
                if (now - lastProgress > Duration.ofSeconds(stallTimeoutS).toNanos()) {
                    throw new IllegalStateException("no record came back for " + stallTimeoutS + " s; " + tally.accountedFor()
                            + " of " + tally.expected() + " records accounted for");
                }
            }
        } finally {
            live.endLine();
        }
    }

    /** @return whether the record was one the demo sent and had not seen yet */
    private static boolean count(ConsumerRecord<byte[], byte[]> r, Topics topics, DemoTally tally) {
        String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
        if (r.topic().equals(topics.output().name())) {
            return tally.classified(key, topics.output().valueSerde().deserializer().deserialize(r.topic(), r.headers(), r.value()));
        }
        Header code = r.headers().lastHeader(DeadLetterCode.HEADER);
        return tally.deadLettered(key, code == null ? null : new String(code.value(), StandardCharsets.UTF_8));
    }

    /**
     * Prints the live line; the rate is measured here, from what came back since the previous line. On a
     * terminal the line is rewritten in place; otherwise (a pipe, a CI log) one line per update.
     */
    private static final class LiveView {
        private final boolean inPlace = System.console() != null;
        private final List<String> labels;
        private boolean lineOpen;
        private long previousNanos;
        private long previousClassified;

        LiveView(List<String> labels) {
            this.labels = labels;
        }

        void print(long now, DemoTally tally, long firstSendNanos) {
            double rate = previousNanos == 0 || now == previousNanos ? 0
                    : (tally.classifiedCount() - previousClassified) * 1e9 / (now - previousNanos);
            double elapsedS = firstSendNanos == 0 ? 0 : (now - firstSendNanos) / 1e9;
            String line = DemoReport.liveLine(elapsedS, tally, rate, labels);
            if (inPlace) {
                // Carriage return, the line, then ANSI "erase to end of line" in case the new line is shorter.
                System.out.print("\r" + line + "\u001b[K");
                System.out.flush();
                lineOpen = true;
            } else {
                System.out.println(line);
            }
            previousNanos = now;
            previousClassified = tally.classifiedCount();
        }

        /** Ends the line being rewritten, so that the next message starts on a line of its own. */
        void endLine() {
            if (lineOpen) {
                System.out.println();
                lineOpen = false;
            }
        }
    }

    /** The control-message send, deferred until half-way. */
    @FunctionalInterface
    private interface ThrowingRunnable {
        RecordMetadata run() throws InterruptedException;
    }

    private static RecordMetadata setThreshold(AppSettings settings, String model, double s, ExitPolicy policy,
                                               String reason) throws InterruptedException {
        // The same two steps as `control set-threshold`: validate with the service's rules, then produce.
        return ControlTopicWriter.send(settings, model, ControlTopicWriter.thresholdMessage(model, s, policy, CHANGED_BY,
                reason));
    }

    private static KafkaConsumer<byte[], byte[]> readCommittedFromStart(AppSettings settings, Topics topics) {
        Properties p = settings.clientProperties();
        // Only committed transactions: what a downstream consumer of an exactly-once service sees.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        // Assigned, not subscribed: no consumer group, so no rebalance delay, and every partition from offset 0.
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(topics.output().name(), topics.deadLetter().name())) {
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private AppSettings settings(String bootstrap, String registryUrl, Path model, Path stateDir) {
        // The demo is self-contained: DEEBERT_* variables, meant for `run` against real clusters, are not read.
        return AppSettings.withDefaults(Map.of(
                "application.id", "deebert-demo",
                "bootstrap.servers", bootstrap,
                "schema.registry.url", registryUrl,
                "model.dir", model.toString(),
                "classifier.batch.max.size", Integer.toString(batchSize),
                // One input partition, so one task sees every event and batches fill up to classifier.batch.max.size.
                "topics.partitions", "1",
                "kafka.state.dir", stateDir.toString(),
                // Any free port: a second demo, or a service already on 8080, must not stop this one.
                "http.port", "0"));
    }

    /**
     * @param start where to start looking (the working directory)
     * @return the nearest directory at or above {@code start} that holds {@code model-export/}; {@code start}
     *     itself when there is none
     */
    static Path repositoryRoot(Path start) {
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("model-export"))) {
                return dir;
            }
        }
        return start.toAbsolutePath();
    }

    private static int usage(String message) {
        System.err.println("demo: " + message);
        return 2;
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("deebert-demo-state-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a state directory", e);
        }
    }

    private static void deleteRecursively(Path root) {
        try {
            Utils.delete(root.toFile()); // Kafka's own recursive delete
        } catch (IOException e) {
            // A leftover temporary directory is harmless; it must not turn a good run into a failure.
            System.err.println("could not delete " + root + ": " + e.getMessage());
        }
    }
}
