package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;

import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The tiny RoBERTa model in test resources ({@code tiny-roberta-model/}: random-init, byte-level BPE tokenizer,
 * exported by {@code make_tiny_model.py --roberta}) run by the unchanged runtime, against Python's reference
 * outputs: token ids from DJL's tokenizer, every off-ramp's logits, and the exit layer and label Algorithm 1
 * picks in padded batches. RoBERTa's position ids (offset by padding_idx + 1) are computed inside the
 * {@code embed} signature from the attention mask, so batches padded with id 0 (RoBERTa's pad id is 1) must
 * still give Python's numbers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TinyRobertaModelTest {

    /** Small on purpose: rows of different lengths share a padded batch. */
    private static final int MAX_BATCH = 4;
    private static final double PARITY = 1e-4;
    /** Entropy difference (nats) within which Java and Python may decide an exit differently. */
    private static final double TIE = 1e-5;
    private static final long BOS = 0; // <s>
    private static final long EOS = 2; // </s>

    private Path dir;
    private EarlyExitClassifier classifier;
    private List<String> texts;
    private List<JsonNode> references;
    private int n;

    @BeforeAll
    void load() {
        dir = TinyModel.robertaDir();
        classifier = EarlyExitClassifier.load(dir, new ClassifierOptions(ClassifierOptions.DevicePreference.AUTO, MAX_BATCH));
        texts = TinyModel.texts(dir);
        Map<String, JsonNode> bySha = TinyModel.referenceBySha256(dir);
        references = new ArrayList<>();
        for (String text : texts) {
            references.add(bySha.get(TinyModel.sha256(text)));
        }
        n = classifier.numLayers();
        assertThat(references).as("a reference line for every text").doesNotContainNull();
        assertThat(texts).hasSizeGreaterThan(MAX_BATCH);
    }

    @AfterAll
    void close() {
        if (classifier != null) {
            classifier.close();
        }
    }

    @Test
    void theResourceIsARobertaModel() throws IOException {
        JsonNode card = TinyModel.JSON.readTree(dir.resolve(ModelCard.FILE_NAME).toFile());
        assertThat(card.at("/backbone/config/model_type").asText()).isEqualTo("roberta");
        assertThat(card.at("/backbone/config/pad_token_id").asInt()).isEqualTo(1);
        JsonNode tokenizer = TinyModel.JSON.readTree(dir.resolve("tokenizer.json").toFile());
        assertThat(tokenizer.at("/model/type").asText()).isEqualTo("BPE");
        assertThat(tokenizer.at("/post_processor/type").asText()).isEqualTo("RobertaProcessing");
    }

    @Test
    void djlTokenizerGivesPythonsTokenIds() {
        boolean truncated = false;
        for (int i = 0; i < texts.size(); i++) {
            JsonNode ids = references.get(i).get("token_ids");
            long[] expected = new long[ids.size()];
            for (int t = 0; t < expected.length; t++) {
                expected[t] = ids.get(t).asLong();
            }
            long[] actual = new OffRampProbe(classifier).tokenIds(texts.get(i));
            assertThat(actual).as("token ids of text %d", i).containsExactly(expected);
            assertThat(actual[0]).isEqualTo(BOS);
            assertThat(actual[actual.length - 1]).isEqualTo(EOS);
            truncated |= actual.length == classifier.modelCard().maxSeqLength();
        }
        assertThat(truncated).as("some text is truncated to max_seq_length").isTrue();
    }

    @Test
    void everyOffRampsLogitsMatchPythonInPaddedBatches() {
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        for (int i = 0; i < texts.size(); i++) {
            JsonNode ref = references.get(i).get("logits");
            assertThat(ref).hasSize(n);
            for (int layer = 0; layer < n; layer++) {
                for (int c = 0; c < ref.get(layer).size(); c++) {
                    assertThat((double) logits[i][layer][c]).as("text %d off-ramp %d label %d", i, layer + 1, c)
                            .isCloseTo(ref.get(layer).get(c).asDouble(), within(PARITY));
                }
            }
        }
    }

    @Test
    void exitLayersAndLabelsMatchPythonForEveryDistinctThreshold() {
        // Every threshold between two neighbouring Python entropies at layers 1..n-1 (exit is entropy < S),
        // plus S = 0 (no early exit): each gives a different split of the texts over the layers.
        TreeSet<Double> entropies = new TreeSet<>();
        for (JsonNode ref : references) {
            for (int layer = 0; layer < n - 1; layer++) {
                entropies.add(TinyModel.entropyOfLogits(ref.get("logits").get(layer)));
            }
        }
        List<Double> thresholds = new ArrayList<>(List.of(0.0));
        Double previous = null;
        for (double h : entropies) {
            if (previous != null && h - previous > 4 * TIE) {
                thresholds.add((previous + h) / 2);
            }
            previous = h;
        }
        int earlyExits = 0;
        for (double s : thresholds) {
            List<Classification> result = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(s)));
            for (int i = 0; i < texts.size(); i++) {
                JsonNode ref = references.get(i).get("logits");
                int expected = n;
                for (int layer = 1; layer < n; layer++) {
                    if (TinyModel.entropyOfLogits(ref.get(layer - 1)) < s) {
                        expected = layer;
                        break;
                    }
                }
                Classification c = result.get(i);
                assertThat(c.exitLayer()).as("exit layer of text %d at S=%s", i, s).isEqualTo(expected);
                float[] expectedLogits = toFloats(ref.get(expected - 1));
                assertThat(c.labelIndex()).as("label of text %d at S=%s", i, s)
                        .isEqualTo(ExitScores.argmax(expectedLogits));
                earlyExits += expected < n ? 1 : 0;
            }
        }
        assertThat(thresholds).as("thresholds tried").hasSizeGreaterThan(2);
        assertThat(earlyExits).as("some inputs exit early").isPositive();
    }

    private static float[] toFloats(JsonNode values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values.get(i).asDouble();
        }
        return out;
    }
}
