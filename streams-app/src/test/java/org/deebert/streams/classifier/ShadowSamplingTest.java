package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Shadow samples ({@link EarlyExitClassifier#classifyBatch(ClassifyRequest)} with shadow flags) on the tiny
 * exported model: a shadow row keeps its policy exit but runs every layer and carries a {@link ShadowTrace};
 * checked against the same call without shadow flags and against {@code serving_default} (every off-ramp of
 * every input, no early exit).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShadowSamplingTest {

    /** Small on purpose: the texts span several chunks, some with shadow rows and some without. */
    private static final int MAX_BATCH = 4;
    /** Float rounding between batch shapes (and serving_default vs layer by layer), nats or probability. */
    private static final double CLOSE = 1e-5;

    private EarlyExitClassifier classifier;
    private List<String> texts;
    private int n;
    /** softmax of every off-ramp of every text, {@code [text][layer-1][label]}, from serving_default */
    private double[][][] probs;
    /** every third text, starting with the first */
    private boolean[] shadow;

    @BeforeAll
    void load() {
        classifier = EarlyExitClassifier.load(TinyModel.dir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.AUTO, MAX_BATCH));
        texts = TinyModel.texts();
        n = classifier.numLayers();
        assertThat(n).as("layers of the tiny model").isGreaterThanOrEqualTo(3);
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);
        probs = new double[texts.size()][n][];
        for (int i = 0; i < texts.size(); i++) {
            for (int layer = 0; layer < n; layer++) {
                probs[i][layer] = TinyModel.softmax(logits[i][layer]);
            }
        }
        shadow = new boolean[texts.size()];
        for (int i = 0; i < texts.size(); i += 3) {
            shadow[i] = true;
        }
    }

    @AfterAll
    void close() {
        if (classifier != null) {
            classifier.close();
        }
    }

    @Test
    void entropyShadowRowsKeepTheirPolicyExitAndTraceEveryOffRamp() {
        checkShadowRun(entropySetting());
    }

    @Test
    void divergenceShadowRowsKeepTheirPolicyExitAndTraceEveryOffRamp() {
        checkShadowRun(divergenceSetting());
    }

    @Test
    void patienceShadowRowsKeepTheirPolicyExitAndTraceEveryOffRamp() {
        checkShadowRun(ExitSetting.patience(1));
    }

    @Test
    void noFlagsOrAllFalseIsTheCallWithoutShadow() {
        ExitSetting setting = entropySetting();
        BatchResult plain = classifier.classifyBatch(ClassifyRequest.of(texts, setting));
        for (boolean[] none : new boolean[][] {null, new boolean[texts.size()]}) {
            BatchResult result = classifier.classifyBatch(new ClassifyRequest(texts, null, setting, none));
            assertThat(result.stats().shadowLayerRows()).isZero();
            assertThat(result.stats().layerRowsExecuted()).isEqualTo(plain.stats().layerRowsExecuted());
            assertThat(result.stats().exitHistogram()).containsExactly(plain.stats().exitHistogram());
            for (int i = 0; i < texts.size(); i++) {
                Classification c = result.classifications().get(i);
                Classification p = plain.classifications().get(i);
                assertThat(c.shadow()).isNull();
                assertThat(c.exitLayer()).isEqualTo(p.exitLayer());
                assertThat(c.labelIndex()).isEqualTo(p.labelIndex());
                assertThat(c.probabilities()).containsExactly(p.probabilities());
                assertThat(c.entropy()).isEqualTo(p.entropy());
                assertThat(c.exitScore()).isEqualTo(p.exitScore());
            }
        }
    }

    @Test
    void allRowsShadowAndAllExitingAtLayerOneStillRunEveryLayer() {
        // Every row leaves at layer 1 by the policy, so without the shadow the batch would be empty after it.
        ExitSetting setting = ExitSetting.entropy(Math.log(classifier.labels().size()) + 0.01);
        boolean[] all = new boolean[texts.size()];
        Arrays.fill(all, true);
        BatchResult result = classifier.classifyBatch(new ClassifyRequest(texts, null, setting, all));
        assertThat(result.classifications()).allSatisfy(c -> {
            assertThat(c.exitLayer()).isEqualTo(1);
            assertThat(c.shadow()).isNotNull();
        });
        long[] histogram = new long[n];
        histogram[0] = texts.size();
        assertThat(result.stats().exitHistogram()).containsExactly(histogram);
        assertThat(result.stats().layerRowsExecuted()).isEqualTo((long) n * texts.size());
        assertThat(result.stats().shadowLayerRows()).isEqualTo((long) (n - 1) * texts.size());
        for (int i = 0; i < texts.size(); i++) {
            assertTraceMatchesServingDefault(i, result.classifications().get(i).shadow());
        }
    }

    @Test
    void aShadowRowLongerThanEveryRowStillDecidingKeepsItsPaddingColumns() {
        // Three rows: a long text that leaves at layer 1 as a shadow sample, a shorter one that stays, and the
        // long text again without the flag, which leaves at layer 1 and so makes the batch shrink after layer 1.
        // The columns only the long text needs must not be dropped then: its shadow sample still needs them.
        int[] tokens = classifier.classify(ClassifyRequest.of(texts, ExitSetting.entropy(0.0))).stream()
                .mapToInt(Classification::numTokens).toArray();
        int longer = -1;
        int shorter = -1;
        double gap = 0;
        for (int a = 0; a < texts.size(); a++) {
            for (int b = 0; b < texts.size(); b++) {
                double d = TinyModel.entropy(probs[b][0]) - TinyModel.entropy(probs[a][0]);
                if (tokens[a] > tokens[b] && d > gap) {
                    longer = a;
                    shorter = b;
                    gap = d;
                }
            }
        }
        assertThat(longer).as("a longer text more confident at layer 1 than a shorter one").isNotNegative();
        assertThat(gap).isGreaterThan(1e-3);
        List<String> batch = List.of(texts.get(longer), texts.get(shorter), texts.get(longer));
        ExitSetting setting = ExitSetting.entropy((TinyModel.entropy(probs[longer][0]) + TinyModel.entropy(probs[shorter][0])) / 2);

        BatchResult result = classifier.classifyBatch(new ClassifyRequest(batch, null, setting, new boolean[] {true, false, false}));
        BatchResult plain = classifier.classifyBatch(ClassifyRequest.of(batch, setting));

        List<Classification> c = result.classifications();
        assertThat(c.get(0).exitLayer()).isEqualTo(1);
        assertThat(c.get(1).exitLayer()).isGreaterThan(1);
        assertThat(c.get(2).shadow()).isNull();
        assertTraceMatchesServingDefault(longer, c.get(0).shadow());
        for (int i = 0; i < batch.size(); i++) {
            assertSameClassification(c.get(i), plain.classifications().get(i), setting, i);
        }
        assertThat(result.stats().shadowLayerRows()).isEqualTo(n - 1);
        assertThat(result.stats().layerRowsExecuted()).isEqualTo(1 + c.get(1).exitLayer() + 1 + (n - 1));
    }

    @Test
    void aShadowArrayOfAnotherLengthIsRejected() {
        ExitSetting setting = entropySetting();
        assertThatThrownBy(() -> classifier.classifyBatch(new ClassifyRequest(texts, null, setting, new boolean[texts.size() - 1])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shadow flags");
        assertThatThrownBy(() -> classifier.classify(new ClassifyRequest(texts, null, setting, new boolean[texts.size() + 1])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shadow flags");
        TextClassifier asInterface = classifier;
        assertThatThrownBy(() -> asInterface.classify(new ClassifyRequest(texts, null, setting, new boolean[0])))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theInterfaceCallReturnsTraces() {
        TextClassifier asInterface = classifier;
        List<Classification> result = asInterface.classify(new ClassifyRequest(texts, null, entropySetting(), shadow));
        for (int i = 0; i < texts.size(); i++) {
            assertThat(result.get(i).shadow() != null).as("text %d has a trace", i).isEqualTo(shadow[i]);
        }
    }

    /** Checks (a) to (d) of one setting: policy results unchanged, traces, replayed exits, costs. */
    private void checkShadowRun(ExitSetting setting) {
        BatchResult plain = classifier.classifyBatch(ClassifyRequest.of(texts, setting));
        BatchResult result = classifier.classifyBatch(new ClassifyRequest(texts, null, setting, shadow.clone()));
        List<Classification> withShadow = result.classifications();
        assertThat(withShadow).hasSize(texts.size());
        assertThat(withShadow).as("a shadow row the policy lets out before layer n")
                .anySatisfy(c -> {
                    assertThat(c.shadow()).isNotNull();
                    assertThat(c.exitLayer()).isLessThan(n);
                });
        assertThat(withShadow).as("a row that stays past layer 1").anyMatch(c -> c.exitLayer() > 1);

        long sumOfExitLayers = 0;
        long shadowExtra = 0;
        for (int i = 0; i < texts.size(); i++) {
            Classification c = withShadow.get(i);
            // (a) the policy's answer is the one of the run without shadow samples
            assertSameClassification(c, plain.classifications().get(i), setting, i);
            sumOfExitLayers += c.exitLayer();
            if (!shadow[i]) {
                assertThat(c.shadow()).as("text %d is not a shadow sample", i).isNull();
                continue;
            }
            shadowExtra += n - c.exitLayer();
            ShadowTrace trace = c.shadow();
            assertThat(trace).as("trace of text %d", i).isNotNull();
            // (b) every off-ramp, as serving_default computes it
            assertTraceMatchesServingDefault(i, trace);
            // the trace at the exit layer is what the classification reports
            assertThat(trace.labels()[c.exitLayer() - 1]).isEqualTo(c.labelIndex());
            assertThat(trace.entropies()[c.exitLayer() - 1]).isEqualTo(c.entropy());
            // (c) replaying the setting on the trace gives the policy's exit
            if (setting.policy() == ExitPolicy.PATIENCE) {
                assertThat(patienceExit(trace.labels(), (int) setting.threshold())).as("text %d", i)
                        .isEqualTo(c.exitLayer());
            } else {
                assertThat(trace.score(setting.policy(), c.exitLayer())).isEqualTo(c.exitScore());
                assertThat(trace.exitLayer(setting)).as("replayed exit of text %d", i).isEqualTo(c.exitLayer());
            }
        }
        // (d) costs: every row's policy exit, plus the shadow rows' layers after it
        BatchStats stats = result.stats();
        assertThat(stats.shadowLayerRows()).isEqualTo(shadowExtra).isPositive();
        assertThat(stats.layerRowsExecuted()).isEqualTo(sumOfExitLayers + stats.shadowLayerRows());
        assertThat(stats.layerRowsExecuted() - stats.shadowLayerRows()).isEqualTo(plain.stats().layerRowsExecuted());
        assertThat(stats.exitHistogram()).containsExactly(plain.stats().exitHistogram());
        assertThat(stats.expectedSaving()).isEqualTo(plain.stats().expectedSaving());
        assertThat(stats.rows()).isEqualTo(texts.size());
        assertThat(stats.chunks()).isEqualTo(plain.stats().chunks());
    }

    /**
     * Same label, probabilities, exit layer, entropy and exit score. Floats may differ by rounding (the shadow
     * rows change the batch shapes of later layers); the thresholds sit in wide gaps between scores, so the exit
     * layer must be the same.
     */
    private void assertSameClassification(Classification actual, Classification expected, ExitSetting setting,
            int text) {
        assertThat(actual.numTokens()).isEqualTo(expected.numTokens());
        assertThat(actual.numLayers()).isEqualTo(expected.numLayers());
        assertThat(actual.exitLayer()).as("exit layer of text %d", text).isEqualTo(expected.exitLayer());
        assertThat(actual.labelIndex()).as("label of text %d", text).isEqualTo(expected.labelIndex());
        assertThat(actual.label()).isEqualTo(expected.label());
        assertThat(actual.probabilities()).hasSameSizeAs(expected.probabilities());
        for (int c = 0; c < expected.probabilities().length; c++) {
            assertThat((double) actual.probabilities()[c]).as("text %d label %d", text, c)
                    .isCloseTo(expected.probabilities()[c], within(CLOSE));
        }
        assertThat(actual.entropy()).as("entropy of text %d", text).isCloseTo(expected.entropy(), within(CLOSE));
        if (setting.policy() == ExitPolicy.PATIENCE || Double.isInfinite(expected.exitScore())) {
            assertThat(actual.exitScore()).as("exit score of text %d", text).isEqualTo(expected.exitScore());
        } else {
            assertThat(actual.exitScore()).as("exit score of text %d", text)
                    .isCloseTo(expected.exitScore(), within(CLOSE));
        }
    }

    private void assertTraceMatchesServingDefault(int text, ShadowTrace trace) {
        assertThat(trace.numLayers()).isEqualTo(n);
        for (int layer = 1; layer <= n; layer++) {
            double[] p = probs[text][layer - 1];
            if (Math.abs(p[TinyModel.argmax(p)] - secondLargest(p)) > CLOSE) {
                assertThat(trace.labels()[layer - 1]).as("label of text %d at off-ramp %d", text, layer)
                        .isEqualTo(TinyModel.argmax(p));
            }
            assertThat(trace.entropies()[layer - 1]).as("entropy of text %d at off-ramp %d", text, layer)
                    .isCloseTo(TinyModel.entropy(p), within(CLOSE));
            if (layer == 1) {
                assertThat(trace.divergences()[0]).isEqualTo(Double.POSITIVE_INFINITY);
            } else {
                assertThat(trace.divergences()[layer - 1]).as("divergence of text %d at off-ramp %d", text, layer)
                        .isCloseTo(jensenShannon(p, probs[text][layer - 2]), within(CLOSE));
            }
        }
        assertThat(trace.fullModelLabel()).isEqualTo(trace.labels()[n - 1]);
    }

    /** PABEE on a trace's labels: the first layer whose label has held for {@code patience} more off-ramps. */
    private static int patienceExit(int[] labels, int patience) {
        int streak = 0;
        for (int layer = 2; layer <= labels.length; layer++) {
            streak = labels[layer - 1] == labels[layer - 2] ? streak + 1 : 0;
            if (streak >= patience) {
                return layer;
            }
        }
        return labels.length;
    }

    /** ENTROPY with S in the middle of the widest gap among the middle half of all off-ramps' entropies. */
    private ExitSetting entropySetting() {
        List<Double> scores = new ArrayList<>();
        for (double[][] text : probs) {
            for (int layer = 1; layer < n; layer++) {
                scores.add(TinyModel.entropy(text[layer - 1]));
            }
        }
        return ExitSetting.entropy(middleGap(scores, 1e-4));
    }

    /** DIVERGENCE with S in the middle of the widest gap among the middle half of all divergences (layer >= 2). */
    private ExitSetting divergenceSetting() {
        List<Double> scores = new ArrayList<>();
        for (double[][] text : probs) {
            for (int layer = 2; layer < n; layer++) {
                scores.add(jensenShannon(text[layer - 1], text[layer - 2]));
            }
        }
        // The tiny random-init model's off-ramps are near-uniform: divergences are ~1e-4 nats, rounding ~1e-9.
        return new ExitSetting(ExitPolicy.DIVERGENCE, middleGap(scores, 1e-6));
    }

    /**
     * The midpoint of the widest gap between neighbours among the middle half of the sorted scores; every score
     * is then at least half that gap from the threshold, so float rounding cannot move an exit.
     */
    private static double middleGap(List<Double> scores, double minGap) {
        Collections.sort(scores);
        int from = scores.size() / 4;
        int to = 3 * scores.size() / 4;
        int widest = from + 1;
        for (int i = from + 1; i <= to; i++) {
            if (scores.get(i) - scores.get(i - 1) > scores.get(widest) - scores.get(widest - 1)) {
                widest = i;
            }
        }
        assertThat(scores.get(widest) - scores.get(widest - 1)).as("gap around the threshold").isGreaterThan(minGap);
        return (scores.get(widest) + scores.get(widest - 1)) / 2;
    }

    /** Jensen-Shannon divergence in nats, in double (independent of {@link ExitScores#jensenShannon}). */
    private static double jensenShannon(double[] p, double[] q) {
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            double m = (p[c] + q[c]) / 2;
            sum += p[c] > 0 ? 0.5 * p[c] * Math.log(p[c] / m) : 0;
            sum += q[c] > 0 ? 0.5 * q[c] * Math.log(q[c] / m) : 0;
        }
        return sum;
    }

    private static double secondLargest(double[] p) {
        int best = TinyModel.argmax(p);
        double second = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < p.length; c++) {
            if (c != best) {
                second = Math.max(second, p[c]);
            }
        }
        return p.length == 1 ? Double.NEGATIVE_INFINITY : second;
    }
}
