package org.deebert.streams.e2e.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;

/**
 * The held-out test emails joined with the exporter's {@code reference_outputs.jsonl}: per email its
 * text and Python's off-ramp logits at every layer, from which the expected exit layer and label under
 * the entropy policy follow for any threshold S (paper Algorithm 1, computed here independently of the
 * Java classifier).
 *
 * <p>By default the committed model {@value #DEFAULT_MODEL_DIR} and the prepared test split
 * {@value #DEFAULT_TEXTS} (written by {@value #PREPARE_COMMAND}). The system properties
 * {@value #MODEL_DIR_PROPERTY} and {@value #TEXTS_PROPERTY} (paths relative to the repository root)
 * point the tests at another model directory of the same format, e.g. the tiny test model.
 */
public final class ReferenceEmails {

    /** The model directory the end-to-end tests use unless told otherwise. */
    public static final String DEFAULT_MODEL_DIR = "model-export/models/deebert-spamassassin-minilm-l6";
    /** The prepared test split (one {"id","text","label"} per line). */
    public static final String DEFAULT_TEXTS = "model-export/build/spamassassin/data/test.jsonl";
    /** How to produce {@link #DEFAULT_TEXTS}. */
    public static final String PREPARE_COMMAND = "cd model-export && .venv/bin/python -m deebert_export prepare";
    /** Overrides the model directory (relative to the repository root). */
    public static final String MODEL_DIR_PROPERTY = "deebert.e2e.model.dir";
    /** Overrides the texts file (relative to the repository root). */
    public static final String TEXTS_PROPERTY = "deebert.e2e.texts";
    /** Reference entropies closer than this to S may legitimately exit one layer apart in Java and Python. */
    public static final double BOUNDARY_NATS = 1e-4;

