package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExitRuleTest {

    /** Scores of three inputs at one layer; counts divergence reads, which cost a Jensen-Shannon each. */
    private static final class Scores implements OffRampScores {
        final double[] entropy = {0.1, 0.4, 0.7};
        final double[] divergence = {0.05, Double.POSITIVE_INFINITY, 0.3};
        final int[] streak = {0, 2, 5};
        int divergenceReads;

        @Override
        public double entropy(int i) {
            return entropy[i];
        }

        @Override
        public double divergence(int i) {
            divergenceReads++;
            return divergence[i];
        }

        @Override
        public double streak(int i) {
            return streak[i];
        }
    }

    @Test
    void eachPolicyReadsItsOwnScoreAndOnlyDivergenceReadsTheDivergence() {
        Scores scores = new Scores();
        assertThat(new ExitRule(ExitSetting.entropy(0.2), 4).score(scores, 1)).isEqualTo(0.4);
        assertThat(new ExitRule(ExitSetting.patience(2), 4).score(scores, 2)).isEqualTo(5.0);
        assertThat(scores.divergenceReads).isZero();
        assertThat(new ExitRule(new ExitSetting(ExitPolicy.DIVERGENCE, 0.2), 4).score(scores, 0)).isEqualTo(0.05);
        assertThat(scores.divergenceReads).isEqualTo(1);
    }

    @Test
    void theLastLayerAlwaysExitsAndEarlierOnesFollowTheThresholdTest() {
        ExitRule rule = new ExitRule(ExitSetting.entropy(0.2), 3);
        assertThat(rule.exits(1, 0, 0.1)).isTrue();
        assertThat(rule.exits(2, 0, 0.2)).as("0.2 is not < 0.2").isFalse();
        assertThat(rule.exits(3, 0, 99.0)).as("layer n takes whoever is left").isTrue();
        ExitRule perLabel = new ExitRule(ExitSetting.perLabel(ExitPolicy.ENTROPY, 0.0, List.of(0.05, 0.5)), 3);
        assertThat(perLabel.exits(1, 0, 0.1)).isFalse();
        assertThat(perLabel.exits(1, 1, 0.1)).isTrue();
        ExitRule patience = new ExitRule(ExitSetting.patience(2), 3);
        assertThat(patience.exits(1, 0, 1)).isFalse();
        assertThat(patience.exits(2, 0, 2)).isTrue();
    }

    @Test
    void aModelHasAtLeastOneLayer() {
        assertThatThrownBy(() -> new ExitRule(ExitSetting.entropy(0.1), 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
