package org.deebert.streams.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.deebert.streams.classifier.BatchResult;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;
import org.deebert.streams.classifier.ExpectedSaving;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Throughput and latency of {@link EarlyExitClassifier} per (batch size, threshold S), without Kafka.
 * For each combination it warms up, then classifies the texts in consecutive batches and prints
 * events/s, mean/p50/p99 latency per batch in ms, the exit histogram, the expected saving (DeeBERT
 * eq. 2, {@link ExpectedSaving}) and, when the texts carry a {@code label}, the accuracy.
 *
 * <p>With {@code --repeats K} every combination is measured K times, round-robin (all combinations
 * once, then all again, ...), so slow phases of a shared machine hit every combination alike; the line
 * (and JSON entry) of a combination is its median run by events/s, with the latencies of all K runs
 * pooled. {@code --json FILE} writes every result as JSON.
 *
 * <pre>
 * java -cp "benchmark/target/classes:$(cat benchmark/target/classpath.txt)" \
 *   org.deebert.streams.benchmark.ClassifierBenchmark \
 *   model-export/models/deebert-spamassassin-minilm-l6 model-export/build/spamassassin/data/test.jsonl \
 *   --batch-sizes 1,8,32 --thresholds 0,0.141725,0.7 --limit 256 --repeats 3 --json classifier.json
 * </pre>
 */
@Command(name = "classifier-benchmark", mixinStandardHelpOptions = true,
        description = "Early-exit classifier throughput/latency per batch size and threshold S (nats).")
public final class ClassifierBenchmark implements Callable<Integer> {

    /** Environment variable that sets TensorFlow's intra-op thread pool size (reported in the JSON). */
    public static final String INTRA_OP_THREADS_ENV = "TF_NUM_INTRAOP_THREADS";

    @Parameters(index = "0", description = "exported model directory")
    private Path modelDir;

    @Parameters(index = "1", description = "JSON lines with a \"text\" field (and optionally \"label\")")
    private Path textsFile;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8,32", description = "batch sizes")
    private int[] batchSizes;

    @Option(names = "--thresholds", split = ",", defaultValue = "0,0.05,0.2",
            description = "thresholds S in nats")
    private double[] thresholds;

    @Option(names = "--policy", defaultValue = "ENTROPY", description = "ENTROPY or DIVERGENCE")
    private ExitPolicy policy;

    @Option(names = "--device", defaultValue = "AUTO", description = "AUTO, CPU or GPU")
    private ClassifierOptions.DevicePreference device;

    @Option(names = "--precision", defaultValue = "FLOAT32",
            description = "FLOAT32 (exact parity with Python) or BFLOAT16 (oneDNN auto mixed precision, opt-in)")
    private ClassifierOptions.Precision precision;

    @Option(names = "--limit", defaultValue = "0", description = "use the first N texts (0 = all)")
    private int limit;

    @Option(names = "--warmup-batches", defaultValue = "5", description = "unmeasured batches per measurement")
    private int warmupBatches;

    @Option(names = "--repeats", defaultValue = "1",
            description = "measure each combination K times, round-robin; report the median run by events/s "
                    + "(latencies pooled over all K) (default: ${DEFAULT-VALUE})")
    private int repeats;

    @Option(names = "--json", paramLabel = "FILE", description = "also write every result as JSON to FILE")
    private Path jsonFile;

    /** One measured pass over all texts with one (batch size, S). */
    private record Run(double seconds, double eventsPerSecond, long[] histogram, int correct, List<Double> latenciesMs) {
    }

    /** One (batch size, S) combination and its K runs. */
    private record Combination(int batchSize, ExitSetting setting, List<Run> runs) {
    }

