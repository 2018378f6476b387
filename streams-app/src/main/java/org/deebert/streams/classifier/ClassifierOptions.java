package org.deebert.streams.classifier;

import java.util.Objects;

/**
 * How {@link EarlyExitClassifier#load} sets up the runtime.
 *
 * @param device       where TensorFlow runs; see {@link DevicePreference}
 * @param maxBatchSize the most inputs sent through the model at once; larger calls are split into
 *                     chunks of this size (bounds memory: a chunk holds B x T x H float32 hidden states)
 */
public record ClassifierOptions(DevicePreference device, int maxBatchSize) {

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

    /**
     * @throws IllegalArgumentException if {@code maxBatchSize < 1}
     */
    public ClassifierOptions {
        Objects.requireNonNull(device, "device");
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
    }

    /**
     * AUTO device, batches of {@value #DEFAULT_MAX_BATCH_SIZE}.
     *
     * @return the default options
     */
    public static ClassifierOptions defaults() {
        return new ClassifierOptions(DevicePreference.AUTO, DEFAULT_MAX_BATCH_SIZE);
    }
}
