package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Algorithm 1 on the tiny exported model in test resources, checked against itself (batch vs one by
 * one, S extremes) and against Python (reference_outputs.jsonl: logits per off-ramp, token counts).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EarlyExitClassifierTest {

    /** Small on purpose, so the texts span several chunks. */
    private static final int MAX_BATCH = 4;
    private static final double PARITY = 1e-4;
    /** Entropy difference (nats) within which batch and single-input runs may decide an exit differently. */
    private static final double TIE = 1e-5;

    private EarlyExitClassifier classifier;
    private List<String> texts;
    private int n;
    private int classes;

    @BeforeAll
    void load() {
        classifier = EarlyExitClassifier.load(TinyModel.dir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.AUTO, MAX_BATCH));
        texts = TinyModel.texts();
        n = classifier.numLayers();
        classes = classifier.labels().size();
        assertThat(texts).as("texts file").hasSizeGreaterThan(MAX_BATCH);
    }

    @AfterAll
    void close() {
        if (classifier != null) {
            classifier.close();
        }
    }

    @Test
    void thresholdZeroSendsEveryInputToTheLastLayer() {
        BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, ExitSetting.entropy(0.0)));

        assertThat(result.classifications()).allSatisfy(c -> assertThat(c.exitLayer()).isEqualTo(n));
        long[] expected = new long[n];
        expected[n - 1] = texts.size();
        assertThat(result.stats().exitHistogram()).containsExactly(expected);
        assertThat(result.stats().layerRowsExecuted()).isEqualTo((long) n * texts.size());
        assertThat(result.stats().expectedSaving()).isEqualTo(0.0);
        assertThat(result.stats().chunks()).isEqualTo((texts.size() + MAX_BATCH - 1) / MAX_BATCH);
    }

    @Test
    void thresholdAboveLnCExitsEveryInputAtLayerOne() {
        BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, ExitSetting.entropy(Math.log(classes) + 0.01)));

        assertThat(result.classifications()).allSatisfy(c -> {
            assertThat(c.exitLayer()).isEqualTo(1);
            assertThat(c.exitScore()).isEqualTo(c.entropy());
        });
        assertThat(result.stats().layerRowsExecuted()).isEqualTo(texts.size());
        assertThat(result.stats().exitHistogram()[0]).isEqualTo(texts.size());
    }

    @Test
    void divergencePolicyNeverExitsAtLayerOne() {
        // JS divergence is at most ln 2 nats, so S above it lets every input leave at the first chance: layer 2.
        List<Classification> result = classifier.classify(ClassifyRequest.of(texts,
                new ExitSetting(ExitPolicy.DIVERGENCE, Math.log(2) + 0.01)));
        int expectedLayer = Math.min(2, n);
        assertThat(result).allSatisfy(c -> assertThat(c.exitLayer()).isEqualTo(expectedLayer));
    }

    @Test
    void batchResultEqualsOneByOneResults() {
        double s = splittingThreshold();
        List<Classification> batch = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(s)));
        assertThat(batch).as("the threshold must split the texts between layer 1 and later layers")
                .anyMatch(c -> c.exitLayer() == 1).anyMatch(c -> c.exitLayer() > 1);

        for (int i = 0; i < texts.size(); i++) {
            Classification single = classifier.classify(ClassifyRequest.of(List.of(texts.get(i)), ExitSetting.entropy(s))).get(0);
            Classification inBatch = batch.get(i);
            assertThat(inBatch.numTokens()).isEqualTo(single.numTokens());
            if (inBatch.exitLayer() != single.exitLayer()) {
                // Only a float-rounding tie may differ: padding and batch shape change results by ~1e-6.
                Classification earlier = inBatch.exitLayer() < single.exitLayer() ? inBatch : single;
                assertThat(earlier.entropy()).as("text %d exits at layer %d in the batch but %d alone", i,
                        inBatch.exitLayer(), single.exitLayer()).isCloseTo(s, within(TIE));
                continue;
            }
            assertThat(inBatch.label()).as("label of text %d", i).isEqualTo(single.label());
            for (int c = 0; c < classes; c++) {
                assertThat(inBatch.probabilities()[c]).isCloseTo(single.probabilities()[c], within(1e-5f));
            }
        }
    }

    @Test
    void everyInputLeavesAtItsFirstConfidentOffRampWithThatOffRampsPrediction() {
        // Checks Algorithm 1's row bookkeeping after boolean-mask shrinking against serving_default,
        // which runs every layer on every input without early exit.
        double s = splittingThreshold();
        List<Classification> result = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(s)));
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        for (int i = 0; i < texts.size(); i++) {
            Classification c = result.get(i);
            double[] expected = TinyModel.softmax(logits[i][c.exitLayer() - 1]);
            assertProbsClose(c.probabilities(), expected, i);
            for (int layer = 1; layer < c.exitLayer(); layer++) {
                assertThat(TinyModel.entropy(TinyModel.softmax(logits[i][layer - 1]))).as("text %d stayed past layer %d", i, layer)
                        .isGreaterThanOrEqualTo(s - TIE);
            }
            if (c.exitLayer() < n) {
                assertThat(c.entropy()).as("text %d left at layer %d", i, c.exitLayer()).isLessThan(s);
            }
        }
    }

    @Test
    void patienceKeepsARowInTheBatchUntilItsLabelHeldForTMoreOffRamps() {
        // Expected exit layers from serving_default (every off-ramp of every input, no early exit).
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        for (int t = 1; t <= n; t++) {
            BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, ExitSetting.patience(t)));
            long layerRows = 0;
            for (int i = 0; i < texts.size(); i++) {
                int expected = n;
                int streak = 0;
                for (int layer = 2; layer <= n; layer++) {
                    boolean same = ExitScores.argmax(logits[i][layer - 1]) == ExitScores.argmax(logits[i][layer - 2]);
                    streak = same ? streak + 1 : 0;
                    if (streak >= t) {
                        expected = layer;
                        break;
                    }
                }
                Classification c = result.classifications().get(i);
                assertThat(c.exitLayer()).as("text %d, patience %d", i, t).isEqualTo(expected);
                assertThat(c.labelIndex()).isEqualTo(ExitScores.argmax(logits[i][expected - 1]));
                if (expected < n) {
                    assertThat(c.exitScore()).as("agreeing earlier off-ramps (layers)").isEqualTo(t);
                }
                layerRows += expected;
            }
            assertThat(result.stats().layerRowsExecuted()).isEqualTo(layerRows);
        }
    }

    @Test
    void perLayerThresholdsApplyLayerByLayer() {
        // S_1 = 0 keeps everyone past layer 1; S_2 above ln C lets everyone leave at layer 2.
        List<Double> perLayer = new java.util.ArrayList<>();
        for (int layer = 1; layer <= n; layer++) {
            perLayer.add(layer == 1 ? 0.0 : Math.log(classes) + 0.01);
        }
        List<Classification> result = classifier.classify(ClassifyRequest.of(texts, new ExitSetting(ExitPolicy.ENTROPY, 0.0, perLayer)));
        assertThat(result).allSatisfy(c -> assertThat(c.exitLayer()).isEqualTo(Math.min(2, n)));
    }

    @Test
    void labelThresholdsLetOnlyInputsPredictedAsTheLooseLabelLeaveEarly() {
        // One label loose (S above ln C: any off-ramp predicting it lets the input out), the others S = 0 (never
        // early); then the next label loose. Expected exits from serving_default's off-ramps, no early exit.
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        int early = 0;
        for (int loose = 0; loose < classes; loose++) {
            List<Double> perLabel = new java.util.ArrayList<>();
            for (int c = 0; c < classes; c++) {
                perLabel.add(c == loose ? Math.log(classes) + 0.01 : 0.0);
            }
            BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.0, perLabel)));
            long layerRows = 0;
            for (int i = 0; i < texts.size(); i++) {
                int expected = n;
                for (int layer = 1; layer < n; layer++) {
                    if (ExitScores.argmax(logits[i][layer - 1]) == loose) {
                        expected = layer;
                        break;
                    }
                }
                Classification c = result.classifications().get(i);
                assertThat(c.exitLayer()).as("text %d, label %d loose", i, loose).isEqualTo(expected);
                if (expected < n) {
                    assertThat(c.labelIndex()).as("an early answer is the loose label").isEqualTo(loose);
                    early++;
                }
                layerRows += expected;
            }
            assertThat(result.stats().layerRowsExecuted()).isEqualTo(layerRows);
        }
        assertThat(early).as("inputs that left early under some label's loose S").isPositive();
    }

    @Test
    void aSettingThatDoesNotFitTheModelIsRefused() {
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(texts, ExitSetting.patience(n + 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1.." + n);
        List<Double> oneTooMany = java.util.Collections.nCopies(classes + 1, 0.1);
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(texts, ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.1, oneTooMany))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need " + classes + " values");
    }

    @Test
    void exitedInputsAreSkippedByLaterLayers() {
        BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, ExitSetting.entropy(splittingThreshold())));
        long sumOfExitLayers = result.classifications().stream().mapToLong(Classification::exitLayer).sum();
        assertThat(result.stats().layerRowsExecuted()).isEqualTo(sumOfExitLayers).isLessThan((long) n * texts.size());
        assertThat(result.stats().expectedSaving()).isGreaterThan(0.0);
    }

    @Test
    void offRampLogitsMatchPythonReference() {
        Map<String, JsonNode> reference = TinyModel.referenceBySha256();
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        int compared = 0;
        for (int i = 0; i < texts.size(); i++) {
            JsonNode ref = reference.get(TinyModel.sha256(texts.get(i)));
            if (ref == null) {
                continue;
            }
            compared++;
            assertThat(ref.get("logits")).hasSize(n);
            for (int layer = 0; layer < n; layer++) {
                for (int c = 0; c < classes; c++) {
                    assertThat((double) logits[i][layer][c]).as("text %d off-ramp %d label %d", i, layer + 1, c)
                            .isCloseTo(ref.get("logits").get(layer).get(c).asDouble(), within(PARITY));
                }
            }
        }
        assertThat(compared).as("texts found in reference_outputs.jsonl").isEqualTo(texts.size());
    }

    @Test
    void bfloat16PrecisionWithExplicitThreadsRunsAndStaysNearFloat32() {
        // The opt-in reduced-precision session (oneDNN bfloat16 rewrite) on the same weights: same shapes and
        // labels' order, logits near float32's (bfloat16 keeps 8 mantissa bits); on CPUs without bfloat16
        // support TensorFlow leaves the graph in float32, which passes too.
        ClassifierOptions options = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, MAX_BATCH, 1, 1,
                ClassifierOptions.Precision.BFLOAT16);
        try (EarlyExitClassifier bf16 = EarlyExitClassifier.load(TinyModel.dir(), options)) {
            assertThat(bf16.precision()).isEqualTo(ClassifierOptions.Precision.BFLOAT16);
            float[][][] reduced = new OffRampProbe(bf16).allOffRampLogits(texts);
            float[][][] full = new OffRampProbe(classifier).allOffRampLogits(texts);
            for (int i = 0; i < texts.size(); i++) {
                for (int layer = 0; layer < n; layer++) {
                    for (int c = 0; c < classes; c++) {
                        assertThat((double) reduced[i][layer][c]).as("text %d off-ramp %d label %d", i, layer + 1, c)
                                .isCloseTo(full[i][layer][c], within(0.25));
                    }
                }
            }
            List<Classification> results = bf16.classify(ClassifyRequest.of(texts, new ExitSetting(ExitPolicy.ENTROPY, 0.0)));
            assertThat(results).hasSize(texts.size()).allSatisfy(r -> assertThat(r.exitLayer()).isEqualTo(n));
        }
        assertThat(classifier.precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
    }

    @Test
    void layerByLayerProbabilitiesMatchPythonReferenceAtFirstAndLastOffRamp() {
        Map<String, JsonNode> reference = TinyModel.referenceBySha256();
        List<Classification> last = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(0.0)));
        List<Classification> first = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(Math.log(classes) + 0.01)));
        for (int i = 0; i < texts.size(); i++) {
            JsonNode logits = reference.get(TinyModel.sha256(texts.get(i))).get("logits");
            assertProbsClose(last.get(i).probabilities(), TinyModel.softmax(logits.get(n - 1)), i);
            assertProbsClose(first.get(i).probabilities(), TinyModel.softmax(logits.get(0)), i);
            assertThat(last.get(i).labelIndex()).isEqualTo(TinyModel.argmax(TinyModel.softmax(logits.get(n - 1))));
        }
    }

    @Test
    void tokenCountsAndIdsMatchPythonTokenizers() {
        Map<String, JsonNode> reference = TinyModel.referenceBySha256();
        List<Classification> result = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(0.0)));
        for (int i = 0; i < texts.size(); i++) {
            JsonNode ref = reference.get(TinyModel.sha256(texts.get(i)));
            assertThat(result.get(i).numTokens()).as("num_tokens of text %d", i).isEqualTo(ref.get("num_tokens").asInt());
            assertThat(result.get(i).numTokens()).isLessThanOrEqualTo(classifier.modelCard().maxSeqLength());
            if (ref.has("token_ids")) {
                long[] expected = new long[ref.get("token_ids").size()];
                for (int t = 0; t < expected.length; t++) {
                    expected[t] = ref.get("token_ids").get(t).asLong();
                }
                assertThat(new OffRampProbe(classifier).tokenIds(texts.get(i))).as("token ids of text %d", i).containsExactly(expected);
            }
        }
    }

    @Test
    void rejectsNullOrEmptyText() {
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(List.of("fine", ""), ExitSetting.entropy(0.1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index 1");
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(Arrays.asList("fine", null), ExitSetting.entropy(0.1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index 1");
    }

    @Test
    void exposesCardMetadata() {
        ModelCard card = ModelCard.read(TinyModel.dir());
        assertThat(classifier.labels()).isEqualTo(card.labels());
        assertThat(classifier.modelName()).isEqualTo(card.name());
        assertThat(classifier.modelVersion()).isEqualTo(card.version());
        assertThat(classifier.recommendedSetting()).isEqualTo(card.recommendedSetting());
    }

    /**
     * A threshold that splits the texts between layer 1 and later layers: the midpoint of the widest
     * gap between neighbouring layer-1 entropies.
     */
    private double splittingThreshold() {
        List<Double> layerOne = new ArrayList<>();
        for (Classification c : classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(Math.log(classes) + 0.01)))) {
            layerOne.add(c.entropy());
        }
        Collections.sort(layerOne);
        int widest = 1;
        for (int i = 2; i < layerOne.size(); i++) {
            if (layerOne.get(i) - layerOne.get(i - 1) > layerOne.get(widest) - layerOne.get(widest - 1)) {
                widest = i;
            }
        }
        return (layerOne.get(widest) + layerOne.get(widest - 1)) / 2;
    }

    private static void assertProbsClose(float[] actual, double[] expected, int text) {
        for (int c = 0; c < expected.length; c++) {
            assertThat((double) actual[c]).as("text %d label %d", text, c).isCloseTo(expected[c], within(PARITY));
        }
    }
}