    @Override
    public Integer call() throws IOException {
        if (repeats < 1 || warmupBatches < 0 || limit < 0 || Arrays.stream(batchSizes).anyMatch(b -> b < 1)) {
            System.err.println("classifier-benchmark: --repeats and batch sizes must be >= 1, --limit and --warmup-batches >= 0");
            return 2;
        }
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        readTexts(texts, labels);
        boolean labelled = labels.stream().allMatch(l -> l != null);
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(modelDir,
                new ClassifierOptions(device, maxBatch).withPrecision(precision))) {
            System.out.printf(Locale.ROOT, "model %s %s, %d layers, %d texts, device %s, policy %s, precision %s%n",
                    classifier.modelName(), classifier.modelVersion(), classifier.numLayers(), texts.size(),
                    classifier.device(), policy, classifier.precision());
            List<Combination> combinations = new ArrayList<>();
            for (int batchSize : batchSizes) {
                for (double s : thresholds) {
                    combinations.add(new Combination(batchSize, new ExitSetting(policy, s), new ArrayList<>()));
                }
            }
            System.out.println("batch\tS\tevents/s\tmean_ms\tp50_ms\tp99_ms\texit_histogram\texpected_saving\taccuracy");
            List<Map<String, Object>> results = new ArrayList<>();
            for (int round = 0; round < repeats; round++) {
                if (repeats > 1) {
                    System.err.printf(Locale.ROOT, "round %d of %d%n", round + 1, repeats);
                }
                for (Combination c : combinations) {
                    c.runs().add(run(classifier, texts, labels, c.batchSize(), c.setting()));
                    if (round == repeats - 1) {
                        results.add(report(c, texts.size(), labelled));
                    }
                }
            }
            if (jsonFile != null) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("model", classifier.modelName());
                root.put("model_version", classifier.modelVersion());
                root.put("device", String.valueOf(classifier.device()));
                root.put("num_layers", classifier.numLayers());
                root.put("texts", texts.size());
                root.put("policy", policy.name());
                root.put("precision", classifier.precision().name());
                root.put("threads", threads(System.getenv()));
                root.put("repeats", repeats);
                root.put("results", results);
                writeJson(jsonFile, root);
            }
        }
        return 0;
    }

    private Run run(EarlyExitClassifier classifier, List<String> texts, List<String> labels, int batchSize,
            ExitSetting setting) {
        for (int w = 0; w < warmupBatches; w++) {
            int from = (w * batchSize) % texts.size();
            classifier.classifyBatch(texts.subList(from, Math.min(texts.size(), from + batchSize)), setting);
        }
        long[] histogram = new long[classifier.numLayers()];
        List<Double> latencies = new ArrayList<>();
        int correct = 0;
        long start = System.nanoTime();
        for (int from = 0; from < texts.size(); from += batchSize) {
            int to = Math.min(texts.size(), from + batchSize);
            BatchResult result = classifier.classifyBatch(texts.subList(from, to), setting);
            latencies.add(result.stats().elapsedMs());
            for (int i = 0; i < histogram.length; i++) {
                histogram[i] += result.stats().exitHistogram()[i];
            }
            for (int i = from; i < to; i++) {
                if (result.classifications().get(i - from).label().equals(labels.get(i))) {
                    correct++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(seconds, texts.size() / seconds, histogram, correct, latencies);
    }

    /** Prints the combination's line (its median run, pooled latencies) and returns its JSON entry. */
    private static Map<String, Object> report(Combination c, int texts, boolean labelled) {
        double[] rates = c.runs().stream().mapToDouble(Run::eventsPerSecond).toArray();
        Run median = c.runs().get(BenchmarkStats.medianIndex(rates));
        List<Double> pooled = new ArrayList<>();
        c.runs().forEach(r -> pooled.addAll(r.latenciesMs()));
        BenchmarkStats.LatencySummary latency = BenchmarkStats.LatencySummary.of(
                pooled.stream().mapToDouble(Double::doubleValue).toArray());
        double saving = ExpectedSaving.expectedSaving(median.histogram());
        Double accuracy = labelled ? (double) median.correct() / texts : null;
        System.out.printf(Locale.ROOT, "%d\t%.4f\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%.4f\t%s%n", c.batchSize(),
                c.setting().threshold(), median.eventsPerSecond(), latency.meanMs(), latency.p50Ms(), latency.p99Ms(),
                Arrays.toString(median.histogram()), saving,
                accuracy != null ? String.format(Locale.ROOT, "%.4f", accuracy) : "n/a");
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("batch", c.batchSize());
        entry.put("threshold", c.setting().threshold());
        entry.put("events_per_s", median.eventsPerSecond());
        entry.put("mean_ms", latency.meanMs());
        entry.put("p50_ms", latency.p50Ms());
        entry.put("p99_ms", latency.p99Ms());
        entry.put("exit_histogram", median.histogram());
        entry.put("expected_saving", saving);
        entry.put("accuracy", accuracy);
        entry.put("seconds", median.seconds());
        entry.put("events_per_s_runs", rates);
        return entry;
    }

    /**
     * @param env the environment
     * @return TensorFlow's intra-op thread count: {@value #INTRA_OP_THREADS_ENV} when it holds a positive
     *     integer, else the JVM's available processors (TensorFlow's own default)
     */
    static int threads(Map<String, String> env) {
        String v = env.get(INTRA_OP_THREADS_ENV);
        if (v != null) {
            try {
                int n = Integer.parseInt(v.trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // not a number: TensorFlow ignores it too
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Writes {@code value} as indented JSON, creating parent directories. */
    static void writeJson(Path file, Object value) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
    }

    private void readTexts(List<String> texts, List<String> labels) throws IOException {
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(textsFile, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = json.readTree(line);
            String text = node.path("text").asText("");
            if (text.isEmpty()) {
                continue; // the classifier rejects empty texts
            }
            texts.add(text);
            labels.add(node.hasNonNull("label") ? node.get("label").asText() : null);
            if (limit > 0 && texts.size() == limit) {
                break;
            }
        }
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("no texts in " + textsFile);
        }
    }

    /**
     * @param args model dir, texts file, options (see {@code --help})
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ClassifierBenchmark()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }
}
