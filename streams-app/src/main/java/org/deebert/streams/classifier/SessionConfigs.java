package org.deebert.streams.classifier;

import ai.djl.tensorflow.engine.javacpp.JavacppUtils;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RewriterConfig;

import java.util.Base64;

/**
 * The TensorFlow session configuration ({@code ConfigProto}) for a {@link ClassifierOptions}, in the
 * form DJL's {@code ConfigProto} criteria option takes (base64 of the serialized proto).
 *
 * <p>It starts from DJL's own default ({@code JavacppUtils.getSessionConfig()}: GPU memory growth and
 * visible devices, and the {@code ai.djl.tensorflow.num_*_threads} system properties) and adds: no GPU
 * devices for {@link ClassifierOptions.DevicePreference#CPU}; the thread counts when non-zero; and for
 * {@link ClassifierOptions.Precision#BFLOAT16} Grappler's {@code auto_mixed_precision_onednn_bfloat16}
 * rewrite.
 */
final class SessionConfigs {

    private SessionConfigs() {
    }

    /**
     * @param options the classifier's options
     * @return the session config proto
     */
    static ConfigProto forOptions(ClassifierOptions options) {
        ConfigProto.Builder config = JavacppUtils.getSessionConfig().toBuilder();
        if (options.device() == ClassifierOptions.DevicePreference.CPU) {
            config.putDeviceCount("GPU", 0);
        }
        if (options.intraOpThreads() > 0) {
            config.setIntraOpParallelismThreads(options.intraOpThreads());
        }
        if (options.interOpThreads() > 0) {
            config.setInterOpParallelismThreads(options.interOpThreads());
        }
        if (options.precision() == ClassifierOptions.Precision.BFLOAT16) {
            config.getGraphOptionsBuilder().getRewriteOptionsBuilder()
                    .setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
        }
        return config.build();
    }

    /**
     * @param options the classifier's options
     * @return {@link #forOptions} serialized and base64-encoded, for {@code Criteria.optOption("ConfigProto", ...)}
     */
    static String criteriaOption(ClassifierOptions options) {
        return Base64.getEncoder().encodeToString(forOptions(options).toByteArray());
    }
}
