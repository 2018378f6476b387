package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
    void entropyPolicyScoreIsTheOffRampEntropy() {
        assertThat(ExitScores.score(ExitPolicy.ENTROPY, 0.42, new float[] {0.5f, 0.5f}, null)).isEqualTo(0.42);
    }

    @Test
    void divergencePolicyNeverExitsAtTheFirstLayer() {
        double score = ExitScores.score(ExitPolicy.DIVERGENCE, 0.0, new float[] {1, 0}, null);
        assertThat(ExitScores.exits(score, 10.0)).isFalse();
    }

    @Test
    void exitRequiresAScoreStrictlyBelowTheThreshold() {
        assertThat(ExitScores.exits(0.0, 0.0)).isFalse();
        assertThat(ExitScores.exits(0.1, 0.2)).isTrue();
        assertThat(ExitScores.exits(0.2, 0.2)).isFalse();
    }
}
