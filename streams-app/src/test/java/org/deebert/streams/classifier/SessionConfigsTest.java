package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RewriterConfig;

class SessionConfigsTest {

    @Test
    void defaultsLeaveThreadsToTensorFlowAndComputeInFloat32() {
        ConfigProto c = SessionConfigs.forOptions(new ClassifierOptions(ClassifierOptions.DevicePreference.AUTO, 8));

        assertThat(c.getIntraOpParallelismThreads()).isZero();
        assertThat(c.getInterOpParallelismThreads()).isZero();
        assertThat(c.getDeviceCountMap()).doesNotContainKey("GPU");
        assertThat(c.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16())
                .isNotEqualTo(RewriterConfig.Toggle.ON);
    }

    @Test
    void cpuThreadsAndBfloat16AreSetWhenAsked() {
        ClassifierOptions options = new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, 8, 2, 1,
                ClassifierOptions.Precision.BFLOAT16);

        ConfigProto c = SessionConfigs.forOptions(options);

        assertThat(c.getDeviceCountMap()).containsEntry("GPU", 0);
        assertThat(c.getIntraOpParallelismThreads()).isEqualTo(2);
        assertThat(c.getInterOpParallelismThreads()).isEqualTo(1);
        assertThat(c.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16())
                .isEqualTo(RewriterConfig.Toggle.ON);
        assertThat(ConfigProtoFromOption.parse(SessionConfigs.criteriaOption(options))).isEqualTo(c);
    }

    /** Decodes the criteria option the way DJL's TfModel does (base64 of the serialized proto). */
    private static final class ConfigProtoFromOption {
        static ConfigProto parse(String option) {
            try {
                return ConfigProto.parseFrom(java.util.Base64.getDecoder().decode(option));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
    }
}
