package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExitScoresTest {

    @Test
    void jensenShannonOfIdenticalDistributionsIsZero() {
        float[] p = {0.2f, 0.8f};
        assertThat(ExitScores.jensenShannon(p, p)).isCloseTo(0.0, within(1e-9));
    }

    @Test
    void jensenShannonOfDisjointDistributionsIsLnTwoNats() {
        assertThat(ExitScores.jensenShannon(new float[] {1, 0}, new float[] {0, 1})).isCloseTo(Math.log(2), within(1e-9));
    }

    @Test
    void jensenShannonIsSymmetricAndMatchesHandComputedValue() {
        float[] p = {0.9f, 0.1f};
        float[] q = {0.5f, 0.5f};
        double m0 = 0.7;
        double m1 = 0.3;
        double expected = 0.5 * (0.9 * Math.log(0.9 / m0) + 0.1 * Math.log(0.1 / m1))
                + 0.5 * (0.5 * Math.log(0.5 / m0) + 0.5 * Math.log(0.5 / m1));
        assertThat(ExitScores.jensenShannon(p, q)).isCloseTo(expected, within(1e-6));
        assertThat(ExitScores.jensenShannon(q, p)).isCloseTo(expected, within(1e-6));
    }

    @Test
    void softmaxEntropyOfLogitsInNats() {
        assertThat(ExitScores.softmaxEntropy(new float[] {0f, 0f})).isCloseTo(Math.log(2), within(1e-12));
        assertThat(ExitScores.softmaxEntropy(new float[] {3f, 3f, 3f})).isCloseTo(Math.log(3), within(1e-12));
        // p = softmax(2, 0) = (0.8808, 0.1192): H = -sum p ln p.
        double p = 1 / (1 + Math.exp(-2));
        assertThat(ExitScores.softmaxEntropy(new float[] {2f, 0f}))
                .isCloseTo(-(p * Math.log(p) + (1 - p) * Math.log(1 - p)), within(1e-12));
        // No overflow for large logits, and a confident off-ramp is near 0.
        assertThat(ExitScores.softmaxEntropy(new float[] {1000f, 0f})).isBetween(0.0, 1e-12);
    }

    @Test
    void entropyPolicyScoreIsTheOffRampEntropy() {
        ExitScores.OffRamp first = ExitScores.next(null, new float[] {0.5f, 0.5f});
        assertThat(ExitScores.score(ExitPolicy.ENTROPY, 0.42, first, null)).isEqualTo(0.42);
    }

    @Test
    void divergenceScoresLayerOneAsInfinitySoItNeverExitsThere() {
        ExitScores.OffRamp first = ExitScores.next(null, new float[] {1, 0});
        double score = ExitScores.score(ExitPolicy.DIVERGENCE, 0.0, first, null);
        assertThat(score).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(ExitScores.exits(new ExitSetting(ExitPolicy.DIVERGENCE, 10.0), 1, first.label(), score)).isFalse();
    }

    @Test
    void exitRequiresAScoreStrictlyBelowTheThreshold() {
        assertThat(ExitScores.exits(ExitSetting.entropy(0.0), 1, 0, 0.0)).isFalse();
        assertThat(ExitScores.exits(ExitSetting.entropy(0.2), 1, 0, 0.1)).isTrue();
        assertThat(ExitScores.exits(ExitSetting.entropy(0.2), 1, 0, 0.2)).isFalse();
    }

    @Test
    void perLayerThresholdsReplaceSAtTheirLayer() {
        ExitSetting setting = new ExitSetting(ExitPolicy.ENTROPY, 0.0, List.of(0.0, 0.5, 0.1));
        assertThat(ExitScores.exits(setting, 1, 0, 0.3)).isFalse();
        assertThat(ExitScores.exits(setting, 2, 0, 0.3)).isTrue();
        assertThat(ExitScores.exits(setting, 3, 0, 0.3)).isFalse();
    }

    @Test
    void perLabelThresholdsPickTheSOfTheLabelTheOffRampPredicts() {
        // Label 0 (benign) must be sure: S = 0.05; label 1 (harmful) may leave under a loose S = 0.6.
        ExitSetting setting = ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.05, List.of(0.05, 0.6));
        assertThat(ExitScores.exits(setting, 1, 0, 0.3)).isFalse();
        assertThat(ExitScores.exits(setting, 1, 1, 0.3)).isTrue();
        assertThat(ExitScores.exits(setting, 3, 0, 0.04)).isTrue();
        assertThat(ExitScores.exits(setting, 2, 1, 0.6)).as("strictly below S^(1)").isFalse();
        // S = 0 for a label: inputs predicted as that label never leave early, whatever their score.
        ExitSetting neverBenign = ExitSetting.perLabel(ExitPolicy.DIVERGENCE, 0.0, List.of(0.0, 0.6));
        assertThat(ExitScores.exits(neverBenign, 2, 0, 0.0)).isFalse();
        assertThat(ExitScores.exits(neverBenign, 2, 1, 0.0)).isTrue();
    }

    @Test
    void aShadowTraceReplaysPerLabelThresholdsWithEachOffRampsLabel() {
        // Off-ramps say 0, 1, 1, 1 (layer 4 = the full model); entropies all 0.3 nats.
        ShadowTrace trace = new ShadowTrace(new int[] {0, 1, 1, 1}, new double[] {0.3, 0.3, 0.3, 0.3},
                new double[] {Double.POSITIVE_INFINITY, 0.1, 0.1, 0.1});
        assertThat(trace.exitLayer(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.0, List.of(0.0, 0.5)))).isEqualTo(2);
        assertThat(trace.exitLayer(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.0, List.of(0.5, 0.0)))).isEqualTo(1);
        assertThat(trace.disagreesAt(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.0, List.of(0.5, 0.0)))).isTrue();
        assertThat(trace.exitLayer(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.9, List.of(0.0, 0.0)))).isEqualTo(4);
    }

    @Test
    void patienceCountsConsecutiveAgreeingOffRampsAndExitsOnceItReachesT() {
        float[] a = {0.9f, 0.1f};
        float[] b = {0.2f, 0.8f};
        ExitScores.OffRamp l1 = ExitScores.next(null, a);
        ExitScores.OffRamp l2 = ExitScores.next(l1, a);
        ExitScores.OffRamp l3 = ExitScores.next(l2, b);
        ExitScores.OffRamp l4 = ExitScores.next(l3, b);
        assertThat(new int[] {l1.streak(), l2.streak(), l3.streak(), l4.streak()}).containsExactly(0, 1, 0, 1);
        ExitSetting t1 = ExitSetting.patience(1);
        assertThat(ExitScores.exits(t1, 1, l1.label(), ExitScores.score(ExitPolicy.PATIENCE, 0, l1, null))).isFalse();
        assertThat(ExitScores.exits(t1, 2, l2.label(), ExitScores.score(ExitPolicy.PATIENCE, 0, l2, l1))).isTrue();
        assertThat(ExitScores.exits(ExitSetting.patience(2), 4, l4.label(),
                ExitScores.score(ExitPolicy.PATIENCE, 0, l4, l3))).isFalse();
    }

    @Test
    void argmaxTieGoesToTheLowestLabelIndex() {
        assertThat(ExitScores.argmax(new float[] {0.4f, 0.4f, 0.2f})).isZero();
        assertThat(ExitScores.argmax(new float[] {0.2f, 0.4f, 0.4f})).isEqualTo(1);
    }
}
