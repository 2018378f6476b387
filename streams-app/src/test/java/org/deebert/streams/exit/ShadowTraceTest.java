package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShadowTraceTest {

    private static final double INF = Double.POSITIVE_INFINITY;

    // Layer 1 says label 1, layers 2..4 say 0 (the full model's answer).
    private final ShadowTrace trace = new ShadowTrace(new int[] {1, 0, 0, 0}, new double[] {0.5, 0.2, 0.1, 0.0},
            new double[] {INF, 0.3, 0.05, 0.0});

    @Test
    void entropyExitIsTheFirstLayerStrictlyBelowS() {
        assertThat(trace.exitLayer(ExitSetting.entropy(0.6))).isEqualTo(1);
        assertThat(trace.exitLayer(ExitSetting.entropy(0.5))).isEqualTo(2); // 0.5 is not < 0.5
        assertThat(trace.exitLayer(ExitSetting.entropy(0.3))).isEqualTo(2);
        assertThat(trace.exitLayer(ExitSetting.entropy(0.2))).isEqualTo(3); // 0.2 is not < 0.2
        assertThat(trace.exitLayer(ExitSetting.entropy(0.1))).isEqualTo(4);
        assertThat(trace.exitLayer(ExitSetting.entropy(0.0))).isEqualTo(4);
    }

    @Test
    void divergenceNeverExitsAtLayerOne() {
        ExitSetting big = new ExitSetting(ExitPolicy.DIVERGENCE, 100.0);
        assertThat(trace.exitLayer(big)).isEqualTo(2);
        assertThat(trace.exitLayer(new ExitSetting(ExitPolicy.DIVERGENCE, 0.3))).isEqualTo(3);
        assertThat(trace.exitLayer(new ExitSetting(ExitPolicy.DIVERGENCE, 0.05))).isEqualTo(4);
    }

    @Test
    void disagreesWhenTheExitOffRampsLabelDiffersFromTheLastOne() {
        assertThat(trace.fullModelLabel()).isZero();
        assertThat(trace.disagreesAt(ExitSetting.entropy(0.6))).isTrue();
        assertThat(trace.disagreesAt(ExitSetting.entropy(0.5))).isFalse();
        assertThat(trace.disagreesAt(ExitSetting.entropy(0.0))).isFalse();
        assertThat(trace.disagreesAt(new ExitSetting(ExitPolicy.DIVERGENCE, 100.0))).isFalse();
    }

    @Test
    void theLastLayerNeverDisagreesWhateverItsScore() {
        ShadowTrace one = new ShadowTrace(new int[] {2}, new double[] {0.9}, new double[] {INF});
        assertThat(one.exitLayer(ExitSetting.entropy(5.0))).isEqualTo(1);
        assertThat(one.disagreesAt(ExitSetting.entropy(5.0))).isFalse();
    }

    @Test
    void scoreReadsThePoliciesArraysAndRejectsPatience() {
        assertThat(trace.score(ExitPolicy.ENTROPY, 2)).isEqualTo(0.2);
        assertThat(trace.score(ExitPolicy.DIVERGENCE, 1)).isEqualTo(INF);
        assertThat(trace.numLayers()).isEqualTo(4);
        assertThatThrownBy(() -> trace.score(ExitPolicy.PATIENCE, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void constructorRejectsEmptyOrMismatchedArrays() {
        assertThatThrownBy(() -> new ShadowTrace(new int[0], new double[0], new double[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ShadowTrace(new int[] {0, 1}, new double[] {0.1}, new double[] {INF, 0.1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ShadowTrace(new int[] {0, 1}, new double[] {0.1, 0.2}, new double[] {INF}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void equalityIsByContent() {
        ShadowTrace same = new ShadowTrace(new int[] {1, 0, 0, 0}, new double[] {0.5, 0.2, 0.1, 0.0},
                new double[] {INF, 0.3, 0.05, 0.0});
        assertThat(same).isEqualTo(trace).hasSameHashCodeAs(trace);
        assertThat(new ShadowTrace(new int[] {1, 0, 1, 0}, new double[] {0.5, 0.2, 0.1, 0.0},
                new double[] {INF, 0.3, 0.05, 0.0})).isNotEqualTo(trace);
    }
}
