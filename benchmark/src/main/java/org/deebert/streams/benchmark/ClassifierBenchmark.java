package org.deebert.streams.classifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Throughput and latency of {@link EarlyExitClassifier} per (batch size, threshold S), without Kafka.
 * For each combination it warms up, then classifies the texts in consecutive batches and prints
 * events/s, mean/p50/p99 latency per batch in ms, the exit histogram, the expected saving (DeeBERT
 * eq. 2, {@link ExpectedSaving}) and, when the texts carry a {@code label}, the accuracy.
 *
 * <pre>
 * java -cp "$(cat streams-app/target/classpath.txt):streams-app/target/classes" \
 *   org.deebert.streams.classifier.ClassifierBenchmark \
 *   model-export/models/deebert-spamassassin-minilm-l6 model-export/build/spamassassin/test.jsonl \
 *   --batch-sizes 1,8,32 --thresholds 0,0.05,0.2 --limit 512
 * </pre>
 */
@Command(name = "classifier-benchmark", mixinStandardHelpOptions = true,
        description = "Early-exit classifier throughput/latency per batch size and threshold S (nats).")
public final class ClassifierBenchmark implements Callable<Integer> {

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

    @Option(names = "--limit", defaultValue = "0", description = "use the first N texts (0 = all)")
    private int limit;

    @Option(names = "--warmup-batches", defaultValue = "5", description = "unmeasured batches per combination")
    private int warmupBatches;

    @Override
    public Integer call() throws IOException {
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        readTexts(texts, labels);
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(modelDir, new ClassifierOptions(device, maxBatch))) {
            System.out.printf(Locale.ROOT, "model %s %s, %d layers, %d texts, device %s, policy %s%n",
                    classifier.modelName(), classifier.modelVersion(), classifier.numLayers(), texts.size(),
                    classifier.device(), policy);
            System.out.println("batch\tS\tevents/s\tmean_ms\tp50_ms\tp99_ms\texit_histogram\texpected_saving\taccuracy");
            for (int batchSize : batchSizes) {
                for (double s : thresholds) {
                    run(classifier, texts, labels, batchSize, new ExitSetting(policy, s));
                }
            }
        }
        return 0;
    }

    private void run(EarlyExitClassifier classifier, List<String> texts, List<String> labels, int batchSize,
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
        latencies.sort(null);
        double mean = latencies.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        boolean labelled = labels.stream().allMatch(l -> l != null);
        System.out.printf(Locale.ROOT, "%d\t%.4f\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%.4f\t%s%n", batchSize,
                setting.threshold(), texts.size() / seconds, mean, percentile(latencies, 0.50),
                percentile(latencies, 0.99), Arrays.toString(histogram), ExpectedSaving.expectedSaving(histogram),
                labelled ? String.format(Locale.ROOT, "%.4f", (double) correct / texts.size()) : "n/a");
    }

    /** Nearest-rank percentile of sorted values. */
    private static double percentile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
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
