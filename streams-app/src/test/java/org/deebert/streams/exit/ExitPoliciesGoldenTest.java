package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Java's exit maths against the golden file Python writes ({@code python -m deebert_export golden}, from
 * {@code deebert_export/exits.py}): for every case and setting (one S, per-layer lists, label-conditional
 * lists, every patience), {@link ExitScores} must give the same
 * predicted labels, divergence scores and exit layers, and {@link ExpectedSaving} the same saving. The run
 * is Algorithm 1 row by row, as {@code EarlyExitClassifier} does per live row: the entropy is taken from
 * the file (in the service it comes from the SavedModel's {@code entropy} output, a TF op the export
 * writes from the same Python module); probabilities are cast to float32, as the signature returns them.
 * The file guarantees every non-zero threshold is at least 1e-4 from the scores, so float32 rounding
 * cannot flip a decision.
 */
class ExitPoliciesGoldenTest {

    /** From the module basedir (Maven runs tests there): the file model-export commits. */
    private static final Path GOLDEN = Path.of("..", "model-export", "tests", "golden", "exit_policies.json");

    private static JsonNode doc;

    @BeforeAll
    static void readGolden() throws IOException {
        // Python's json writes +inf (divergence at layer 1) as the non-standard token Infinity.
        JsonMapper mapper = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
        doc = mapper.readTree(Files.readString(GOLDEN));
        // 2: every setting row has label_thresholds (null, or S^(0)..S^(C-1) by label index).
        assertThat(doc.get("format_version").asInt()).isEqualTo(2);
    }

    @Test
    void exitLayersAndExpectedSavingsMatchPythonForEveryPolicyAndSetting() {
        Set<ExitPolicy> seen = EnumSet.noneOf(ExitPolicy.class);
        Set<ExitPolicy> perLayer = EnumSet.noneOf(ExitPolicy.class);
        Set<ExitPolicy> perLabel = EnumSet.noneOf(ExitPolicy.class);
        int rows = 0;
        int perLabelRowsUnlikeOneS = 0;
        for (JsonNode c : doc.get("cases")) {
            int n = c.get("num_layers").asInt();
            for (JsonNode row : c.get("settings")) {
                ExitSetting setting = setting(row).validateFor(n, c.get("num_labels").asInt());
                seen.add(setting.policy());
                rows++;
                if (setting.layerThresholds() != null) {
                    perLayer.add(setting.policy());
                }
                if (setting.labelThresholds() != null) {
                    perLabel.add(setting.policy());
                    // The file must tell the rule apart from one S: some input's exit moves with its label's S.
                    ExitSetting oneS = new ExitSetting(setting.policy(), setting.threshold());
                    for (int input = 0; input < c.get("num_inputs").asInt(); input++) {
                        if (exitLayer(c, input, oneS) != row.get("exit_layers").get(input).asInt()) {
                            perLabelRowsUnlikeOneS++;
                            break;
                        }
                    }
                }
                long[] histogram = new long[n];
                List<Integer> layers = new ArrayList<>();
                for (int input = 0; input < c.get("num_inputs").asInt(); input++) {
                    int layer = exitLayer(c, input, setting);
                    layers.add(layer);
                    histogram[layer - 1]++;
                }
                String where = c.get("name").asText() + " " + row;
                assertThat(layers).as(where).containsExactlyElementsOf(ints(row.get("exit_layers")));
                assertThat(ExpectedSaving.expectedSaving(histogram)).as(where)
                        .isCloseTo(row.get("expected_saving").asDouble(), within(1e-12));
            }
        }
        assertThat(rows).isPositive();
        assertThat(seen).containsExactlyInAnyOrder(ExitPolicy.values());
        assertThat(perLayer).containsExactlyInAnyOrder(ExitPolicy.ENTROPY, ExitPolicy.DIVERGENCE);
        assertThat(perLabel).as("label-conditional rows").containsExactlyInAnyOrder(ExitPolicy.ENTROPY, ExitPolicy.DIVERGENCE);
        assertThat(perLabelRowsUnlikeOneS).as("label-conditional rows whose exits differ from one S").isPositive();
    }

    @Test
    void predictedLabelsAndDivergenceScoresMatchPython() {
        for (JsonNode c : doc.get("cases")) {
            for (int input = 0; input < c.get("num_inputs").asInt(); input++) {
                ExitScores.OffRamp previous = null;
                for (int layer = 1; layer <= c.get("num_layers").asInt(); layer++) {
                    ExitScores.OffRamp current = ExitScores.next(previous, probs(c, input, layer));
                    String where = c.get("name").asText() + " input " + input + " layer " + layer;
                    assertThat(current.label()).as(where)
                            .isEqualTo(c.get("predicted_labels").get(input).get(layer - 1).asInt());
                    double expected = c.get("scores").get("divergence").get(input).get(layer - 1).asDouble();
                    double actual = ExitScores.score(ExitPolicy.DIVERGENCE, 0, current, previous);
                    if (layer == 1) {
                        assertThat(expected).as(where).isEqualTo(Double.POSITIVE_INFINITY);
                        assertThat(actual).as(where).isEqualTo(Double.POSITIVE_INFINITY);
                    } else {
                        assertThat(actual).as(where).isCloseTo(expected, within(1e-6));
                    }
                    assertThat(ExitScores.score(ExitPolicy.PATIENCE, 0, current, previous)).as(where)
                            .isEqualTo(c.get("scores").get("patience").get(input).get(layer - 1).asDouble());
                    previous = current;
                }
            }
        }
    }

    /** Algorithm 1 for one input, with the same calls {@code EarlyExitClassifier} makes per live row. */
    private static int exitLayer(JsonNode c, int input, ExitSetting setting) {
        int n = c.get("num_layers").asInt();
        ExitScores.OffRamp previous = null;
        for (int layer = 1; layer < n; layer++) {
            ExitScores.OffRamp current = ExitScores.next(previous, probs(c, input, layer));
            double entropy = c.get("scores").get("entropy").get(input).get(layer - 1).asDouble();
            double score = ExitScores.score(setting.policy(), entropy, current, previous);
            if (ExitScores.exits(setting, layer, current.label(), score)) {
                return layer;
            }
            previous = current;
        }
        return n;
    }

    private static float[] probs(JsonNode c, int input, int layer) {
        JsonNode p = c.get("probabilities").get(input).get(layer - 1);
        float[] out = new float[p.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = (float) p.get(k).asDouble();
        }
        return out;
    }

    private static ExitSetting setting(JsonNode row) {
        assertThat(row.has("label_thresholds")).as("format 2 row %s", row).isTrue();
        return new ExitSetting(ExitPolicy.valueOf(row.get("policy").asText().toUpperCase(java.util.Locale.ROOT)),
                row.get("threshold").asDouble(), doubles(row.get("layer_thresholds")), doubles(row.get("label_thresholds")));
    }

    /** @return the JSON list as doubles, or null for a missing or null entry */
    private static List<Double> doubles(JsonNode list) {
        if (list == null || list.isNull()) {
            return null;
        }
        List<Double> out = new ArrayList<>();
        for (JsonNode s : list) {
            out.add(s.asDouble());
        }
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asInt()));
        return out;
    }
}
