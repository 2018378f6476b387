package org.deebert.streams.classifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.StartingSetting;

/**
 * Turns {@code precision=auto} into an arithmetic at start-up: bfloat16 only where the CPU has AVX512-BF16 or AMX
 * (Linux {@code /proc/cpuinfo} flags {@code avx512_bf16}, {@code amx_bf16}; elsewhere unknown, so float32) and the
 * model keeps its answers in it. The self-check classifies the model's reference examples
 * ({@code reference_outputs.jsonl}, or another file of that format) at the starting exit setting in both
 * precisions and passes when
 * <ul>
 *   <li>at least {@link PrecisionChoice#minAgreement()} of them get the same label <em>and</em> exit layer, and</li>
 *   <li>bfloat16 misses no more examples of the card's protected label (true label protected, answer another)
 *       than float32 does.</li>
 * </ul>
 *
 * <p>The examples are fed as token ids ({@link EarlyExitClassifier#classifyTokenIds}): the reference file keeps the
 * ids Python fed the model, not the texts, and decoding ids back to text does not round-trip in general (the
 * uncased tokenizer lower-cases and strips accents, a cut at 128 tokens splits words), so the check runs on exactly
 * the inputs the reference was made from, through the same chunks and Algorithm 1 as the service's calls.
 */
public final class PrecisionSelfCheck {

    /** Reason: the operator fixed the precision ({@code float32} or {@code bfloat16}); no check ran. */
    public static final String CONFIGURED = "configured";
    /** Reason: auto, and the CPU has no (known) bfloat16 support; no check ran. */
    public static final String NO_CPU_SUPPORT = "no-cpu-support";
    /**
     * Reason: auto with {@code device=gpu}: float32 without a check. The bfloat16 rewrite is oneDNN's, a CPU one; on a
     * GPU session the check would compare float32 with itself and pass for nothing.
     */
    public static final String ON_GPU = "gpu";
    /** Reason: auto, and the self-check passed: bfloat16. */
    public static final String PASSED = "self-check-passed";
    /** Reason: auto, and the self-check failed: float32. */
    public static final String FAILED = "self-check-failed";

    /** The CPU flags that mean TensorFlow's oneDNN bfloat16 kernels run natively. */
    private static final List<String> BF16_FLAGS = List.of("amx_bf16", "avx512_bf16");
    private static final ObjectMapper JSON = new ObjectMapper();

    private PrecisionSelfCheck() {
    }

    /**
     * What runs and why.
     *
     * @param precision the arithmetic the classifiers load with
     * @param reason    one of {@link #CONFIGURED}, {@link #ON_GPU}, {@link #NO_CPU_SUPPORT}, {@link #PASSED}, {@link #FAILED}: a
     *                  low-cardinality metric label
     * @param detail    one sentence for the log, with the self-check's figures when it ran
     * @param figures   the self-check's figures, or null when it did not run
     */
    public record Decision(ClassifierOptions.Precision precision, String reason, String detail, Figures figures) {
        public Decision {
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }

