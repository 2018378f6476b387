package org.deebert.streams.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.deebert.streams.classifier.BatchResult;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.EmptyText;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ExpectedSaving;

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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.DoubleStream;

/**
 * Throughput and latency of {@link EarlyExitClassifier} per (batch size, threshold S), without Kafka.
 * For each combination it warms up, then classifies the texts in consecutive batches and prints
 * events/s, mean/p50/p99 latency per batch in ms, the exit histogram, the expected saving (DeeBERT
 * eq. 2, {@link ExpectedSaving}) and, when the texts carry a {@code label}, the accuracy and, when the model
 * card names a {@code protected_label}, that label's recall (column {@code <label>_recall}, JSON
 * {@code protected_recall}): accuracy alone hides a model that misses the class that matters. The JSON also has
 * every model label's recall ({@code recall_by_label}: label -&gt; share of the texts with that gold label predicted
 * as it, null when no text has it), since model quality is reported per class.
 *
 * <p>With {@code --card-setting} each batch size is also measured at the model card's recommended setting as the
 * card has it ({@link EarlyExitClassifier#recommendedSetting()}: with label-conditional thresholds, the S of the label
 * each off-ramp predicts), not only at the one-S thresholds of {@code --thresholds}. Its line shows the setting in
 * the S column ({@code card:ham=0.1763,spam=0.5689}); its JSON entry has {@code "setting": "card"} and
 * {@code label_thresholds} (label name -&gt; S in nats, null for one S), and {@code threshold} is the card's
 * {@code value}, so a one-S entry with the same threshold is a different configuration: tell them apart by
 * {@code setting}, not by {@code threshold}. The JSON's top-level {@code card_setting} records the card's setting.
 *
 * <p>With {@code --repeats K} every combination is measured K times, round-robin (all combinations
 * once, then all again, ...), so slow phases of a shared machine hit every combination alike; the line
 * (and JSON entry) of a combination is its median run by events/s, with the latencies of all K runs
 * pooled. {@code --json FILE} writes every result as JSON.
 *
 * <p>{@code --thresholds none} measures no one-S setting (with {@code --card-setting}: only the card's rows).
 * {@code --predictions FILE} writes, for one configuration (the card's setting at the first batch size with
 * {@code --card-setting}, else the first batch size and S), its median run's answer per text as JSON Lines
 * {@code {"index", "gold", "label", "exit_layer"}} (index: 0-based among the texts used; exit layer 1-based), so two
 * precisions' runs can be compared text by text; with {@code gold} (the text's label, null when unknown) beside them
 * for the protected label's extra misses. Labels only: never the text.
 *
 * <p>{@code --buckets NONE} runs each call's texts in arrival order instead of length buckets (the default,
 * {@code LENGTH}; {@code ClassifierOptions.Buckets}): measure both in alternating runs for the buckets' gain. The
 * JSON's top-level {@code buckets} records the choice.
 *
 * <p>With {@code --shadow-rates 0,0.02,0.1} it also measures what shadow samples of an accuracy budget cost
 * ({@link EarlyExitClassifier#classifyBatch(ClassifyRequest)} with shadow flags): the same texts at the model
 * card's recommended setting, with a fraction r of them flagged (the first {@code round(r * texts)} of one seeded
 * permutation, so a higher rate's rows include a lower rate's), every rate once per round, round-robin (each
 * round starting at the next rate). Per rate
 * it reports ms/event, layer-rows/event and the median over rounds of (time at r) / (time at rate 0) of the same
 * round, beside the predicted {@code 1 + r * (n - mean exit layer) / mean exit layer}: the shadow rows' extra
 * layer-rows relative to the early-exit cost of the layers (tokenizing and {@code embed}, the same at every
 * rate, are not in the prediction, so the measured ratio is expected slightly below it).
 *
 * <pre>
 * java -cp "benchmark/target/classes:$(cat benchmark/target/classpath.txt)" \
 *   org.deebert.streams.benchmark.ClassifierBenchmark \
 *   model-export/models/deebert-spamassassin-minilm-l6 model-export/build/spamassassin/data/test.jsonl \
 *   --batch-sizes 1,8,32 --thresholds 0,0.7 --card-setting --limit 256 --repeats 3 --json classifier.json
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

    @Option(names = "--thresholds", defaultValue = "0,0.05,0.2", paramLabel = "S,...",
            description = "thresholds S in nats, comma-separated; none = no one-S setting (use with --card-setting)")
    private String thresholdsOption;

    /** The parsed {@code --thresholds}, nats. */
    private double[] thresholds;

    @Option(names = "--policy", defaultValue = "ENTROPY", description = "ENTROPY or DIVERGENCE (of --thresholds)")
    private ExitPolicy policy;

    @Option(names = "--card-setting", description = "also measure every batch size at the model card's recommended "
            + "setting as the card has it (per label when label-conditional)")
    private boolean cardSetting;

    @Option(names = "--device", defaultValue = "AUTO", description = "AUTO, CPU or GPU")
    private ClassifierOptions.DevicePreference device;

    @Option(names = "--precision", defaultValue = "FLOAT32",
            description = "FLOAT32 (exact parity with Python) or BFLOAT16 (oneDNN auto mixed precision, opt-in)")
    private ClassifierOptions.Precision precision;

    @Option(names = "--buckets", defaultValue = "LENGTH",
            description = "LENGTH (each call's texts in buckets of similar token count) or NONE (arrival order)")
    private ClassifierOptions.Buckets buckets;

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

    @Option(names = "--predictions", paramLabel = "FILE",
            description = "also write one configuration's answer per text (index, label, exit layer) as JSON Lines")
    private Path predictionsFile;

    @Option(names = "--shadow-rates", split = ",", paramLabel = "R",
            description = "also measure shadow sampling at these rates (fractions of the texts; 0 is added as the "
                    + "baseline) with the model card's recommended setting; none by default")
    private double[] shadowRates = new double[0];

    @Option(names = "--shadow-batch", defaultValue = "32", description = "batch size of the shadow measurement")
    private int shadowBatch;

    @Option(names = "--shadow-rounds", defaultValue = "5",
            description = "rounds of the shadow measurement (every rate once per round); median per-round ratio")
    private int shadowRounds;

    @Option(names = "--shadow-seed", defaultValue = "42", description = "seed of the shadow rows' permutation")
    private long shadowSeed;

    /** One measured pass over all texts with one (batch size, S). */
    private record Run(double seconds, double eventsPerSecond, long[] histogram, int correct, List<Double> latenciesMs,
                       List<String> predicted, int[] exitLayers) {
    }

    /**
     * One (batch size, setting) combination and its K runs.
     *
     * @param card whether the setting is the model card's recommended one (as the card has it), not a --thresholds S
     */
    private record Combination(int batchSize, ExitSetting setting, boolean card, List<Run> runs) {
    }

    /**
     * One measured pass over all texts at one shadow rate.
     *
     * @param seconds         wall-clock time of the pass, s
     * @param layerRows       layer-rows run ({@code BatchStats.layerRowsExecuted}, shadow extra included)
     * @param shadowLayerRows of those, the shadow rows' layers after their policy exit
     * @param histogram       policy exits per layer
     */
    private record ShadowRun(double seconds, long layerRows, long shadowLayerRows, long[] histogram) {
    }

    @Override
    public Integer call() throws IOException {
        try {
            thresholds = parseThresholds(thresholdsOption);
        } catch (NumberFormatException e) {
            System.err.println("classifier-benchmark: --thresholds takes numbers (nats) separated by commas, or none");
            return 2;
        }
        if (thresholds.length == 0 && !cardSetting) {
            System.err.println("classifier-benchmark: --thresholds none needs --card-setting (nothing to measure)");
            return 2;
        }
        if (repeats < 1 || warmupBatches < 0 || limit < 0 || Arrays.stream(batchSizes).anyMatch(b -> b < 1)) {
            System.err.println("classifier-benchmark: --repeats and batch sizes must be >= 1, --limit and --warmup-batches >= 0");
            return 2;
        }
        if (shadowBatch < 1 || shadowRounds < 1 || Arrays.stream(shadowRates).anyMatch(r -> !(r >= 0 && r <= 1))) {
            System.err.println("classifier-benchmark: --shadow-batch and --shadow-rounds must be >= 1, shadow rates in [0, 1]");
            return 2;
        }
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        readTexts(texts, labels);
        boolean labelled = labels.stream().allMatch(l -> l != null);
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        if (shadowRates.length > 0) {
            maxBatch = Math.max(maxBatch, shadowBatch);
        }
        try (EarlyExitClassifier classifier = EarlyExitClassifier.load(modelDir,
                new ClassifierOptions(device, maxBatch).withPrecision(precision).withBuckets(buckets))) {
            System.out.printf(Locale.ROOT, "model %s %s, %d layers, %d texts, device %s, policy %s, precision %s, buckets %s%n",
                    classifier.modelName(), classifier.modelVersion(), classifier.numLayers(), texts.size(),
                    classifier.device(), policy, classifier.precision(), classifier.buckets());
            List<Combination> combinations = new ArrayList<>();
            ExitSetting card = classifier.recommendedSetting();
            List<String> modelLabels = classifier.labels();
            for (int batchSize : batchSizes) {
                for (double s : thresholds) {
                    combinations.add(new Combination(batchSize, new ExitSetting(policy, s), false, new ArrayList<>()));
                }
                if (cardSetting) {
                    combinations.add(new Combination(batchSize, card, true, new ArrayList<>()));
                }
            }
            if (cardSetting) {
                System.out.println("card setting: " + settingLabel(card, modelLabels));
            }
            String protectedLabel = classifier.modelCard().protectedLabel();
            System.out.println("batch\tS\tevents/s\tmean_ms\tp50_ms\tp99_ms\texit_histogram\texpected_saving\taccuracy"
                    + (protectedLabel == null ? "" : "\t" + protectedLabel + "_recall"));
            List<Map<String, Object>> results = new ArrayList<>();
            for (int round = 0; round < repeats; round++) {
                if (repeats > 1) {
                    System.err.printf(Locale.ROOT, "round %d of %d%n", round + 1, repeats);
                }
                for (Combination c : combinations) {
                    c.runs().add(run(classifier, texts, labels, c.batchSize(), c.setting()));
                    if (round == repeats - 1) {
                        results.add(report(c, labels, modelLabels, labelled, protectedLabel));
                    }
                }
            }
            if (predictionsFile != null) {
                Combination chosen = combinations.stream().filter(Combination::card).findFirst()
                        .orElse(combinations.get(0));
                writePredictions(predictionsFile, labels, medianRun(chosen));
                System.out.printf(Locale.ROOT, "predictions: batch %d, %s -> %s%n", chosen.batchSize(),
                        chosen.card() ? "card setting" : settingLabel(chosen.setting(), modelLabels), predictionsFile);
            }
            Map<String, Object> shadow = shadowRates.length > 0 ? measureShadow(classifier, texts) : null;
            if (jsonFile != null) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("model", classifier.modelName());
                root.put("model_version", classifier.modelVersion());
                root.put("device", String.valueOf(classifier.device()));
                root.put("num_layers", classifier.numLayers());
                root.put("texts", texts.size());
                root.put("policy", policy.name());
                root.put("precision", classifier.precision().name());
                root.put("buckets", classifier.buckets().name());
                root.put("threads", threads(System.getenv()));
                root.put("repeats", repeats);
                root.put("protected_label", protectedLabel);
                root.put("card_setting", settingJson(card, modelLabels));
                root.put("results", results);
                if (shadow != null) {
                    root.put("shadow", shadow);
                }
                writeJson(jsonFile, root);
            }
        }
        return 0;
    }

    private Run run(EarlyExitClassifier classifier, List<String> texts, List<String> labels, int batchSize,
            ExitSetting setting) {
        for (int w = 0; w < warmupBatches; w++) {
            int from = (w * batchSize) % texts.size();
            classifier.classifyBatch(ClassifyRequest.of(texts.subList(from, Math.min(texts.size(), from + batchSize)), setting));
        }
        long[] histogram = new long[classifier.numLayers()];
        List<Double> latencies = new ArrayList<>();
        List<String> predicted = new ArrayList<>(texts.size());
        int[] exitLayers = new int[texts.size()];
        int correct = 0;
        long start = System.nanoTime();
        for (int from = 0; from < texts.size(); from += batchSize) {
            int to = Math.min(texts.size(), from + batchSize);
            BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts.subList(from, to), setting));
            latencies.add(result.stats().elapsedMs());
            for (int i = 0; i < histogram.length; i++) {
                histogram[i] += result.stats().exitHistogram()[i];
            }
            for (int i = from; i < to; i++) {
                predicted.add(result.classifications().get(i - from).label());
                exitLayers[i] = result.classifications().get(i - from).exitLayer();
                if (result.classifications().get(i - from).label().equals(labels.get(i))) {
                    correct++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(seconds, texts.size() / seconds, histogram, correct, latencies, predicted, exitLayers);
    }

    /**
     * The shadow measurement (see the class comment): every rate once per round, round-robin, after one
     * unmeasured pass per rate. Prints a table (lines start with {@code shadow}) and returns the JSON section.
     */
    private Map<String, Object> measureShadow(EarlyExitClassifier classifier, List<String> texts) {
        long started = System.nanoTime();
        ExitSetting setting = classifier.recommendedSetting();
        int n = classifier.numLayers();
        double[] rates = shadowRates(shadowRates);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(shadowSeed));
        boolean[][] flags = new boolean[rates.length][texts.size()];
        int[] sampled = new int[rates.length];
        for (int k = 0; k < rates.length; k++) {
            sampled[k] = (int) Math.round(rates[k] * texts.size());
            for (int j = 0; j < sampled[k]; j++) {
                flags[k][order.get(j)] = true;
            }
        }
        System.out.printf(Locale.ROOT, "shadow: setting %s (model card), batch %d, %d texts, %d rounds, rates %s%n",
                settingLabel(setting, classifier.labels()), shadowBatch, texts.size(), shadowRounds, Arrays.toString(rates));
        for (int k = 0; k < rates.length; k++) {
            shadowRun(classifier, texts, setting, flags[k]); // warm-up pass, not measured
        }
        List<List<ShadowRun>> runs = new ArrayList<>();
        for (int k = 0; k < rates.length; k++) {
            runs.add(new ArrayList<>());
        }
        for (int round = 0; round < shadowRounds; round++) {
            System.err.printf(Locale.ROOT, "shadow round %d of %d%n", round + 1, shadowRounds);
            ShadowRun[] thisRound = new ShadowRun[rates.length];
            for (int j = 0; j < rates.length; j++) {
                int k = (round + j) % rates.length; // each round starts at another rate: no rate always runs first
                thisRound[k] = shadowRun(classifier, texts, setting, flags[k]);
            }
            for (int k = 0; k < rates.length; k++) {
                runs.get(k).add(thisRound[k]);
            }
        }
        ShadowRun base = runs.get(0).get(0);
        double meanExit = meanExitLayer(base.histogram());
        double perLayerRow = (n - meanExit) / meanExit;
        System.out.printf(Locale.ROOT, "shadow: n = %d layers, mean exit layer %.3f; predicted ratio = 1 + r * (n - mean exit)"
                + " / mean exit = 1 + r * %.3f (layers only: tokenizing and embed are not in it)%n", n, meanExit, perLayerRow);
        System.out.println("shadow\trate\tshadow_rows\tms/event\tlayer_rows/event\tshadow_layer_rows/event"
                + "\tratio_measured\tratio_predicted\tratio_layer_rows");
        List<Map<String, Object>> results = new ArrayList<>();
        for (int k = 0; k < rates.length; k++) {
            List<ShadowRun> rs = runs.get(k);
            double[] perRound = new double[shadowRounds];
            double[] msPerEvent = new double[shadowRounds];
            for (int round = 0; round < shadowRounds; round++) {
                perRound[round] = rs.get(round).seconds() / runs.get(0).get(round).seconds();
                msPerEvent[round] = 1000 * rs.get(round).seconds() / texts.size();
            }
            double ratio = perRound[BenchmarkStats.medianIndex(perRound)];
            double ms = msPerEvent[BenchmarkStats.medianIndex(msPerEvent)];
            ShadowRun first = rs.get(0);
            double fraction = (double) sampled[k] / texts.size();
            double predicted = 1 + fraction * perLayerRow;
            double layerRowsRatio = (double) first.layerRows() / base.layerRows();
            System.out.printf(Locale.ROOT, "shadow\t%.3f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f%n", rates[k],
                    sampled[k], ms, (double) first.layerRows() / texts.size(),
                    (double) first.shadowLayerRows() / texts.size(), ratio, predicted, layerRowsRatio);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("rate", rates[k]);
            entry.put("shadow_rows", sampled[k]);
            entry.put("shadow_fraction", fraction);
            entry.put("ms_per_event", ms);
            entry.put("ms_per_event_runs", msPerEvent);
            entry.put("layer_rows_per_event", (double) first.layerRows() / texts.size());
            entry.put("shadow_layer_rows_per_event", (double) first.shadowLayerRows() / texts.size());
            entry.put("exit_histogram", first.histogram());
            entry.put("cost_ratio", ratio);
            entry.put("cost_ratio_runs", perRound);
            entry.put("cost_predicted", predicted);
            entry.put("layer_rows_ratio", layerRowsRatio);
            results.add(entry);
        }
        Map<String, Object> section = new LinkedHashMap<>();
        section.put("setting", settingJson(setting, classifier.labels()));
        section.put("batch", shadowBatch);
        section.put("texts", texts.size());
        section.put("rounds", shadowRounds);
        section.put("seed", shadowSeed);
        section.put("num_layers", n);
        section.put("mean_exit_layer", meanExit);
        section.put("definition", "cost_ratio = median over rounds of seconds(rate r) / seconds(rate 0) of the same round "
                + "(all texts, batch " + shadowBatch + ", tokenizing included); cost_predicted = 1 + f * (n - mean exit layer)"
                + " / mean exit layer with f = shadow_rows / texts: the extra layer-rows relative to the early-exit "
                + "layer-rows, embedding and tokenizing not included; layer_rows_ratio = layer-rows run at r / at 0 "
                + "(the prediction from the sampled rows' own exit layers)");
        section.put("results", results);
        double seconds = (System.nanoTime() - started) / 1e9;
        section.put("seconds", seconds); // the whole measurement, warm-up passes included
        System.out.printf(Locale.ROOT, "shadow: measured in %.1f s%n", seconds);
        return section;
    }

    /** Rates sorted ascending without duplicates, 0 first (the baseline). */
    static double[] shadowRates(double[] rates) {
        return DoubleStream.concat(DoubleStream.of(0.0), Arrays.stream(rates))
                .distinct().sorted().toArray();
    }

    /** @return the mean exit layer (1-based) of an exit histogram; 0 when it is empty */
    static double meanExitLayer(long[] histogram) {
        long rows = 0;
        double sum = 0;
        for (int i = 0; i < histogram.length; i++) {
            rows += histogram[i];
            sum += (i + 1) * (double) histogram[i];
        }
        return rows == 0 ? 0 : sum / rows;
    }

    private ShadowRun shadowRun(EarlyExitClassifier classifier, List<String> texts, ExitSetting setting,
            boolean[] flags) {
        long[] histogram = new long[classifier.numLayers()];
        long layerRows = 0;
        long shadowLayerRows = 0;
        long start = System.nanoTime();
        for (int from = 0; from < texts.size(); from += shadowBatch) {
            int to = Math.min(texts.size(), from + shadowBatch);
            BatchResult result = classifier.classifyBatch(new ClassifyRequest(texts.subList(from, to), null, setting,
                    Arrays.copyOfRange(flags, from, to)));
            layerRows += result.stats().layerRowsExecuted();
            shadowLayerRows += result.stats().shadowLayerRows();
            for (int i = 0; i < histogram.length; i++) {
                histogram[i] += result.stats().exitHistogram()[i];
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new ShadowRun(seconds, layerRows, shadowLayerRows, histogram);
    }

    /**
     * The protected label's recall: of the texts whose gold label is it, the share predicted as it.
     *
     * @param protectedLabel the model card's protected label, or null
     * @param predicted      predicted label per text
     * @param gold           gold label per text (null when unknown), same order
     * @return the recall in [0, 1]; null when the label is null or no text's gold label is it
     */
    static Double protectedRecall(String protectedLabel, List<String> predicted, List<String> gold) {
        if (protectedLabel == null) {
            return null;
        }
        int relevant = 0;
        int found = 0;
        for (int i = 0; i < gold.size(); i++) {
            if (protectedLabel.equals(gold.get(i))) {
                relevant++;
                if (protectedLabel.equals(predicted.get(i))) {
                    found++;
                }
            }
        }
        return relevant == 0 ? null : (double) found / relevant;
    }

    /**
     * Every label's recall: per label, of the texts whose gold label is it, the share predicted as it.
     *
     * @param labels    the model's label names (the keys, in this order)
     * @param predicted predicted label per text
     * @param gold      gold label per text (null when unknown), same order
     * @return label -&gt; recall in [0, 1], null for a label no text has as its gold label
     */
    static Map<String, Double> recallByLabel(List<String> labels, List<String> predicted, List<String> gold) {
        Map<String, Double> byLabel = new LinkedHashMap<>();
        for (String label : labels) {
            byLabel.put(label, protectedRecall(label, predicted, gold));
        }
        return byLabel;
    }

    /**
     * @param option {@code --thresholds}: S in nats separated by commas, or {@code none} (or blank) for no one-S setting
     * @return the thresholds, nats; empty for none
     * @throws NumberFormatException when an entry is not a number, or is negative or not finite
     */
    static double[] parseThresholds(String option) {
        if (option == null || option.isBlank() || option.trim().equalsIgnoreCase("none")) {
            return new double[0];
        }
        double[] out = Arrays.stream(option.split(",")).map(String::trim).mapToDouble(Double::parseDouble).toArray();
        if (Arrays.stream(out).anyMatch(s -> !Double.isFinite(s) || s < 0)) {
            throw new NumberFormatException("thresholds must be finite and >= 0 nats: " + option);
        }
        return out;
    }

    /** @return the combination's median run by events/s (the one its line and JSON entry describe) */
    private static Run medianRun(Combination c) {
        double[] rates = c.runs().stream().mapToDouble(Run::eventsPerSecond).toArray();
        return c.runs().get(BenchmarkStats.medianIndex(rates));
    }

    /**
     * Writes one JSON line per text: {@code index} (0-based among the texts used), {@code gold} label (null when
     * unknown), predicted {@code label} and {@code exit_layer} (1-based). No text: only what two runs need to be
     * compared answer by answer.
     */
    static void writePredictions(Path file, List<String> gold, List<String> predicted, int[] exitLayers)
            throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < predicted.size(); i++) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("index", i);
            line.put("gold", gold.get(i));
            line.put("label", predicted.get(i));
            line.put("exit_layer", exitLayers[i]);
            out.append(json.writeValueAsString(line)).append('\n');
        }
        Files.writeString(file, out, StandardCharsets.UTF_8);
    }

    private static void writePredictions(Path file, List<String> gold, Run run) throws IOException {
        writePredictions(file, gold, run.predicted(), run.exitLayers());
    }

    /**
     * Prints the combination's line (its median run, pooled latencies) and returns its JSON entry.
     *
     * @param labels      gold label per text (null when unknown)
     * @param modelLabels the model's label names in index order (to name per-label thresholds)
     */
    private static Map<String, Object> report(Combination c, List<String> labels, List<String> modelLabels, boolean labelled,
            String protectedLabel) {
        int texts = labels.size();
        double[] rates = c.runs().stream().mapToDouble(Run::eventsPerSecond).toArray();
        Run median = c.runs().get(BenchmarkStats.medianIndex(rates));
        List<Double> pooled = new ArrayList<>();
        c.runs().forEach(r -> pooled.addAll(r.latenciesMs()));
        BenchmarkStats.LatencySummary latency = BenchmarkStats.LatencySummary.of(
                pooled.stream().mapToDouble(Double::doubleValue).toArray());
        double saving = ExpectedSaving.expectedSaving(median.histogram());
        Double accuracy = labelled ? (double) median.correct() / texts : null;
        // From the same median run as the accuracy, so the two figures describe one pass over the texts.
        Double recall = labelled ? protectedRecall(protectedLabel, median.predicted(), labels) : null;
        Map<String, Double> recallByLabel = labelled ? recallByLabel(modelLabels, median.predicted(), labels) : null;
        String s = c.card() ? "card:" + compactLabel(c.setting(), modelLabels)
                : String.format(Locale.ROOT, "%.4f", c.setting().threshold());
        System.out.printf(Locale.ROOT, "%d\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%.4f\t%s%s%n", c.batchSize(),
                s, median.eventsPerSecond(), latency.meanMs(), latency.p50Ms(), latency.p99Ms(),
                Arrays.toString(median.histogram()), saving, fourDecimals(accuracy),
                protectedLabel == null ? "" : "\t" + fourDecimals(recall));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("batch", c.batchSize());
        entry.put("setting", c.card() ? "card" : "threshold");
        entry.put("policy", c.setting().policy().name());
        entry.put("threshold", c.setting().threshold());
        entry.put("label_thresholds", labelThresholdsByName(c.setting(), modelLabels));
        entry.put("events_per_s", median.eventsPerSecond());
        entry.put("mean_ms", latency.meanMs());
        entry.put("p50_ms", latency.p50Ms());
        entry.put("p99_ms", latency.p99Ms());
        entry.put("exit_histogram", median.histogram());
        entry.put("expected_saving", saving);
        entry.put("accuracy", accuracy);
        entry.put("protected_recall", recall);
        entry.put("recall_by_label", recallByLabel);
        entry.put("seconds", median.seconds());
        entry.put("events_per_s_runs", rates);
        return entry;
    }

    /**
     * @param setting an exit setting
     * @param labels  the model's label names in index order
     * @return its per-label thresholds as label name -&gt; S in nats (the model card's spelling), or null for one S
     */
    static Map<String, Double> labelThresholdsByName(ExitSetting setting, List<String> labels) {
        if (setting.labelThresholds() == null) {
            return null;
        }
        Map<String, Double> byName = new LinkedHashMap<>();
        for (int c = 0; c < setting.labelThresholds().size(); c++) {
            byName.put(c < labels.size() ? labels.get(c) : Integer.toString(c), setting.labelThresholds().get(c));
        }
        return byName;
    }

    /** @return the setting as JSON: policy, threshold and per-label thresholds by name (null for one S) */
    static Map<String, Object> settingJson(ExitSetting setting, List<String> labels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy", setting.policy().name());
        m.put("threshold", setting.threshold());
        m.put("layer_thresholds", setting.layerThresholds());
        m.put("label_thresholds", labelThresholdsByName(setting, labels));
        return m;
    }

    /** @return e.g. {@code ENTROPY S by label ham 0.1763, spam 0.5689 nats} or {@code ENTROPY S=0.1417 nats} */
    static String settingLabel(ExitSetting setting, List<String> labels) {
        Map<String, Double> byName = labelThresholdsByName(setting, labels);
        if (byName == null) {
            return String.format(Locale.ROOT, "%s S=%.4f nats", setting.policy(), setting.threshold());
        }
        List<String> parts = new ArrayList<>();
        byName.forEach((name, s) -> parts.add(String.format(Locale.ROOT, "%s %.4f", name, s)));
        return setting.policy() + " S by label " + String.join(", ", parts) + " nats";
    }

    /** @return the setting for a table cell without spaces, e.g. {@code ham=0.1763,spam=0.5689} or {@code 0.1417} */
    static String compactLabel(ExitSetting setting, List<String> labels) {
        Map<String, Double> byName = labelThresholdsByName(setting, labels);
        if (byName == null) {
            return String.format(Locale.ROOT, "%.4f", setting.threshold());
        }
        List<String> parts = new ArrayList<>();
        byName.forEach((name, s) -> parts.add(String.format(Locale.ROOT, "%s=%.4f", name, s)));
        return String.join(",", parts);
    }

    private static String fourDecimals(Double v) {
        return v != null ? String.format(Locale.ROOT, "%.4f", v) : "n/a";
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
            if (EmptyText.is(text)) {
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
