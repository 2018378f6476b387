package org.deebert.streams.classifier;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code precision} setting: a fixed arithmetic, or {@link Mode#AUTO}, which {@link PrecisionSelfCheck} turns
 * into one at start-up (bfloat16 only where the CPU supports it and the model keeps its answers in it).
 *
 * @param mode          float32, bfloat16 or auto
 * @param checkExamples {@code precision.auto.check.examples}: the most examples the self-check runs (the file's
 *                      first ones), >= 1; it bounds the start-up time
 * @param minAgreement  {@code precision.auto.min.agreement}: the least share of examples, in (0, 1], that must get
 *                      the same label and exit layer in both precisions
 * @param checkFile     {@code precision.auto.check.file}: the examples, in the format of the model's
 *                      {@code reference_outputs.jsonl} ({@code token_ids} and {@code label} per line); null = that file
 */
public record PrecisionChoice(Mode mode, int checkExamples, double minAgreement, Path checkFile) {

    /** Default of {@code precision.auto.check.examples}. */
    public static final int DEFAULT_CHECK_EXAMPLES = 256;
    /** Default of {@code precision.auto.min.agreement}. */
    public static final double DEFAULT_MIN_AGREEMENT = 0.995;

    /** What the operator asked for. */
    public enum Mode {
        /** {@link ClassifierOptions.Precision#FLOAT32}, no check. */
        FLOAT32,
        /** {@link ClassifierOptions.Precision#BFLOAT16}, no check (the operator takes the accuracy cost). */
        BFLOAT16,
        /** bfloat16 where the CPU has AVX512-BF16 or AMX and the self-check passes, else float32. */
        AUTO
    }

    /** @throws IllegalArgumentException if {@code checkExamples < 1} or {@code minAgreement} is outside (0, 1] */
    public PrecisionChoice {
        Objects.requireNonNull(mode, "mode");
        if (checkExamples < 1) {
            throw new IllegalArgumentException("precision.auto.check.examples must be >= 1, got " + checkExamples);
        }
        if (!(minAgreement > 0 && minAgreement <= 1)) {
            throw new IllegalArgumentException("precision.auto.min.agreement must be in (0, 1], got " + minAgreement);
        }
    }

    /**
     * @param precision a fixed arithmetic
     * @return that arithmetic, with the self-check's defaults (unused)
     */
    public static PrecisionChoice fixed(ClassifierOptions.Precision precision) {
        Mode mode = precision == ClassifierOptions.Precision.BFLOAT16 ? Mode.BFLOAT16 : Mode.FLOAT32;
        return new PrecisionChoice(mode, DEFAULT_CHECK_EXAMPLES, DEFAULT_MIN_AGREEMENT, null);
    }

    /** @return the arithmetic to load before any self-check: the fixed one, float32 for auto */
    public ClassifierOptions.Precision initial() {
        return mode == Mode.BFLOAT16 ? ClassifierOptions.Precision.BFLOAT16 : ClassifierOptions.Precision.FLOAT32;
    }
}
