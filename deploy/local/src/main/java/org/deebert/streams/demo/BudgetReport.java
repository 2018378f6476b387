package org.deebert.streams.demo;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deebert.streams.classifier.AccuracyBudget;

/**
 * The budget phase's table for the terminal and its part of the demo's JSON summary. Never includes message text.
 */
final class BudgetReport {

    /**
     * One decision of the budget controller, read back from the control topic.
     *
     * @param elapsedS  seconds since run B's first event was sent
     * @param back      run B's events back by then (classified or dead-lettered), in stream order roughly
     * @param from      S in force before it, nats
     * @param threshold the S it set, nats
     * @param reason    its reason (the window's figures)
     */
    record Decision(double elapsedS, int back, double from, double threshold, String reason) {
    }

    /**
     * What the budget phase ran and measured.
     *
     * @param budget      the budget set for run B
     * @param cardS       the model card's S (run A's, and the budget's minimum), nats
     * @param paceEvents  events written per pace step
     * @param paceMs      pause between pace steps, ms
     * @param fixed       run A: the card's S, fixed
     * @param budgeted    run B: the accuracy budget
     * @param decisions   the controller's decisions during run B, in order
     */
    record Result(AccuracyBudget budget, double cardS, int paceEvents, long paceMs, BudgetRunTally fixed,
                  BudgetRunTally budgeted, List<Decision> decisions) {
    }

    private BudgetReport() {
    }

    /** @return one line for a controller decision as it happens */
    static String decisionLine(Decision d) {
        return String.format(Locale.ROOT, "  controller @ %5.1f s, %3d events back: S %.4f -> %.4f nats | %s", d.elapsedS(),
                d.back(), d.from(), d.threshold(), d.reason());
    }

    /**
     * @param run      the run in progress
     * @param elapsedS seconds since its first event was sent
     * @return one progress line: records back per half, latest S and its source, disagreement so far
     */
    static String progressLine(BudgetRunTally run, double elapsedS) {
        BudgetRunTally.HalfStats easy = run.half(BudgetRunTally.Half.EASY);
        BudgetRunTally.HalfStats hard = run.half(BudgetRunTally.Half.HARD);
        String s = Double.isNaN(run.latestThreshold()) ? "S=?" : String.format(Locale.ROOT, "S=%.4f nats (%s)",
                run.latestThreshold(), run.latestSource());
        return String.format(Locale.ROOT, "  [%s %5.1f s] back %3d of %d (easy %d, hard %d) | %s | disagreement easy %s, hard %s",
                run.name(), elapsedS, run.accountedFor(), run.expected(), easy.events(), hard.events(), s,
                number(easy.disagreement(), 4), number(hard.disagreement(), 4));
    }

