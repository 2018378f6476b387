package org.deebert.streams.exit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ExpectedSavingTest {

    @Test
    void allInputsAtLastLayerSaveNothing() {
        assertThat(ExpectedSaving.expectedSaving(new long[] {0, 0, 0, 0, 0, 7})).isEqualTo(0.0);
    }

    @Test
    void allInputsAtFirstLayerSaveAllButOneLayer() {
        assertThat(ExpectedSaving.expectedSaving(new long[] {5, 0, 0, 0, 0, 0})).isCloseTo(5.0 / 6.0, within(1e-12));
    }

    @Test
    void mixedExitsFollowEquationTwo() {
        // layers run = 1*1 + 2*0 + 3*1 = 4 of a full cost 3 layers * 2 inputs = 6 -> saving 1 - 4/6
        assertThat(ExpectedSaving.expectedSaving(new long[] {1, 0, 1})).isCloseTo(1.0 / 3.0, within(1e-12));
    }

    @Test
    void isTheComplementOfTheReferenceScriptsCostRatio() {
        long[] histogram = {3, 2, 0, 5};
        double actualCost = 1 * 3 + 2 * 2 + 4 * 5;
        double fullCost = 4.0 * 10;
        assertThat(ExpectedSaving.expectedSaving(histogram)).isCloseTo(1 - actualCost / fullCost, within(1e-12));
    }

    @Test
    void emptyTrafficSavesNothing() {
        assertThat(ExpectedSaving.expectedSaving(new long[] {0, 0})).isEqualTo(0.0);
    }

    @Test
    void rejectsMissingOrNegativeCounts() {
        assertThatThrownBy(() -> ExpectedSaving.expectedSaving(new long[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ExpectedSaving.expectedSaving(new long[] {1, -1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 2");
    }
}
