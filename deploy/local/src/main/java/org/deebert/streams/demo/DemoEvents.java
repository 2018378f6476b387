package org.deebert.streams.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the demo's labelled input: JSON Lines with {@code {"id", "text", "label"}} per line, as
 * {@code python -m deebert_export prepare} writes {@code test.jsonl}. Also read by the end-to-end
 * benchmark ({@code deebert-benchmark}'s StreamBenchmark).
 */
public final class DemoEvents {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * One labelled text.
     *
     * @param id    unique id; the record key and {@code TextEvent.id}
     * @param text  the text to classify
     * @param label the true label name
     */
    public record LabelledText(String id, String text, String label) {
    }

    private DemoEvents() {
    }

    /**
     * @param file  a JSON Lines file
     * @param limit read at most this many lines; 0 = all
     * @return the texts in file order
     * @throws UncheckedIOException     if the file cannot be read
     * @throws IllegalArgumentException if a line is not such an object or an id repeats (line number given)
     */
    public static List<LabelledText> read(Path file, int limit) {
        List<LabelledText> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null && (limit == 0 || out.size() < limit)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = MAPPER.readTree(line);
                String id = text(node, "id", file, lineNo);
                if (!ids.add(id)) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": id " + id + " repeats (ids are record keys)");
                }
                out.add(new LabelledText(id, text(node, "text", file, lineNo), text(node, "label", file, lineNo)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read events " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** @return id -> true label, in input order */
    public static Map<String, String> trueLabels(List<LabelledText> texts) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (LabelledText t : texts) {
            labels.put(t.id(), t.label());
        }
        return labels;
    }

    private static String text(JsonNode node, String field, Path file, int lineNo) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            // Only the field name: the line holds message text, which is never printed.
            throw new IllegalArgumentException(file + ":" + lineNo + ": no string field \"" + field + "\"");
        }
        return v.asText();
    }
}
