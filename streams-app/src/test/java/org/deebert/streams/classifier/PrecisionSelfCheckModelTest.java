package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;

import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.StartingSetting;
import org.junit.jupiter.api.Test;

/**
 * The self-check on the committed model's reference examples, in both precisions. Which way it decides depends on
 * the CPU (without AVX512-BF16/AMX oneDNN's bfloat16 rewrite does not apply and both runs agree), so only the
 * figures' consistency is asserted; the figures are printed. All 888 examples, once:
 * {@code mvn -B -o -q test -pl schemas,streams-app -Dtest=PrecisionSelfCheckModelTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Ddeebert.precision.check.examples=888}.
 */
class PrecisionSelfCheckModelTest {

    /** The committed default model; the module's working directory is streams-app/. */
    private static final Path MODEL = Path.of("..", "model-export", "models", "deebert-spamassassin-minilm-l6");

    @Test
    void theSelfCheckRunsTheReferenceExamplesInBothPrecisionsAndCountsConsistently() {
        int n = Integer.getInteger("deebert.precision.check.examples", 64);
        List<PrecisionSelfCheck.Example> examples =
                PrecisionSelfCheck.readExamples(MODEL.resolve("reference_outputs.jsonl"), n);
        ClassifierOptions options = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU,
                ClassifierOptions.DEFAULT_MAX_BATCH_SIZE);

        PrecisionSelfCheck.Figures f = PrecisionSelfCheck.measure(MODEL, options, StartingSetting.RECOMMENDED, examples);
        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.decide(f, PrecisionChoice.DEFAULT_MIN_AGREEMENT, "test");
        System.out.println("precision self-check on " + n + " reference examples, cpu flag "
                + PrecisionSelfCheck.bf16CpuFlag(Path.of("/proc/cpuinfo")).orElse("(none)") + ": " + d.detail());

        long spam = examples.stream().filter(e -> e.label().equals("spam")).count();
        assertThat(f.examples()).isEqualTo(Math.min(n, 888));
        assertThat(f.protectedLabel()).isEqualTo("spam");
        assertThat(f.protectedExamples()).isEqualTo(spam).isPositive();
        assertThat(f.agreeing()).isBetween(0, f.sameLabel());
        assertThat(f.sameLabel()).isLessThanOrEqualTo(f.examples());
        assertThat(f.agreement()).isBetween(0.0, 1.0);
        assertThat(f.float32Misses()).isBetween(0, f.protectedExamples());
        assertThat(f.bfloat16Misses()).isBetween(0, f.protectedExamples());
        // Equal labels cannot differ in misses: each extra miss is a changed label.
        assertThat(Math.abs(f.bfloat16Misses() - f.float32Misses())).isLessThanOrEqualTo(f.examples() - f.sameLabel());
        assertThat(d.precision()).isEqualTo(f.agreement() >= PrecisionChoice.DEFAULT_MIN_AGREEMENT
                && f.bfloat16Misses() <= f.float32Misses()
                ? ClassifierOptions.Precision.BFLOAT16 : ClassifierOptions.Precision.FLOAT32);
    }

    @Test
    void tokenIdsAreClassifiedAsTheTextTheyCameFrom() {
        try (EarlyExitClassifier c = EarlyExitClassifier.load(TinyModel.dir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 4))) {
            List<String> texts = TinyModel.texts();
            OffRampProbe probe = new OffRampProbe(c);
            long[][] ids = texts.stream().map(probe::tokenIds).toArray(long[][]::new);
            ExitSetting setting = c.recommendedSetting();

            List<Classification> fromText = c.classifyBatch(ClassifyRequest.of(texts, setting)).classifications();
            List<Classification> fromIds = c.classifyTokenIds(ids, null, setting).classifications();

            for (int i = 0; i < texts.size(); i++) {
                assertThat(fromIds.get(i).label()).isEqualTo(fromText.get(i).label());
                assertThat(fromIds.get(i).exitLayer()).isEqualTo(fromText.get(i).exitLayer());
                assertThat(fromIds.get(i).numTokens()).isEqualTo(fromText.get(i).numTokens());
                assertThat(fromIds.get(i).entropy()).isCloseTo(fromText.get(i).entropy(), within(1e-6));
            }
        }
    }
}
