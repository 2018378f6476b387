package org.deebert.streams.classifier;

import java.util.Objects;

/**
 * How {@link EarlyExitClassifier#load} sets up the runtime.
 *
 * @param device         where TensorFlow runs; see {@link DevicePreference}
 * @param maxBatchSize   the most inputs sent through the model at once; larger calls are split into
 *                       chunks of this size (bounds memory: a chunk holds B x T x H float32 hidden states)
 * @param intraOpThreads threads one TensorFlow op may use (session {@code intra_op_parallelism_threads});
 *                       0 = TensorFlow's default (all cores)
 * @param interOpThreads ops TensorFlow may run at once (session {@code inter_op_parallelism_threads});
 *                       0 = TensorFlow's default (all cores)
 * @param precision      the arithmetic of the model; see {@link Precision}
 * @param buckets        how a call's inputs are split into the chunks run through the model; see {@link Buckets}
 */
public record ClassifierOptions(DevicePreference device, int maxBatchSize, int intraOpThreads, int interOpThreads,
                                Precision precision, Buckets buckets) {

    /** Default chunk size: large enough to amortise the per-signature call cost, small enough for CPU caches. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;

    /** Where TensorFlow should run. */
    public enum DevicePreference {
        /** GPU 0 when TensorFlow sees one (GPU natives and a CUDA device present), else CPU. */
        AUTO,
        /** CPU only, even when a GPU is visible (TF session configured with no GPU devices). */
        CPU,
        /** GPU 0; loading fails with IllegalStateException when TensorFlow sees no GPU. */
        GPU
    }

    /** The arithmetic the model runs in. Only {@link #FLOAT32} keeps exact parity with Python. */
    public enum Precision {
        /** Every op in float32, as exported and as Python evaluated it (the model card's numbers hold). */
        FLOAT32,
        /**
         * TensorFlow's oneDNN auto-mixed-precision rewrite ({@code auto_mixed_precision_onednn_bfloat16}):
         * matmuls and most element-wise ops run in bfloat16 (8-bit mantissa) on CPUs with AVX512-BF16 or
         * AMX, softmax/layer-norm statistics stay float32. Much faster on such CPUs at batch sizes above a
         * few; logits move by up to ~1e-2 and some exit decisions change: the benchmark prints the
         * accuracy cost. Opt-in only (or chosen by {@link PrecisionSelfCheck} for {@code precision=auto}); it has no
         * effect on a GPU session's GPU ops.
         */
        BFLOAT16
    }

    /**
     * How one call's inputs are grouped into chunks (each padded to its longest row; with {@link #LENGTH} the
     * survivors of several chunks may share a layer call, {@link GroupMerge}). Labels and exit layers are the same either way (unless a score lies within float32 rounding
     * of its threshold); entropies and probabilities move by rounding (~1e-7), as they already do with a text's
     * neighbours in a batch. The time differs: {@link LengthBuckets}.
     */
    public enum Buckets {
        /**
         * Inputs sorted by token count and cut into buckets of similar length (at most max batch size each), so
         * short texts are not padded to a long neighbour's length; results still come back in input order. The
         * buckets of a call run in lock-step, layer by layer, and their survivors share one layer call where that is
         * cheaper than a call each ({@link GroupMerge}).
         */
        LENGTH,
        /** Chunks of max batch size inputs in arrival order, each padded to its longest input and run on its own. */
        NONE
    }

    /**
     * @throws IllegalArgumentException if {@code maxBatchSize < 1} or a thread count is negative
     */
    public ClassifierOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(buckets, "buckets");
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (intraOpThreads < 0 || interOpThreads < 0) {
            throw new IllegalArgumentException("thread counts must be >= 0 (0 = TensorFlow's default), got intra "
                    + intraOpThreads + ", inter " + interOpThreads);
        }
    }

    /**
     * Length buckets ({@link Buckets#LENGTH}).
     *
     * @throws IllegalArgumentException as the canonical constructor
     */
    public ClassifierOptions(DevicePreference device, int maxBatchSize, int intraOpThreads, int interOpThreads,
            Precision precision) {
        this(device, maxBatchSize, intraOpThreads, interOpThreads, precision, Buckets.LENGTH);
    }

    /**
     * TensorFlow's default threads, float32, length buckets.
     *
     * @param device       where TensorFlow runs
     * @param maxBatchSize chunk size, >= 1
     */
    public ClassifierOptions(DevicePreference device, int maxBatchSize) {
        this(device, maxBatchSize, 0, 0, Precision.FLOAT32);
    }

    /**
     * AUTO device, batches of {@value #DEFAULT_MAX_BATCH_SIZE}, TensorFlow's default threads, float32, length
     * buckets.
     *
     * @return the default options
     */
    public static ClassifierOptions defaults() {
        return new ClassifierOptions(DevicePreference.AUTO, DEFAULT_MAX_BATCH_SIZE);
    }

    /**
     * @param newPrecision the precision
     * @return these options with another precision
     */
    public ClassifierOptions withPrecision(Precision newPrecision) {
        return new ClassifierOptions(device, maxBatchSize, intraOpThreads, interOpThreads, newPrecision, buckets);
    }

    /**
     * @param intra intra-op threads (0 = TensorFlow's default)
     * @param inter inter-op threads (0 = TensorFlow's default)
     * @return these options with other thread counts
     */
    public ClassifierOptions withThreads(int intra, int inter) {
        return new ClassifierOptions(device, maxBatchSize, intra, inter, precision, buckets);
    }

    /**
     * @param newBuckets how a call's inputs are split into chunks
     * @return these options with another bucketing
     */
    public ClassifierOptions withBuckets(Buckets newBuckets) {
        return new ClassifierOptions(device, maxBatchSize, intraOpThreads, interOpThreads, precision, newBuckets);
    }
}
