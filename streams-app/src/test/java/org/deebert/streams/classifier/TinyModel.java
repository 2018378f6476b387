package org.deebert.streams.classifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
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
import java.util.stream.Stream;

import org.deebert.streams.model.ModelCard;

/**
 * The tiny exported models in test resources ({@code tiny-model/}: random-init tiny BERT config exported by
 * model-export; {@code tiny-roberta-model/}: the same for RoBERTa, with a byte-level BPE tokenizer), their
 * Python reference outputs and the texts they were computed from. The system property
 * {@code deebert.tinyModel} points {@link #dir()} elsewhere (a model directory) when set.
 */
final class TinyModel {

    static final ObjectMapper JSON = new ObjectMapper();

    private TinyModel() {
    }

    /** @return the tiny model directory; fails the test if absent */
    static Path dir() {
        String override = System.getProperty("deebert.tinyModel");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        return resource("tiny-model");
    }

    /** @return the tiny RoBERTa model directory ({@code make_tiny_model.py --roberta}); fails the test if absent */
    static Path robertaDir() {
        return resource("tiny-roberta-model");
    }

    private static Path resource(String name) {
        URL url = TinyModel.class.getResource("/" + name + "/" + ModelCard.FILE_NAME);
        if (url == null) {
            throw new IllegalStateException("test resource " + name + "/model_card.json is missing");
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Texts file: {@code texts.jsonl} (or another {@code *.jsonl} that is not the reference file) in the
     * model directory or next to it, with one {"text": ...} object per line.
     *
     * @return texts in file order
     */
    static List<String> texts() {
        return texts(dir());
    }

    /** @return the texts of the model in {@code dir}, as {@link #texts()} finds them */
    static List<String> texts(Path dir) {
        Path file = Stream.of(dir, dir.getParent())
                .flatMap(TinyModel::jsonlFiles)
                .filter(p -> !p.getFileName().toString().equals("reference_outputs.jsonl"))
                .sorted((a, b) -> Boolean.compare(!a.getFileName().toString().contains("text"),
                        !b.getFileName().toString().contains("text")))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no texts *.jsonl file next to " + dir));
        List<String> texts = new ArrayList<>();
        for (JsonNode node : readJsonl(file)) {
            texts.add(node.get("text").asText());
        }
        return texts;
    }

    /** @return reference_outputs.jsonl lines keyed by text_sha256, in file order */
    static Map<String, JsonNode> referenceBySha256() {
        return referenceBySha256(dir());
    }

    /** @return the reference outputs of the model in {@code dir}, keyed by text_sha256, in file order */
    static Map<String, JsonNode> referenceBySha256(Path dir) {
        Map<String, JsonNode> bySha = new LinkedHashMap<>();
        for (JsonNode node : readJsonl(dir.resolve("reference_outputs.jsonl"))) {
            bySha.put(node.get("text_sha256").asText(), node);
        }
        return bySha;
    }

    static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Copies the tiny model into {@code target} (to edit its card).
     *
     * @param target an empty directory
     * @return {@code target}
     */
    static Path copyTo(Path target) {
        Path source = dir();
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    private static Stream<Path> jsonlFiles(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<JsonNode> readJsonl(Path file) {
        try {
            List<JsonNode> nodes = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    nodes.add(JSON.readTree(line));
                }
            }
            return nodes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reference softmax in double, independent of the classifier's code, for parity checks.
     *
     * @param logits one off-ramp's logits, length C
     * @return probabilities, length C
     */
    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.exp(logits[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < p.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /** As {@link #softmax(double[])}, for float32 logits (the classifier's output). */
    static double[] softmax(float[] logits) {
        double[] d = new double[logits.length];
        for (int c = 0; c < d.length; c++) {
            d[c] = logits[c];
        }
        return softmax(d);
    }

    /**
     * The reference maths on one off-ramp's logits as the Python reference outputs hold them (a JSON array of C
     * numbers): the one copy the classifier tests share.
     *
     * @return softmax of the logits, double (C,)
     */
    static double[] softmax(JsonNode logits) {
        double[] values = new double[logits.size()];
        for (int c = 0; c < values.length; c++) {
            values[c] = logits.get(c).asDouble();
        }
        return softmax(values);
    }

    /** @return the entropy (nats) of the softmax of one off-ramp's logits given as a JSON array */
    static double entropyOfLogits(JsonNode logits) {
        return entropy(softmax(logits));
    }

    /** @return the index of the largest probability, a tie going to the lowest index (numpy's argmax) */
    static int argmax(double[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        return best;
    }

    /** @return the entropy of {@code p} in nats (terms with p = 0 contribute 0), in double, for parity checks */
    static double entropy(double[] p) {
        double h = 0;
        for (double pc : p) {
            h -= pc > 0 ? pc * Math.log(pc) : 0;
        }
        return h;
    }
}
