package org.deebert.streams.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.deebert.streams.budget.Budget.LabelGuard;
import org.junit.jupiter.api.Test;

/** The label guard's rules, defined once in {@link Budget}. */
class BudgetTest {

    private static final Budget BUDGET = new Budget(0.05, 0.1, 0.1, 0.5);

    @Test
    void aGuardComesWithBothFieldsOrNeither() {
        assertThat(LabelGuard.of(null, null)).isNull();
        assertThat(LabelGuard.of("spam", 0.01)).isEqualTo(new LabelGuard("spam", 0.01));
        assertThatThrownBy(() -> LabelGuard.of("spam", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a label guard needs both a protected label and a max recall loss, got only protected"
                        + " label 'spam'");
        assertThatThrownBy(() -> LabelGuard.of(null, 0.01)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a label guard needs both a protected label and a max recall loss, got only max recall"
                        + " loss 0.01");
    }

    @Test
    void theMaxRecallLossIsAShareStrictlyBetweenZeroAndOne() {
        for (double bad : new double[] {0.0, 1.0, -0.01, 1.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> new LabelGuard("spam", bad)).as("%s", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("max recall loss must be a share in (0, 1)");
        }
        assertThat(new LabelGuard("spam", 0.999).maxRecallLoss()).isEqualTo(0.999);
        for (String bad : new String[] {null, "", "  "}) {
            assertThatThrownBy(() -> new LabelGuard(bad, 0.01)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("protected label must be a label name");
        }
    }

    @Test
    void theLabelIsCheckedAgainstTheModelsLabelsWhereTheyAreKnown() {
        Budget guarded = BUDGET.withGuard(new LabelGuard("spam", 0.01));
        assertThat(guarded.checkLabels(List.of("ham", "spam"))).isSameAs(guarded);
        assertThat(guarded.checkLabels(List.of())).as("unknown labels: left to the service").isSameAs(guarded);
        assertThat(BUDGET.checkLabels(List.of("a"))).as("no guard").isSameAs(BUDGET);
        assertThatThrownBy(() -> guarded.checkLabels(List.of("negative", "positive")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("protected label 'spam' is not one of the model's labels [negative, positive]");
        // Label names are case-sensitive, as in the model card.
        assertThatThrownBy(() -> BUDGET.withGuard(new LabelGuard("Spam", 0.01)).checkLabels(List.of("ham", "spam")))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(guarded.protectedLabelIndex(List.of("ham", "spam"))).isEqualTo(1);
        assertThat(BUDGET.protectedLabelIndex(List.of("ham", "spam"))).isEqualTo(-1);
        assertThatThrownBy(() -> guarded.protectedLabelIndex(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theGuardIsPartOfTheBudgetsIdentity() {
        Budget guarded = BUDGET.withGuard(new LabelGuard("spam", 0.01));
        assertThat(guarded).isNotEqualTo(BUDGET);
        assertThat(guarded.withGuard(null)).isEqualTo(BUDGET);
        assertThat(guarded.maxDisagreement()).isEqualTo(BUDGET.maxDisagreement());
        assertThat(guarded.windowEvents()).isEqualTo(BUDGET.windowEvents());
        assertThat(BUDGET.guard()).isNull();
    }
}
