package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.SignatureNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Algorithm 1 on the tiny sentence-pair model in test resources ({@code tiny-pair-model/}, built by
 * {@code model-export/scripts/make_tiny_pair_model.py}: subject as text, body as text pair) against Python's
 * {@code reference_outputs.jsonl} for the hand-written pairs in its {@code texts.jsonl}: token ids and token
 * type ids, every off-ramp's logits, and at S = 0, S above ln C and a threshold between, the exit layer and
 * label the reference logits imply (computed here, not by the classifier).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SentencePairClassifierTest {

    /** Small on purpose, so the pairs span several chunks. */
    private static final int MAX_BATCH = 4;
    private static final double PARITY = 1e-4;

    private EarlyExitClassifier classifier;
    private final List<String> texts = new ArrayList<>();
    private final List<String> pairs = new ArrayList<>();
    private final List<JsonNode> references = new ArrayList<>();

    static Path dir() {
        URL url = SentencePairClassifierTest.class.getResource("/tiny-pair-model/" + ModelCard.FILE_NAME);
        if (url == null) {
            throw new IllegalStateException("test resource tiny-pair-model/model_card.json is missing");
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    void load() throws IOException {
        classifier = EarlyExitClassifier.load(dir(), new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, MAX_BATCH));
        Map<String, JsonNode> byHashes = new HashMap<>();
        for (String line : Files.readAllLines(dir().resolve("reference_outputs.jsonl"), StandardCharsets.UTF_8)) {
            JsonNode ref = TinyModel.JSON.readTree(line);
            byHashes.put(ref.get("text_sha256").asText() + "/" + ref.get("text_pair_sha256").asText(), ref);
        }
        for (String line : Files.readAllLines(dir().resolve("texts.jsonl"), StandardCharsets.UTF_8)) {
            JsonNode node = TinyModel.JSON.readTree(line);
            String text = node.get("text").asText();
            String pair = node.get("text_pair").asText();
            JsonNode ref = byHashes.get(TinyModel.sha256(text) + "/" + TinyModel.sha256(pair));
            assertThat(ref).as("reference for %s", node.get("id").asText()).isNotNull();
            texts.add(text);
            pairs.add(pair);
            references.add(ref);
        }
        assertThat(texts).hasSizeGreaterThan(2 * MAX_BATCH);
    }

    @AfterAll
    void close() {
        if (classifier != null) {
            classifier.close();
        }
    }

    @Test
    void theCardSaysSentencePairsAndEmbedTakesTokenTypeIds() {
        assertThat(classifier.textPair()).isTrue();
        assertThat(classifier.modelCard().signatures().get(SignatureNames.EMBED).inputs())
                .containsKeys(SignatureNames.INPUT_IDS, SignatureNames.ATTENTION_MASK, SignatureNames.TOKEN_TYPE_IDS);
    }

    @Test
    void tokenIdsAndTokenTypeIdsEqualPythons() {
        for (int i = 0; i < texts.size(); i++) {
            long[][] tokens = new OffRampProbe(classifier).pairTokenIds(texts.get(i), pairs.get(i));
            assertThat(tokens[0]).as("ids of pair %d", i).containsExactly(longs(references.get(i).get("token_ids")));
            assertThat(tokens[1]).as("type ids of pair %d", i).containsExactly(longs(references.get(i).get("token_type_ids")));
        }
    }

    @Test
    void everyOffRampsLogitsMatchPythonsReference() {
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts, pairs);
        for (int i = 0; i < texts.size(); i++) {
            JsonNode rows = references.get(i).get("logits");
            assertThat(logits[i]).hasNumberOfRows(rows.size());
            for (int layer = 0; layer < rows.size(); layer++) {
                for (int c = 0; c < rows.get(layer).size(); c++) {
                    assertThat((double) logits[i][layer][c]).as("pair %d layer %d label %d", i, layer + 1, c)
                            .isCloseTo(rows.get(layer).get(c).asDouble(), org.assertj.core.api.Assertions.within(PARITY));
                }
            }
        }
    }

    @Test
    void exitLayersLabelsAndTokenCountsMatchTheReferenceAtSeveralThresholds() {
        int n = classifier.numLayers();
        double lnC = Math.log(classifier.labels().size());
        // A threshold between layer-1 entropies splits the pairs between layer 1 and later layers.
        List<Double> layerOne = new ArrayList<>();
        for (JsonNode ref : references) {
            layerOne.add(TinyModel.entropyOfLogits(ref.get("logits").get(0)));
        }
        layerOne.sort(Double::compare);
        double between = (layerOne.get(layerOne.size() / 2 - 1) + layerOne.get(layerOne.size() / 2)) / 2;
        for (double s : new double[] {0.0, lnC + 0.01, between}) {
            BatchResult result = classifier.classifyBatch(ClassifyRequest.pairs(texts, pairs, ExitSetting.entropy(s)));
            for (int i = 0; i < texts.size(); i++) {
                JsonNode logits = references.get(i).get("logits");
                int expected = n;
                for (int layer = 1; layer < n; layer++) {
                    if (TinyModel.entropyOfLogits(logits.get(layer - 1)) < s) {
                        expected = layer;
                        break;
                    }
                }
                Classification c = result.classifications().get(i);
                assertThat(c.exitLayer()).as("pair %d at S=%s", i, s).isEqualTo(expected);
                assertThat(c.labelIndex()).as("label of pair %d at S=%s", i, s).isEqualTo(argmax(logits.get(expected - 1)));
                assertThat(c.numTokens()).isEqualTo(references.get(i).get("num_tokens").asInt());
            }
        }
    }

    @Test
    void singleTextsAreRefusedByAPairModelWithoutQuotingThem() {
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.of(List.of("secret subject"), ExitSetting.entropy(0.0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("classifies text pairs").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> classifier.classify(ClassifyRequest.pairs(List.of("secret subject"), List.of(""), ExitSetting.entropy(0.0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("text pair at index 0 is empty");
    }

    @Test
    void aSingleTextModelRefusesTextPairs() {
        try (EarlyExitClassifier single = EarlyExitClassifier.load(TinyModel.dir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, MAX_BATCH))) {
            assertThat(single.textPair()).isFalse();
            assertThatThrownBy(() -> single.classify(ClassifyRequest.pairs(List.of("a"), List.of("b"), ExitSetting.entropy(0.0))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("classifies single texts");
        }
    }

    private static int argmax(JsonNode logits) {
        int best = 0;
        for (int c = 1; c < logits.size(); c++) {
            if (logits.get(c).asDouble() > logits.get(best).asDouble()) {
                best = c;
            }
        }
        return best;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
