package org.deebert.streams.demo;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitSetting;

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
     * @param budget      the budget set for run B (one S for every label; its minimum is the card's strictest S)
     * @param card        the model card's setting, run A's (per label when the card's is label-conditional)
     * @param labels      the model's label names in index order (to name per-label thresholds)
     * @param paceEvents  events written per pace step
     * @param paceMs      pause between pace steps, ms
     * @param fixed       run A: the card's setting, fixed
     * @param budgeted    run B: the accuracy budget
     * @param decisions   the controller's decisions during run B, in order
     */
    record Result(Budget budget, ExitSetting card, List<String> labels, int paceEvents, long paceMs,
                  BudgetRunTally fixed, BudgetRunTally budgeted, List<Decision> decisions) {
        Result {
            labels = List.copyOf(labels);
            decisions = List.copyOf(decisions);
        }
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
     * @param labels   the model's label names in index order
     * @return one progress line: records back per half, latest setting (per label when label-conditional) and its
     *     source, disagreement so far
     */
    static String progressLine(BudgetRunTally run, double elapsedS, List<String> labels) {
        BudgetRunTally.HalfStats easy = run.half(BudgetRunTally.Half.EASY);
        BudgetRunTally.HalfStats hard = run.half(BudgetRunTally.Half.HARD);
        String s = Double.isNaN(run.latestThreshold()) ? "S=?" : String.format(Locale.ROOT, "S=%s nats (%s)",
                DemoReport.setting(run.latestThreshold(), run.latestLabelThresholds(), labels), run.latestSource());
        return String.format(Locale.ROOT, "  [%s %5.1f s] back %3d of %d (easy %d, hard %d) | %s | disagreement easy %s, hard %s",
                run.name(), elapsedS, run.accountedFor(), run.expected(), easy.events(), hard.events(), s,
                number(easy.disagreement(), 4), number(hard.disagreement(), 4));
    }

    /**
     * @param r the phase's result
     * @return the phase's table and notes, several lines
     */
    static String table(Result r) {
        Budget b = r.budget();
        List<DifficultyOrder.Email> ordered = r.fixed().ordered();
        int easy = DifficultyOrder.easyHalfSize(ordered.size());
        String label = r.fixed().protectedLabel();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "BUDGET PHASE: %d held-out emails ordered easy -> hard by mean off-ramp entropy "
                        + "(easy half %d, hard half %d), streamed twice, %d events per %d ms at most%n", ordered.size(), easy,
                ordered.size() - easy, r.paceEvents(), r.paceMs()));
        out.append(String.format(Locale.ROOT, "  run A: the model card's setting, fixed: %s, %s nats%n",
                r.card().policy(), cardSetting(r.card(), r.labels())));
        out.append(String.format(Locale.ROOT, "  run B's budget: at most %s of answers differ from the full model (%.0f %% upper "
                        + "bound), sample rate %s, one S for every label in [%.4f, %.4f] nats, window %d samples%n",
                percent(b.maxDisagreement()), b.confidence() * 100, trim(b.sampleRate()), b.minThreshold(), b.maxThreshold(),
                b.windowEvents()));
        String recallHeader = label == null ? "" : " " + label + " recall";
        String recallCell = label == null ? "" : " %" + (recallHeader.length() - 1) + "s";
        int settingWidth = "setting (nats)".length();
        for (BudgetRunTally run : List.of(r.fixed(), r.budgeted())) {
            for (BudgetRunTally.Half h : BudgetRunTally.Half.values()) {
                settingWidth = Math.max(settingWidth, range(run.half(h), r.labels()).length());
            }
        }
        String row = "  %-19s %-4s %6s %12s%s %7s  %-" + settingWidth + "s %s%n";
        out.append(String.format(Locale.ROOT, row, "run", "half", "events", "disagreement", recallHeader, "saving",
                "setting (nats)", "budget held"));
        for (BudgetRunTally run : List.of(r.fixed(), r.budgeted())) {
            for (BudgetRunTally.Half h : BudgetRunTally.Half.values()) {
                BudgetRunTally.HalfStats s = run.half(h);
                out.append(String.format(Locale.ROOT, row, run.name(), h.label(), s.events(), number(s.disagreement(), 4),
                        label == null ? "" : String.format(Locale.ROOT, recallCell, number(s.protectedRecall(), 4)),
                        number(s.expectedSaving(), 3), range(s, r.labels()), held(s, b)));
            }
        }
        BudgetRunTally.HalfStats aHard = r.fixed().half(BudgetRunTally.Half.HARD);
        BudgetRunTally.HalfStats bHard = r.budgeted().half(BudgetRunTally.Half.HARD);
        out.append(String.format(Locale.ROOT, "  hard half: the budget saved %s of the layers (disagreement %s%s) where the "
                        + "card's fixed setting saved %s (disagreement %s%s)%n", number(bHard.expectedSaving(), 3),
                number(bHard.disagreement(), 4), recall(label, bHard), number(aHard.expectedSaving(), 3),
                number(aHard.disagreement(), 4), recall(label, aHard)));
        out.append(String.format(Locale.ROOT, "  controller decisions during run B: %d%s%n", r.decisions().size(), path(r)));
        out.append("  disagreement = share of answers that differ from the full model's (its last off-ramp, computed before")
                .append(" streaming);\n");
        if (label != null) {
            out.append("  ").append(label).append(" recall = share of the half's emails labelled ").append(label)
                    .append(" that were classified as ").append(label).append(" (true labels, not the full model);\n");
        }
        out.append("  saving = DeeBERT expected saving of the exit layers the events record; setting = the S the events")
                .append(" were classified with (a range when it moved; per label when label-conditional);\n  budget held =")
                .append(" disagreement <= ").append(percent(b.maxDisagreement()))
                .append(" (run A has no budget: whether its fixed setting stays within run B's)");
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
     * @param card   the model card's setting
     * @param labels the model's label names in index order
     * @return the setting as the phase prints it: {@code S=0.1417} or {@code S by predicted label ham 0.1763, spam 0.5689}
     */
    static String cardSetting(ExitSetting card, List<String> labels) {
        return card.labelThresholds() == null ? String.format(Locale.ROOT, "S=%.4f", card.threshold())
                : "S by predicted label " + DemoReport.setting(card.threshold(), card.labelThresholds(), labels);
    }

    private static String recall(String label, BudgetRunTally.HalfStats s) {
        return label == null ? "" : ", " + label + " recall " + number(s.protectedRecall(), 4);
    }

    /**
     * @param r the phase's result
     * @return the phase as a JSON-ready map (NaN becomes null)
     */
    static Map<String, Object> json(Result r) {
        Map<String, Object> root = new LinkedHashMap<>();
        Budget b = r.budget();
        Map<String, Object> budget = new LinkedHashMap<>();
        budget.put("max_disagreement", b.maxDisagreement());
        budget.put("sample_rate", b.sampleRate());
        budget.put("min_threshold_nats", b.minThreshold());
        budget.put("max_threshold_nats", b.maxThreshold());
        budget.put("window_events", b.windowEvents());
        budget.put("window_ms", b.windowMs());
        budget.put("confidence", b.confidence());
        root.put("budget", budget);
        root.put("card_policy", r.card().policy().name());
        root.put("card_threshold_nats", r.card().threshold());
        root.put("card_label_thresholds_nats", DemoReport.byName(r.card().labelThresholds(), r.labels()));
        root.put("protected_label", r.fixed().protectedLabel());
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
                m.put("protected_recall", finite(s.protectedRecall()));
                m.put("exit_histogram", s.exitHistogram());
                m.put("expected_saving", s.expectedSaving());
                // One S: its range; a label-conditional setting: each one seen, label name -> S.
                m.put("min_threshold_nats", finite(s.minThreshold()));
                m.put("max_threshold_nats", finite(s.maxThreshold()));
                m.put("label_thresholds_nats", s.labelSettings().stream().map(l -> DemoReport.byName(l, r.labels())).toList());
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

    private static String held(BudgetRunTally.HalfStats s, Budget b) {
        if (s.events() == 0) {
            return "-";
        }
        return s.withinBudget(b.maxDisagreement()) ? "yes" : "NO";
    }

    /**
     * @param s      one half of a run
     * @param labels the model's label names in index order
     * @return the settings its events were classified with: the range of one S ({@code 0.1417}, {@code 0.1417-0.6900}),
     *     each per-label setting ({@code ham 0.1763, spam 0.5689}), joined by {@code "; "} when both occur; {@code -}
     *     for an empty half
     */
    static String range(BudgetRunTally.HalfStats s, List<String> labels) {
        if (s.events() == 0) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        for (List<Double> byLabel : s.labelSettings()) {
            parts.add(DemoReport.setting(Double.NaN, byLabel, labels));
        }
        if (!Double.isNaN(s.minThreshold())) {
            parts.add(Double.compare(s.minThreshold(), s.maxThreshold()) == 0
                    ? String.format(Locale.ROOT, "%.4f", s.minThreshold())
                    : String.format(Locale.ROOT, "%.4f-%.4f", s.minThreshold(), s.maxThreshold()));
        }
        return String.join("; ", parts);
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
