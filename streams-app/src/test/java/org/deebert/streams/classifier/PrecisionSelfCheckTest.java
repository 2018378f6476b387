package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.deebert.streams.model.StartingSetting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision of {@code precision=auto} on made-up answers (no model): {@link PrecisionSelfCheck#compare} counts,
 * {@link PrecisionSelfCheck#decide} judges. The real check on the committed model: {@link PrecisionSelfCheckModelTest}.
 */
class PrecisionSelfCheckTest {

    private static final List<String> LABELS = List.of("ham", "spam");

    @TempDir
    Path dir;

    /** n examples, the first {@code spam} of them spam; every answer right, at exit layer 2. */
    private static List<PrecisionSelfCheck.Example> examples(int n, int spam) {
        List<PrecisionSelfCheck.Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            examples.add(new PrecisionSelfCheck.Example(new long[] {101, 102}, null, i < spam ? "spam" : "ham"));
        }
        return examples;
    }

    private static List<Classification> rightAnswers(List<PrecisionSelfCheck.Example> examples) {
        List<Classification> answers = new ArrayList<>();
        for (PrecisionSelfCheck.Example e : examples) {
            answers.add(answer(e.label(), 2));
        }
        return answers;
    }

    private static Classification answer(String label, int exitLayer) {
        return new Classification(LABELS.indexOf(label), label, new float[] {0.5f, 0.5f}, exitLayer, 6, 0.1, 0.1, 2);
    }

    @Test
    void bfloat16RunsWhenAnswersAgreeAndNoProtectedLabelIsMissedMore() {
        List<PrecisionSelfCheck.Example> examples = examples(256, 80);
        List<Classification> f32 = rightAnswers(examples);
        List<Classification> bf16 = rightAnswers(examples);
        f32.set(0, answer("ham", 6));  // float32 misses a spam that bfloat16 catches: fewer misses is fine
        bf16.set(200, answer("ham", 3)); // same label, another exit layer: a disagreement, not a miss

        PrecisionSelfCheck.Figures f = PrecisionSelfCheck.compare(examples, f32, bf16, "spam", 900, 400, 1.5);
        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.decide(f, 0.99, "avx512_bf16");

        assertThat(f).isEqualTo(new PrecisionSelfCheck.Figures(256, 254, 255, "spam", 80, 1, 0, 900, 400, 1.5));
        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.BFLOAT16);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.PASSED);
        assertThat(d.detail()).isEqualTo("bfloat16: 254/256 same label and exit layer (99.2 % >= 99.0 %; 255 same label),"
                + " spam misses 0 vs 1 in float32 (cpu avx512_bf16; check 1.5 s, classifying 900 ms in float32, 400 ms in"
                + " bfloat16)");
    }

    @Test
    void float32RunsWhenTooFewAnswersAgree() {
        List<PrecisionSelfCheck.Example> examples = examples(200, 50);
        List<Classification> bf16 = rightAnswers(examples);
        bf16.set(100, answer("ham", 5)); // ham examples answered at another exit layer: 198/200 = 99.0 %
        bf16.set(101, answer("ham", 1));

        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.decide(
                PrecisionSelfCheck.compare(examples, rightAnswers(examples), bf16, "spam", 0, 0, 1.0), 0.995, "amx_bf16");

        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.FAILED);
        assertThat(d.figures().bfloat16Misses()).isZero();
        assertThat(d.figures().sameLabel()).isEqualTo(200);
        assertThat(d.detail()).startsWith("float32: bfloat16 gave 198/200 same label and exit layer (99.0 % < 99.5 %; 200 same label)");
    }

    @Test
    void float32RunsWhenBfloat16MissesTheProtectedLabelMoreOftenEvenIfEnoughAgree() {
        List<PrecisionSelfCheck.Example> examples = examples(1000, 300);
        List<Classification> bf16 = rightAnswers(examples);
        bf16.set(7, answer("ham", 2)); // one spam let through: 999/1000 agree, above 99.5 %

        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.decide(
                PrecisionSelfCheck.compare(examples, rightAnswers(examples), bf16, "spam", 0, 0, 1.0), 0.995, "amx_bf16");

        assertThat(d.figures().agreement()).isEqualTo(0.999);
        assertThat(d.figures().protectedExamples()).isEqualTo(300);
        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.FAILED);
        assertThat(d.detail()).contains("spam misses 1 vs 0 in float32");
    }

    @Test
    void withoutCpuSupportFloat32RunsAndNoModelIsLoaded() {
        PrecisionChoice auto = new PrecisionChoice(PrecisionChoice.Mode.AUTO, 256, 0.995, null);

        // The model directory does not exist: loading it would throw.
        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.choose(dir.resolve("no-model"),
                ClassifierOptions.defaults(), StartingSetting.RECOMMENDED, auto, Optional.empty());

        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.NO_CPU_SUPPORT);
        assertThat(d.detail()).contains("cpu has no AVX512-BF16/AMX");
        assertThat(d.figures()).isNull();
    }

    @Test
    void onAGpuAutoRunsFloat32WithoutACheck() {
        PrecisionChoice auto = new PrecisionChoice(PrecisionChoice.Mode.AUTO, 256, 0.995, null);

        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.choose(dir.resolve("no-model"),
                new ClassifierOptions(ClassifierOptions.DevicePreference.GPU, 32), StartingSetting.RECOMMENDED, auto,
                Optional.of("amx_bf16"));

        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.ON_GPU);
        assertThat(d.figures()).isNull();
    }

    @Test
    void aFixedPrecisionRunsAsConfiguredWithoutACheck() {
        PrecisionSelfCheck.Decision d = PrecisionSelfCheck.choose(dir.resolve("no-model"), ClassifierOptions.defaults(),
                StartingSetting.RECOMMENDED, PrecisionChoice.fixed(ClassifierOptions.Precision.BFLOAT16),
                Optional.of("amx_bf16"));

        assertThat(d.precision()).isEqualTo(ClassifierOptions.Precision.BFLOAT16);
        assertThat(d.reason()).isEqualTo(PrecisionSelfCheck.CONFIGURED);
        assertThat(d.precisionName()).isEqualTo("bfloat16");
    }

    @Test
    void theCpuFlagIsReadFromTheFlagsLine() throws IOException {
        Path amx = Files.writeString(dir.resolve("amx"), "processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n");
        Path avx = Files.writeString(dir.resolve("avx"), "flags\t\t: fpu avx512f avx512_bf16\n");
        Path none = Files.writeString(dir.resolve("none"), "flags\t\t: fpu avx2 avx512f avx512_bf16x\n");

        assertThat(PrecisionSelfCheck.bf16CpuFlag(amx)).contains("amx_bf16");
        assertThat(PrecisionSelfCheck.bf16CpuFlag(avx)).contains("avx512_bf16");
        assertThat(PrecisionSelfCheck.bf16CpuFlag(none)).isEmpty();
        assertThat(PrecisionSelfCheck.bf16CpuFlag(dir.resolve("not-linux"))).isEmpty();
    }

    @Test
    void examplesAreTheFileFirstLinesAndNeedTokenIdsAndALabel() throws IOException {
        Path file = Files.writeString(dir.resolve("check.jsonl"), """
                {"token_ids": [101, 7, 102], "label": "spam", "logits": []}
                {"token_ids": [101, 8, 102], "label": "ham"}
                {"token_ids": [101, 9, 102], "label": "ham"}
                """);
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"token_ids\": [101, 102]}\n");

        List<PrecisionSelfCheck.Example> examples = PrecisionSelfCheck.readExamples(file, 2);

        assertThat(examples).hasSize(2);
        assertThat(examples.get(0).tokenIds()).containsExactly(101, 7, 102);
        assertThat(examples.get(1).label()).isEqualTo("ham");
        assertThatThrownBy(() -> PrecisionSelfCheck.readExamples(bad, 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1 lacks token_ids or label");
    }
}