    /**
     * Softmax in double, computed here independently of the classifier (the reference side of every parity check).
     *
     * @param logits one off-ramp's logits, length C
     * @return probabilities, length C
     */
    public static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int c = 0; c < logits.length; c++) {
            p[c] = Math.exp(logits[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < logits.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /**
     * @param p a probability vector
     * @return its entropy in nats (terms with p = 0 contribute 0)
     */
    public static double entropy(double[] p) {
        double h = 0;
        for (double pc : p) {
            if (pc > 0) {
                h -= pc * Math.log(pc);
            }
        }
        return h;
    }

    private static ReferenceEmails loaded;

    private final Path modelDir;
    private final List<Email> emails;

    /**
     * One test email and Python's reference outputs for it.
     *
     * @param id         the email's id in the corpus
     * @param text       the text both sides classified
     * @param label      the true label
     * @param numTokens  tokens Python fed the model (after truncation, with [CLS] and [SEP])
     * @param tokenIds   the ids Python fed the model ([CLS] ... [SEP]), {@code numTokens} of them
     * @param logits     Python's off-ramp logits, {@code [layer-1][label]}
     */
    public record Email(String id, String text, String label, int numTokens, long[] tokenIds, double[][] logits) {

        /** @return number of off-ramps n */
        public int numLayers() {
            return logits.length;
        }

        /** @return softmax of off-ramp {@code layer}'s reference logits (1-based layer) */
        public double[] probabilities(int layer) {
            return softmax(logits[layer - 1]);
        }

        /** @return entropy in nats of off-ramp {@code layer}'s reference softmax */
        public double entropy(int layer) {
            return ReferenceEmails.entropy(probabilities(layer));
        }

        /** @return the exit layer under the entropy policy: first layer with entropy strictly below S, else n */
        public int exitLayer(double s) {
            for (int layer = 1; layer < numLayers(); layer++) {
                if (entropy(layer) < s) {
                    return layer;
                }
            }
            return numLayers();
        }

        /**
         * @param byLabel S^(c) in nats by label index (label-conditional thresholds)
         * @return the exit layer under the entropy policy with one S per predicted label: the first layer before
         *     n whose entropy is strictly below the S of the label that off-ramp predicts, else n
         *     (deebert_export.exits' rule)
         */
        public int exitLayer(double[] byLabel) {
            for (int layer = 1; layer < numLayers(); layer++) {
                if (entropy(layer) < byLabel[labelIndex(layer)]) {
                    return layer;
                }
            }
            return numLayers();
        }

        /**
         * The exit layer under an entropy setting as the service records it in an output event: one S, or S by
         * predicted label.
         *
         * @param s       S in nats (not compared with any score when {@code byLabel} is given)
         * @param byLabel S^(c) in nats by label index, or null for one S for every label
         * @return {@link #exitLayer(double[])} with {@code byLabel}, else {@link #exitLayer(double)} with {@code s}
         */
        public int exitLayer(double s, List<Double> byLabel) {
            return byLabel == null ? exitLayer(s) : exitLayer(byLabel.stream().mapToDouble(Double::doubleValue).toArray());
        }

        /**
         * @param setting an ENTROPY setting with one S or S by label (e.g. the model card's recommended one)
         * @return the exit layer the reference logits give under it
         * @throws IllegalArgumentException for another policy or per-layer thresholds
         */
        public int exitLayer(ExitSetting setting) {
            requireEntropy(setting);
            return exitLayer(setting.threshold(), setting.labelThresholds());
        }

        /**
         * @param t the patience in layers (1..n)
         * @return the exit layer under the patience policy (PABEE): the first layer before n whose label
         *     the t off-ramps before it all predicted too, else n (deebert_export.exits, the golden file's rule)
         */
        public int patienceExitLayer(int t) {
            int streak = 0;
            for (int layer = 2; layer < numLayers(); layer++) {
                streak = labelIndex(layer) == labelIndex(layer - 1) ? streak + 1 : 0;
                if (streak >= t) {
                    return layer;
                }
            }
            return numLayers();
        }

        /**
         * @return true when some off-ramp's two largest reference logits are within {@link #BOUNDARY_NATS},
         *     so float rounding may change its predicted label (and a patience exit)
         */
        public boolean nearTie() {
            for (double[] row : logits) {
                double[] sorted = row.clone();
                java.util.Arrays.sort(sorted);
                if (sorted.length > 1 && sorted[sorted.length - 1] - sorted[sorted.length - 2] < BOUNDARY_NATS) {
                    return true;
                }
            }
            return false;
        }

        /** @return the arg-max label index of off-ramp {@code layer} */
        public int labelIndex(int layer) {
            double[] row = logits[layer - 1];
            int best = 0;
            for (int c = 1; c < row.length; c++) {
                if (row[c] > row[best]) {
                    best = c;
                }
            }
            return best;
        }

        /**
         * @return true when some off-ramp before the last has a reference entropy within
         *     {@link #BOUNDARY_NATS} of S, so float rounding may move the exit by a layer
         */
        public boolean nearBoundary(double s) {
            for (int layer = 1; layer < numLayers(); layer++) {
                if (Math.abs(entropy(layer) - s) < BOUNDARY_NATS) {
                    return true;
                }
            }
            return false;
        }

        /**
         * @param s       S in nats
         * @param byLabel S^(c) in nats by label index, or null for one S
         * @return with one S, {@link #nearBoundary(double)}; with S by label, true when some off-ramp before the last
         *     is within {@link #BOUNDARY_NATS} of any label's S, or has a near-tie (float rounding may change the
         *     predicted label, and with it the S compared)
         */
        public boolean nearBoundary(double s, List<Double> byLabel) {
            if (byLabel == null) {
                return nearBoundary(s);
            }
            for (double labelS : byLabel) {
                if (nearBoundary(labelS)) {
                    return true;
                }
            }
            return nearTie();
        }

        /**
         * @param setting an ENTROPY setting with one S or S by label
         * @return {@link #nearBoundary(double, List)} for it
         * @throws IllegalArgumentException for another policy or per-layer thresholds
         */
        public boolean nearBoundary(ExitSetting setting) {
            requireEntropy(setting);
            return nearBoundary(setting.threshold(), setting.labelThresholds());
        }

        private static void requireEntropy(ExitSetting setting) {
            if (setting.policy() != ExitPolicy.ENTROPY || setting.layerThresholds() != null) {
                throw new IllegalArgumentException("reference exits are computed here for ENTROPY with one S or S by label, not "
                        + setting);
            }
        }
    }

    private ReferenceEmails(Path modelDir, List<Email> emails) {
        this.modelDir = modelDir;
        this.emails = List.copyOf(emails);
    }

    /**
     * Reads (once per JVM) the model's reference outputs and the texts, joined by id; every reference
     * line must have its text, and the text's SHA-256 must equal the reference's {@code text_sha256}.
     *
     * @return the emails in reference order
     * @throws IllegalStateException if the model or the texts are missing (the message says how to make
     *     them) or the two files disagree
     */
    public static synchronized ReferenceEmails load() {
        if (loaded == null) {
            Path root = SharedInfrastructure.repoRoot();
            Path modelDir = root.resolve(System.getProperty(MODEL_DIR_PROPERTY, DEFAULT_MODEL_DIR)).normalize();
            Path texts = root.resolve(System.getProperty(TEXTS_PROPERTY, DEFAULT_TEXTS)).normalize();
            if (!Files.isRegularFile(modelDir.resolve("model_card.json"))
                    || !Files.isRegularFile(modelDir.resolve("reference_outputs.jsonl"))) {
                throw new IllegalStateException("no exported model with reference_outputs.jsonl at " + modelDir
                        + "; the default model is committed to the repository (or pass -D" + MODEL_DIR_PROPERTY + "=<dir>)");
            }
            if (!Files.isRegularFile(texts)) {
                throw new IllegalStateException("test texts " + texts + " are missing; create them with: "
                        + PREPARE_COMMAND);
            }
            loaded = new ReferenceEmails(modelDir, join(readTexts(texts), modelDir.resolve("reference_outputs.jsonl")));
        }
        return loaded;
    }

    /** @return the model directory the references belong to */
    public Path modelDir() {
        return modelDir;
    }

    /** @return every email, in reference order */
    public List<Email> all() {
        return emails;
    }

    /**
     * @param count how many
     * @return up to {@code count} emails spread evenly over the whole split (the split is grouped by source)
     */
    public List<Email> spread(int count) {
        if (count >= emails.size()) {
            return emails;
        }
        List<Email> picked = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            picked.add(emails.get((int) ((long) i * emails.size() / count)));
        }
        return picked;
    }

    private record Text(String text, String label) {
    }

    private static Map<String, Text> readTexts(Path file) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Text> texts = new LinkedHashMap<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = json.readTree(line);
                texts.put(node.get("id").asText(), new Text(node.get("text").asText(), node.get("label").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return texts;
    }

    private static List<Email> join(Map<String, Text> texts, Path referenceFile) {
        ObjectMapper json = new ObjectMapper();
        List<Email> emails = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(referenceFile, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = json.readTree(line);
                String id = node.get("id").asText();
                Text text = texts.get(id);
                if (text == null) {
                    throw new IllegalStateException("reference id " + id + " has no text in the prepared split; re-run: "
                            + PREPARE_COMMAND);
                }
                String sha = node.get("text_sha256").asText();
                if (!sha.equals(sha256(text.text()))) {
                    throw new IllegalStateException("text of " + id + " differs from the one the reference outputs were"
                            + " made from (SHA-256 mismatch); re-run: " + PREPARE_COMMAND);
                }
                JsonNode rows = node.get("logits");
                double[][] logits = new double[rows.size()][];
                for (int l = 0; l < rows.size(); l++) {
                    logits[l] = new double[rows.get(l).size()];
                    for (int c = 0; c < logits[l].length; c++) {
                        logits[l][c] = rows.get(l).get(c).asDouble();
                    }
                }
                JsonNode idsNode = node.get("token_ids");
                if (idsNode == null) {
                    throw new IllegalStateException(referenceFile + " has no token_ids (exported by an older model-export)");
                }
                long[] tokenIds = new long[idsNode.size()];
                for (int t = 0; t < tokenIds.length; t++) {
                    tokenIds[t] = idsNode.get(t).asLong();
                }
                emails.add(new Email(id, text.text(), node.get("label").asText(), node.get("num_tokens").asInt(), tokenIds,
                        logits));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + referenceFile, e);
        }
        if (emails.isEmpty()) {
            throw new IllegalStateException(referenceFile + " holds no reference outputs");
        }
        return emails;
    }

    /** @return the lower-case hex SHA-256 of the text's UTF-8 bytes */
    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
