package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.deebert.streams.classifier.ClassifierOptions.Buckets;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Length buckets change the time, not a decision: the committed default model classifies the same mixed-length
 * texts with {@code buckets=length} and {@code buckets=none}, and every input's label, exit layer and token
 * count, and every shadow sample's off-ramp labels, must be identical, in the caller's order, with the same exit
 * histogram and layer-rows; entropies, exit scores and probabilities agree within float rounding
 * ({@link #ROUNDING}), as a text's values already do between the batches arrival order puts it in.
 *
 * <p>The texts are real e-mails: the committed model's reference inputs ({@code reference_outputs.jsonl} keeps
 * their token ids, decoded here), whole (up to 128 tokens) and cut to their first 3-63 tokens, mixed with the
 * short subject-like texts of the tiny model, in a seeded shuffled order.
 *
 * <p>The same holds when the buckets of a call run in lock-step and the survivors of several buckets share a layer
 * call ({@link GroupMerge}): a classifier whose max batch size holds the whole call runs every bucket of it in one
 * lock-step run, where short and long rows leave at different layers and the few that go deep merge; there it must
 * run fewer layer calls than its buckets would alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LengthBucketsParityTest {

    /** The committed default model; the module's working directory is streams-app/. */
    private static final Path MODEL = Path.of("..", "model-export", "models", "deebert-spamassassin-minilm-l6");
    /** Smaller than the call, so both plans span several chunks. */
    private static final int MAX_BATCH = 16;
    /** Larger than the call: all its buckets run in one lock-step run, so their survivors can merge. */
    private static final int WHOLE_CALL = 128;
    /**
     * Float rounding between batch shapes, nats or probability: the tolerance of {@link EarlyExitClassifierTest}'s
     * batch-vs-single check. Not bit-identical: a row's values move by float32 rounding (~1e-7, e.g. entropy
     * 0.69240677 vs 0.69240671) with the padded length and the rows beside it, because TensorFlow's CPU kernels
     * block and vectorise matmuls and reductions by the tensor's shape; padding itself is masked.
     */
    private static final double ROUNDING = 1e-5;

    private EarlyExitClassifier length;
    private EarlyExitClassifier none;
    private EarlyExitClassifier wholeCall;
    private List<String> texts;
    /** Mostly short texts of many lengths, a few whole e-mails: buckets whose survivors lie close enough to merge. */
    private List<String> shortTexts;
    private boolean[] shadow;
    private boolean[] shortShadow;

    @BeforeAll
    void load() throws IOException {
        length = EarlyExitClassifier.load(MODEL, new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, MAX_BATCH)
                .withBuckets(Buckets.LENGTH));
        none = EarlyExitClassifier.load(MODEL, new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, MAX_BATCH)
                .withBuckets(Buckets.NONE));
        wholeCall = EarlyExitClassifier.load(MODEL, new ClassifierOptions(ClassifierOptions.DevicePreference.CPU,
                WHOLE_CALL).withBuckets(Buckets.LENGTH));
        texts = mixedTexts(2, new int[] {3, 6, 10, 15, 24, 40, 63});
        shortTexts = mixedTexts(6, new int[] {4, 5, 6, 8, 10, 12, 14, 17, 20, 24, 28, 33, 40});
        assertThat(Math.max(texts.size(), shortTexts.size())).isLessThanOrEqualTo(WHOLE_CALL);
        shadow = every(5, texts.size());
        // Fewer shadow samples here: each keeps its bucket's group alive to layer n, so with one in five no bucket
        // thins out enough to merge.
        shortShadow = every(16, shortTexts.size());
    }

    @AfterAll
    void close() {
        Stream.of(length, none, wholeCall).filter(c -> c != null).forEach(EarlyExitClassifier::close);
    }

    /**
     * @param wholeEvery   every this many of the 48 reference e-mails is kept whole (up to 128 tokens)
     * @param prefixTokens the others are cut to these many tokens in turn
     */
    private List<String> mixedTexts(int wholeEvery, int[] prefixTokens) throws IOException {
        List<JsonNode> reference = new ArrayList<>(TinyModel.referenceBySha256(MODEL).values());
        List<String> mixed = new ArrayList<>();
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(MODEL.resolve("tokenizer.json"))) {
            for (int i = 0; i < 48; i++) {
                long[] ids = ids(reference.get(i).get("token_ids"));
                // The e-mails not kept whole are cut to a few of their first tokens (after [CLS]): texts of every
                // length.
                int keep = i % wholeEvery == 0 ? ids.length - 2
                        : Math.min(ids.length - 2, prefixTokens[(i / 2) % prefixTokens.length]);
                mixed.add(tokenizer.decode(Arrays.copyOfRange(ids, 1, 1 + keep), true));
            }
        }
        mixed.addAll(TinyModel.texts());
        Collections.shuffle(mixed, new Random(7));
        return mixed;
    }

    /** @return flags set at 0, step, 2 x step, ... below size */
    private static boolean[] every(int step, int size) {
        boolean[] flags = new boolean[size];
        for (int i = 0; i < size; i += step) {
            flags[i] = true;
        }
        return flags;
    }

    private static long[] ids(JsonNode array) {
        return IntStream.range(0, array.size()).mapToLong(i -> array.get(i).asLong()).toArray();
    }

    Stream<ExitSetting> settings() {
        ExitSetting recommended = length.recommendedSetting();
        return Stream.of(recommended, ExitSetting.entropy(0), length.modelCard().calibratedSetting(ExitPolicy.DIVERGENCE),
                length.modelCard().calibratedSetting(ExitPolicy.PATIENCE));
    }

    @ParameterizedTest
    @MethodSource("settings")
    void bucketsChangeNoDecisionAndKeepTheCallersOrder(ExitSetting setting) {
        BatchResult byLength = length.classifyBatch(ClassifyRequest.of(texts, setting));
        BatchResult inArrival = none.classifyBatch(ClassifyRequest.of(texts, setting));

        assertSameDecisions(byLength, MAX_BATCH, inArrival);
        assertThat(byLength.classifications().stream().mapToInt(Classification::exitLayer).distinct().count())
                .as("exits spread over layers").isGreaterThan(setting.threshold() == 0 ? 0 : 1);
    }

    @ParameterizedTest
    @MethodSource("settings")
    void shadowSamplesGetTheSameTracesInEitherPlan(ExitSetting setting) {
        BatchResult byLength = length.classifyBatch(new ClassifyRequest(texts, null, setting, shadow));
        BatchResult inArrival = none.classifyBatch(new ClassifyRequest(texts, null, setting, shadow));

        assertSameDecisions(byLength, MAX_BATCH, inArrival);
        assertSameTraces(byLength, inArrival, shadow);
    }

    @ParameterizedTest
    @MethodSource("settings")
    void survivorsMergedAcrossBucketsChangeNoDecision(ExitSetting setting) {
        BatchResult merged = wholeCall.classifyBatch(ClassifyRequest.of(shortTexts, setting));
        BatchResult inArrival = none.classifyBatch(ClassifyRequest.of(shortTexts, setting));

        assertSameDecisions(merged, WHOLE_CALL, inArrival);
        assertFewerLayerCallsThanBucketsAlone(merged, null, setting.threshold() != 0);
    }

    @ParameterizedTest
    @MethodSource("settings")
    void shadowSamplesGetTheSameTracesWhenSurvivorsMerge(ExitSetting setting) {
        BatchResult merged = wholeCall.classifyBatch(new ClassifyRequest(shortTexts, null, setting, shortShadow));
        BatchResult inArrival = none.classifyBatch(new ClassifyRequest(shortTexts, null, setting, shortShadow));

        assertSameDecisions(merged, WHOLE_CALL, inArrival);
        assertSameTraces(merged, inArrival, shortShadow);
        // A shadow sample keeps its group to layer n, so whether groups thin out enough to merge depends on the
        // setting; at the card's recommended setting they do.
        assertFewerLayerCallsThanBucketsAlone(merged, shortShadow, setting.equals(wholeCall.recommendedSetting()));
    }

    /**
     * Each bucket run alone calls layers 1 to the deepest exit of its rows (n for a shadow sample), and NONE's
     * chunks do exactly that; lock-step with merging never calls more, and fewer once survivors thin out.
     *
     * @param strict whether it must call fewer (not at S = 0, where every row runs every layer)
     */
    private static void assertFewerLayerCallsThanBucketsAlone(BatchResult merged, boolean[] sampled, boolean strict) {
        int[] numTokens = merged.classifications().stream().mapToInt(Classification::numTokens).toArray();
        long alone = 0;
        for (int[] bucket : LengthBuckets.plan(numTokens, WHOLE_CALL, Buckets.LENGTH)) {
            alone += Arrays.stream(bucket).map(i -> sampled != null && sampled[i]
                    ? merged.classifications().get(i).numLayers() : merged.classifications().get(i).exitLayer())
                    .max().orElseThrow();
        }
        assertThat(merged.stats().chunks()).as("buckets").isGreaterThan(1);
        if (!strict) {
            assertThat(merged.stats().layerCalls()).isLessThanOrEqualTo(alone);
        } else {
            assertThat(merged.stats().layerCalls()).as("layer calls merged vs buckets alone").isLessThan(alone);
        }
    }

    /** Every shadow sample traced in both, with the same off-ramp labels; entropies and divergences within rounding. */
    private static void assertSameTraces(BatchResult byLength, BatchResult inArrival, boolean[] shadow) {
        for (int i = 0; i < shadow.length; i++) {
            Classification a = byLength.classifications().get(i);
            Classification b = inArrival.classifications().get(i);
            assertThat(a.shadow() != null).as("text %d traced", i).isEqualTo(shadow[i]);
            assertThat(b.shadow() != null).as("text %d traced", i).isEqualTo(shadow[i]);
            if (a.shadow() != null) {
                assertThat(a.shadow().labels()).as("off-ramp labels of text %d", i).isEqualTo(b.shadow().labels());
                assertThat(a.shadow().entropies()).as("off-ramp entropies of text %d", i)
                        .containsExactly(b.shadow().entropies(), within(ROUNDING));
                for (int layer = 1; layer < a.shadow().divergences().length; layer++) { // layer 1's is +Infinity
                    assertThat(a.shadow().divergences()[layer]).as("divergence of text %d at layer %d", i, layer + 1)
                            .isCloseTo(b.shadow().divergences()[layer], within(ROUNDING));
                }
            }
        }
        long shadowExtra = IntStream.range(0, shadow.length).filter(i -> shadow[i])
                .mapToLong(i -> byLength.classifications().get(i).numLayers() - byLength.classifications().get(i).exitLayer())
                .sum(); // 0 at S = 0, where every input runs every layer
        assertThat(byLength.stats().shadowLayerRows()).isEqualTo(inArrival.stats().shadowLayerRows())
                .isEqualTo(shadowExtra);
    }

    @ParameterizedTest
    @MethodSource("settings")
    void eachResultIsItsOwnTextsNotABucketNeighbours(ExitSetting setting) {
        // An order check independent of the other plan: every 7th text classified alone.
        List<Classification> byLength = length.classify(ClassifyRequest.of(texts, setting));
        for (int i = 0; i < texts.size(); i += 7) {
            Classification alone = none.classify(ClassifyRequest.of(List.of(texts.get(i)), setting)).get(0);
            assertSameDecision(i, byLength.get(i), alone);
        }
    }

    /**
     * The same decision for every input in the same place, and the same cost: exit histogram, layer-rows; the
     * number of chunks is each plan's own.
     */
    private static void assertSameDecisions(BatchResult byLength, int maxBatch, BatchResult inArrival) {
        int size = inArrival.classifications().size();
        assertThat(byLength.classifications()).hasSize(size);
        for (int i = 0; i < size; i++) {
            assertSameDecision(i, byLength.classifications().get(i), inArrival.classifications().get(i));
        }
        BatchStats a = byLength.stats();
        BatchStats b = inArrival.stats();
        assertThat(a.rows()).isEqualTo(b.rows()).isEqualTo(size);
        assertThat(a.exitHistogram()).isEqualTo(b.exitHistogram());
        assertThat(a.layerRowsExecuted()).isEqualTo(b.layerRowsExecuted())
                .isEqualTo(byLength.classifications().stream().mapToLong(Classification::exitLayer).sum()
                        + a.shadowLayerRows());
        int[] numTokens = byLength.classifications().stream().mapToInt(Classification::numTokens).toArray();
        assertThat(b.chunks()).isEqualTo((size + MAX_BATCH - 1) / MAX_BATCH);
        assertThat(a.chunks()).isEqualTo(LengthBuckets.plan(numTokens, maxBatch, Buckets.LENGTH).size());
        if (maxBatch == MAX_BATCH) {
            assertThat(a.chunks()).isGreaterThan(b.chunks());
        }
        // NONE runs each chunk alone: one call per layer up to its deepest row (a shadow sample: layer n).
        assertThat(b.layerCalls()).isLessThanOrEqualTo((long) b.chunks() * inArrival.classifications().get(0).numLayers())
                .isGreaterThanOrEqualTo(inArrival.classifications().stream().mapToInt(Classification::exitLayer).max()
                        .orElseThrow());
    }

    /** Identical label, exit layer and token count; entropy, exit score and probabilities within float rounding. */
    private static void assertSameDecision(int i, Classification actual, Classification expected) {
        assertThat(actual.numTokens()).as("tokens of text %d", i).isEqualTo(expected.numTokens());
        assertThat(actual.label()).as("label of text %d", i).isEqualTo(expected.label());
        assertThat(actual.exitLayer()).as("exit layer of text %d", i).isEqualTo(expected.exitLayer());
        assertThat(actual.entropy()).as("entropy of text %d", i).isCloseTo(expected.entropy(), within(ROUNDING));
        if (Double.isFinite(expected.exitScore())) {
            assertThat(actual.exitScore()).as("exit score of text %d", i)
                    .isCloseTo(expected.exitScore(), within(ROUNDING));
        } else {
            assertThat(actual.exitScore()).isEqualTo(expected.exitScore());
        }
        for (int c = 0; c < expected.probabilities().length; c++) {
            assertThat(actual.probabilities()[c]).as("probability %d of text %d", c, i)
                    .isCloseTo(expected.probabilities()[c], within((float) ROUNDING));
        }
    }
}