    /**
     * @param r the phase's result
     * @return the phase's table and notes, several lines
     */
    static String table(Result r) {
        AccuracyBudget b = r.budget();
        List<DifficultyOrder.Email> ordered = r.fixed().ordered();
        int easy = DifficultyOrder.easyHalfSize(ordered.size());
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "BUDGET PHASE: %d held-out emails ordered easy -> hard by mean off-ramp entropy "
                        + "(easy half %d, hard half %d), streamed twice, %d events per %d ms at most%n", ordered.size(), easy,
                ordered.size() - easy, r.paceEvents(), r.paceMs()));
        out.append(String.format(Locale.ROOT, "  run B's budget: at most %s of answers differ from the full model (%.0f %% upper "
                        + "bound), sample rate %s, S in [%.4f, %.4f] nats, window %d samples%n", percent(b.maxDisagreement()),
                b.confidence() * 100, trim(b.sampleRate()), b.minThreshold(), b.maxThreshold(), b.windowEvents()));
        out.append(String.format(Locale.ROOT, "  %-19s %-4s %6s %12s %7s  %-17s %s%n", "run", "half", "events", "disagreement",
                "saving", "S range (nats)", "budget held"));
        for (BudgetRunTally run : List.of(r.fixed(), r.budgeted())) {
            for (BudgetRunTally.Half h : BudgetRunTally.Half.values()) {
                BudgetRunTally.HalfStats s = run.half(h);
                out.append(String.format(Locale.ROOT, "  %-19s %-4s %6d %12s %7s  %-17s %s%n", run.name(), h.label(), s.events(),
                        number(s.disagreement(), 4), number(s.expectedSaving(), 3), range(s), held(s, b)));
            }
        }
        BudgetRunTally.HalfStats aHard = r.fixed().half(BudgetRunTally.Half.HARD);
        BudgetRunTally.HalfStats bHard = r.budgeted().half(BudgetRunTally.Half.HARD);
        out.append(String.format(Locale.ROOT, "  hard half: the budget saved %s of the layers (disagreement %s) where the card's "
                        + "fixed S saved %s (disagreement %s)%n", number(bHard.expectedSaving(), 3), number(bHard.disagreement(), 4),
                number(aHard.expectedSaving(), 3), number(aHard.disagreement(), 4)));
        out.append(String.format(Locale.ROOT, "  controller decisions during run B: %d%s%n", r.decisions().size(), path(r)));
        out.append("  disagreement = share of answers that differ from the full model's (its last off-ramp, computed before")
                .append(" streaming);\n  saving = DeeBERT expected saving of the exit layers the events record; S range = the S")
                .append(" the events were classified with;\n  budget held = disagreement <= ").append(percent(b.maxDisagreement()))
                .append(" (run A has no budget: whether its fixed S stays within run B's)");
        if (b.sampleRate() >= 1) {
            out.append(";\n  with sample rate 1 every event of run B also ran all layers as a shadow sample: its real compute")
                    .append(" is all layers, the saving shows the answers' exits");
        }
        for (BudgetRunTally run : List.of(r.fixed(), r.budgeted())) {
            long dead = run.half(BudgetRunTally.Half.EASY).deadLettered() + run.half(BudgetRunTally.Half.HARD).deadLettered();
            if (run.duplicates() > 0 || dead > 0) {
                out.append(String.format(Locale.ROOT, "%n  WARNING: run %s: %d duplicate records, %d events dead-lettered",
                        run.name(), run.duplicates(), dead));
            }
        }
        return out.toString();
    }

    /**
     * @param r the phase's result
     * @return the phase as a JSON-ready map (NaN becomes null)
     */
    static Map<String, Object> json(Result r) {
        Map<String, Object> root = new LinkedHashMap<>();
        AccuracyBudget b = r.budget();
        Map<String, Object> budget = new LinkedHashMap<>();
        budget.put("max_disagreement", b.maxDisagreement());
        budget.put("sample_rate", b.sampleRate());
        budget.put("min_threshold_nats", b.minThreshold());
        budget.put("max_threshold_nats", b.maxThreshold());
        budget.put("window_events", b.windowEvents());
        budget.put("window_ms", b.windowMs());
        budget.put("confidence", b.confidence());
        root.put("budget", budget);
        root.put("card_threshold_nats", r.cardS());
        root.put("emails", r.fixed().ordered().size());
        root.put("easy_half", DifficultyOrder.easyHalfSize(r.fixed().ordered().size()));
        Map<String, Object> pace = new LinkedHashMap<>();
        pace.put("events", r.paceEvents());
        pace.put("ms", r.paceMs());
        root.put("pace", pace);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (BudgetRunTally run : List.of(r.fixed(), r.budgeted())) {
            for (BudgetRunTally.Half h : BudgetRunTally.Half.values()) {
                BudgetRunTally.HalfStats s = run.half(h);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("run", run.name());
                m.put("half", h.label());
                m.put("events", s.events());
                m.put("disagreements", s.disagreements());
                m.put("disagreement", finite(s.disagreement()));
                m.put("exit_histogram", s.exitHistogram());
                m.put("expected_saving", s.expectedSaving());
                m.put("min_threshold_nats", finite(s.minThreshold()));
                m.put("max_threshold_nats", finite(s.maxThreshold()));
                m.put("threshold_sources", List.copyOf(s.thresholdSources()));
                m.put("within_budget", s.withinBudget(b.maxDisagreement()));
                m.put("dead_lettered", s.deadLettered());
                rows.add(m);
            }
        }
        root.put("rows", rows);
        List<Map<String, Object>> decisions = new ArrayList<>();
        for (Decision d : r.decisions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("elapsed_s", d.elapsedS());
            m.put("events_back", d.back());
            m.put("from_nats", d.from());
            m.put("threshold_nats", d.threshold());
            m.put("reason", d.reason());
            decisions.add(m);
        }
        root.put("controller_decisions", decisions);
        return root;
    }

    private static String path(Result r) {
        if (r.decisions().isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, " (S %.4f", r.decisions().get(0).from()));
        for (Decision d : r.decisions()) {
            b.append(String.format(Locale.ROOT, " -> %.4f", d.threshold()));
        }
        return b.append(')').toString();
    }

    private static String held(BudgetRunTally.HalfStats s, AccuracyBudget b) {
        if (s.events() == 0) {
            return "-";
        }
        return s.withinBudget(b.maxDisagreement()) ? "yes" : "NO";
    }

    static String range(BudgetRunTally.HalfStats s) {
        if (s.events() == 0) {
            return "-";
        }
        if (Double.compare(s.minThreshold(), s.maxThreshold()) == 0) {
            return String.format(Locale.ROOT, "%.4f", s.minThreshold());
        }
        return String.format(Locale.ROOT, "%.4f-%.4f", s.minThreshold(), s.maxThreshold());
    }

    /** @return a share as a percentage with up to 4 significant digits, e.g. {@code 5 %} */
    static String percent(double share) {
        return new BigDecimal(share * 100).round(new MathContext(4)).stripTrailingZeros().toPlainString() + " %";
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static String number(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