        /** @return the precision as the setting spells it: {@code float32} or {@code bfloat16} */
        public String precisionName() {
            return precision.name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One example of the check.
     *
     * @param tokenIds the ids the model sees, [CLS]/[SEP] included
     * @param typeIds  token type ids of a sentence pair, or null
     * @param label    the true label
     */
    public record Example(long[] tokenIds, long[] typeIds, String label) {
    }

    /**
     * The self-check's figures.
     *
     * @param examples          examples run in both precisions
     * @param agreeing          examples with the same label and exit layer in both
     * @param sameLabel         examples with the same label in both (at any exit layer), >= {@code agreeing}
     * @param protectedLabel    the card's protected label, or null when it names none (then no misses are counted)
     * @param protectedExamples examples whose true label is the protected one
     * @param float32Misses     of those, the ones float32 answers with another label
     * @param bfloat16Misses    of those, the ones bfloat16 answers with another label
     * @param float32Ms         time classifying the examples in float32, ms
     * @param bfloat16Ms        time classifying the examples in bfloat16 (its first call: oneDNN's rewrite included), ms
     * @param seconds           wall time of the check: loading both sessions, reading and classifying, in s
     */
    public record Figures(int examples, int agreeing, int sameLabel, String protectedLabel, int protectedExamples,
                          int float32Misses, int bfloat16Misses, double float32Ms, double bfloat16Ms, double seconds) {

        /** @return {@code agreeing / examples}, in [0, 1] (1 for no examples) */
        public double agreement() {
            return examples == 0 ? 1.0 : (double) agreeing / examples;
        }
    }

    /**
     * Decides the arithmetic of a {@code precision} setting, running the self-check for auto on a supporting CPU.
     *
     * @param modelDir the exported model directory
     * @param options  how the service loads classifiers (device, threads, chunk size, buckets; precision ignored)
     * @param starting the exit setting the service starts from; the check runs at it
     * @param choice   the setting
     * @return what runs and why
     * @throws UncheckedIOException     if the examples cannot be read
     * @throws IllegalArgumentException if the examples file is malformed
     */
    public static Decision choose(Path modelDir, ClassifierOptions options, StartingSetting starting,
            PrecisionChoice choice) {
        return choose(modelDir, options, starting, choice, bf16CpuFlag(Path.of("/proc/cpuinfo")));
    }

    /** As {@link #choose(Path, ClassifierOptions, StartingSetting, PrecisionChoice)}, given the CPU's bf16 flag. */
    static Decision choose(Path modelDir, ClassifierOptions options, StartingSetting starting, PrecisionChoice choice,
            Optional<String> cpuFlag) {
        if (choice.mode() != PrecisionChoice.Mode.AUTO) {
            return new Decision(choice.initial(), CONFIGURED,
                    choice.initial().name().toLowerCase(Locale.ROOT) + ": set by precision", null);
        }
        if (options.device() == ClassifierOptions.DevicePreference.GPU) {
            return new Decision(ClassifierOptions.Precision.FLOAT32, ON_GPU,
                    "float32: device=gpu, where the bfloat16 rewrite (oneDNN, CPU only) does not apply", null);
        }
        if (cpuFlag.isEmpty()) {
            return new Decision(ClassifierOptions.Precision.FLOAT32, NO_CPU_SUPPORT,
                    "float32: cpu has no AVX512-BF16/AMX (no avx512_bf16 or amx_bf16 flag in /proc/cpuinfo)", null);
        }
        Path file = choice.checkFile() != null ? choice.checkFile() : modelDir.resolve("reference_outputs.jsonl");
        Figures figures = measure(modelDir, options, starting, readExamples(file, choice.checkExamples()));
        return decide(figures, choice.minAgreement(), cpuFlag.get());
    }

    /**
     * The verdict on measured figures.
     *
     * @param f            the self-check's figures
     * @param minAgreement the least share with the same label and exit layer
     * @param cpuFlag      the CPU flag that allowed the check, for the detail
     * @return bfloat16 ({@link #PASSED}) or float32 ({@link #FAILED})
     */
    static Decision decide(Figures f, double minAgreement, String cpuFlag) {
        boolean agrees = f.examples() > 0 && f.agreement() >= minAgreement;
        boolean noExtraMisses = f.bfloat16Misses() <= f.float32Misses();
        String figures = String.format(Locale.ROOT,
                "%d/%d same label and exit layer (%.1f %% %s %.1f %%; %d same label), %s misses %d vs %d in float32"
                        + " (cpu %s; check %.1f s, classifying %.0f ms in float32, %.0f ms in bfloat16)",
                f.agreeing(), f.examples(), 100 * f.agreement(), agrees ? ">=" : "<", 100 * minAgreement, f.sameLabel(),
                f.protectedLabel() == null ? "protected-label" : f.protectedLabel(), f.bfloat16Misses(),
                f.float32Misses(), cpuFlag, f.seconds(), f.float32Ms(), f.bfloat16Ms());
        if (agrees && noExtraMisses) {
            return new Decision(ClassifierOptions.Precision.BFLOAT16, PASSED, "bfloat16: " + figures, f);
        }
        return new Decision(ClassifierOptions.Precision.FLOAT32, FAILED, "float32: bfloat16 gave " + figures, f);
    }

    /**
     * Runs the examples at the starting setting in float32 and in bfloat16 (two sessions, loaded here and closed)
     * and compares the answers.
     *
     * @param modelDir the exported model directory
     * @param options  device, threads, chunk size and buckets (precision ignored)
     * @param starting the exit setting to classify at
     * @param examples the examples
     * @return the figures
     */
    public static Figures measure(Path modelDir, ClassifierOptions options, StartingSetting starting,
            List<Example> examples) {
        long start = System.nanoTime();
        long[][] ids = examples.stream().map(Example::tokenIds).toArray(long[][]::new);
        long[][] types = examples.stream().anyMatch(e -> e.typeIds() == null) ? null
                : examples.stream().map(Example::typeIds).toArray(long[][]::new);
        BatchResult f32;
        BatchResult bf16;
        String protectedLabel;
        try (EarlyExitClassifier c = EarlyExitClassifier.load(modelDir,
                options.withPrecision(ClassifierOptions.Precision.FLOAT32))) {
            ExitSetting setting = c.startingSetting(starting);
            protectedLabel = c.modelCard().checkedProtectedLabel();
            f32 = c.classifyTokenIds(ids, types, setting);
        }
        try (EarlyExitClassifier c = EarlyExitClassifier.load(modelDir,
                options.withPrecision(ClassifierOptions.Precision.BFLOAT16))) {
            bf16 = c.classifyTokenIds(ids, types, c.startingSetting(starting));
        }
        return compare(examples, f32.classifications(), bf16.classifications(), protectedLabel,
                f32.stats().elapsedMs(), bf16.stats().elapsedMs(), (System.nanoTime() - start) / 1e9);
    }

    /**
     * @param examples       the examples, with true labels
     * @param f32            float32's answers, in example order
     * @param bf16           bfloat16's answers, in example order
     * @param protectedLabel the protected label, or null
     * @param float32Ms      float32's classifying time, ms
     * @param bfloat16Ms     bfloat16's classifying time, ms
     * @param seconds        the check's wall time, s
     * @return the figures
     */
    static Figures compare(List<Example> examples, List<Classification> f32, List<Classification> bf16,
            String protectedLabel, double float32Ms, double bfloat16Ms, double seconds) {
        if (f32.size() != examples.size() || bf16.size() != examples.size()) {
            throw new IllegalArgumentException(examples.size() + " examples but " + f32.size() + " and " + bf16.size()
                    + " answers");
        }
        int agreeing = 0;
        int sameLabel = 0;
        int protectedExamples = 0;
        int f32Misses = 0;
        int bf16Misses = 0;
        for (int i = 0; i < examples.size(); i++) {
            Classification a = f32.get(i);
            Classification b = bf16.get(i);
            if (a.labelIndex() == b.labelIndex()) {
                sameLabel++;
                agreeing += a.exitLayer() == b.exitLayer() ? 1 : 0;
            }
            if (protectedLabel != null && protectedLabel.equals(examples.get(i).label())) {
                protectedExamples++;
                f32Misses += protectedLabel.equals(a.label()) ? 0 : 1;
                bf16Misses += protectedLabel.equals(b.label()) ? 0 : 1;
            }
        }
        return new Figures(examples.size(), agreeing, sameLabel, protectedLabel, protectedExamples, f32Misses, bf16Misses,
                float32Ms, bfloat16Ms, seconds);
    }

    /**
     * Reads the first examples of a JSON-lines file in the format of {@code reference_outputs.jsonl}: per line
     * {@code token_ids} (ints), {@code label} (the true label's name) and, for sentence pairs, {@code token_type_ids};
     * other fields are ignored.
     *
     * @param file the file
     * @param max  the most examples to read
     * @return up to {@code max} examples, in file order
     * @throws UncheckedIOException     if the file cannot be read
     * @throws IllegalArgumentException if a line lacks {@code token_ids} or {@code label}, or is not JSON
     */
    public static List<Example> readExamples(Path file, int max) {
        List<Example> examples = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while (examples.size() < max && (line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = JSON.readTree(line);
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + " line " + lineNo + " is not JSON: " + e.getMessage());
                }
                if (!row.path("token_ids").isArray() || !row.path("label").isTextual()) {
                    throw new IllegalArgumentException(file + " line " + lineNo + " lacks token_ids or label");
                }
                examples.add(new Example(longs(row.get("token_ids")),
                        row.has("token_type_ids") ? longs(row.get("token_type_ids")) : null, row.get("label").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read precision self-check examples " + file, e);
        }
        return examples;
    }

    private static long[] longs(JsonNode array) {
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asLong();
        }
        return values;
    }

    /**
     * @param cpuinfo Linux's {@code /proc/cpuinfo}
     * @return the first bfloat16 flag of its {@code flags} line ({@code amx_bf16}, {@code avx512_bf16}), or empty
     *     when it has none or cannot be read (not Linux: support unknown)
     */
    public static Optional<String> bf16CpuFlag(Path cpuinfo) {
        try (BufferedReader in = Files.newBufferedReader(cpuinfo, StandardCharsets.US_ASCII)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("flags")) {
                    List<String> flags = Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                    return BF16_FLAGS.stream().filter(flags::contains).findFirst();
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
