package org.deebert.streams.budget;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

import org.deebert.streams.budget.ThresholdDecision.Action;
import org.deebert.streams.budget.ThresholdDecision.GuardFigures;

/**
 * The words of a {@link ThresholdDecision}'s reason, the one line the audit log and the control
 * message's {@code reason} carry: percentages with two decimals, S in nats with four, in {@link Locale#ROOT}.
 */
final class DecisionWords {

    private DecisionWords() {
    }

    /**
     * "; spam recall loss <= 1.00 % (upper 0.76 %, n=352, 0 missed)": the guard's figures at the chosen S, in
     * the words the audit log uses; "> 1.00 % possible" when the bound is over the limit.
     */
    static String guardNote(GuardFigures g) {
        boolean holds = g.upperBound() <= g.maxRecallLoss();
        return String.format(Locale.ROOT, "; %s recall loss %s %.2f %%%s (upper %.2f %%, n=%d, %d missed%s)",
                g.label(), holds ? "<=" : ">", 100 * g.maxRecallLoss(), holds ? "" : " possible",
                100 * g.upperBound(), g.samples(), g.missedAtThreshold(),
                g.evaluable() ? "" : ": no " + g.label() + " in the window, not evaluable");
    }

    /** Which bound even minThreshold breaks: "budget", "spam guard" or "budget and spam guard". */
    static String unattainableWhat(DisagreementSweep sweep, int n, LabelGuardWindow guard, Budget budget, double min) {
        boolean budgetBroken = !ThresholdSearch.within(sweep.disagreements(min), n, budget.confidence(),
                budget.maxDisagreement());
        boolean guardBroken = guard != null
                && guard.upperBound(min, budget.confidence()) > guard.guard().maxRecallLoss();
        String label = guard == null ? "" : guard.guard().label();
        return budgetBroken && guardBroken ? "budget and " + label + " guard"
                : guardBroken ? label + " guard" : "budget";
    }

    /** @return "raised", "lowered" or "held" */
    static String verb(Action action) {
        return switch (action) {
            case RAISE -> "raised";
            case LOWER -> "lowered";
            case HOLD -> "held";
        };
    }

    /** @return "; S=... was outside [min, max] and was clamped" when {@code clamped}, else "" */
    static String clampNote(boolean clamped, double current, double min, double max) {
        return clamped
                ? String.format(Locale.ROOT, "; S=%.4f was outside [%.4f, %.4f] and was clamped", current, min, max)
                : "";
    }

    /** 0.95 -> "95", 0.975 -> "97.5": the confidence as the operator wrote it. */
    static String percent(double share) {
        return new BigDecimal(100 * share).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }
}
