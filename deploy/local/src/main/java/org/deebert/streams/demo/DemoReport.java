package org.deebert.streams.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deebert.streams.exit.ExpectedSaving;

/**
 * Turns the demo's {@link DemoTally} into text for the terminal (a live line, the summary table) and
 * into JSON. Never includes message text. When the model card names a protected label, its recall is
 * reported beside every accuracy: a model can keep its accuracy while missing the class that matters.
 */
final class DemoReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What the demo ran, for the summary's header.
     *
     * @param modelName    the model card's name
     * @param modelVersion the model card's version
     * @param numLayers    layers (off-ramps)
     * @param labels       the model's label names in index order (to name per-label thresholds)
     * @param device       where TensorFlow ran
     * @param eventsFile   the labelled input
     * @param events       good events sent
     * @param batchSize    classifier.batch.max.size of the service
     * @param rate         input rate asked for, events/s; 0 = unlimited
     */
    record Run(String modelName, String modelVersion, int numLayers, List<String> labels, String device,
               String eventsFile, int events, int batchSize, double rate) {
        Run {
            labels = List.copyOf(labels);
        }
    }

    private DemoReport() {
    }

    /**
     * An exit setting as the summary prints it: one S, or S by predicted label with the label names.
     *
     * @param s       the setting's S, nats
     * @param byLabel S in nats by label index, or null for one S for every label
     * @param labels  label names in index order; a label without a name is shown by its index
     * @return e.g. {@code 0.1417}, or {@code ham 0.1763, spam 0.5689}
     */
    static String setting(double s, List<Double> byLabel, List<String> labels) {
        if (byLabel == null) {
            return String.format(Locale.ROOT, "%.4f", s);
        }
        List<String> parts = new ArrayList<>(byLabel.size());
        for (int c = 0; c < byLabel.size(); c++) {
            parts.add(String.format(Locale.ROOT, "%s %.4f", c < labels.size() ? labels.get(c) : "label " + c, byLabel.get(c)));
        }
        return String.join(", ", parts);
    }

    /**
     * @param byLabel S in nats by label index, or null
     * @param labels  label names in index order
     * @return label name -> S in nats (the model card's spelling), or null for one S
     */
    static Map<String, Double> byName(List<Double> byLabel, List<String> labels) {
        if (byLabel == null) {
            return null;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        for (int c = 0; c < byLabel.size(); c++) {
            m.put(c < labels.size() ? labels.get(c) : Integer.toString(c), byLabel.get(c));
        }
        return m;
    }

    /**
     * @param elapsedS        seconds since the first record was sent
     * @param tally           counts so far
     * @param eventsPerSecond events classified per second since the previous line
     * @param labels          the model's label names in index order
     * @return one line: progress, events/s, exit histogram, S in force (per label when label-conditional) and its
     *     source
     */
    static String liveLine(double elapsedS, DemoTally tally, double eventsPerSecond, List<String> labels) {
        String s = Double.isNaN(tally.latestThreshold()) ? "S=?" : String.format(Locale.ROOT, "S=%s nats (%s)",
                setting(tally.latestThreshold(), tally.latestLabelThresholds(), labels), tally.latestSource());
        return String.format(Locale.ROOT, "[%6.1f s] classified %4d, dead-lettered %d of %d | %6.1f events/s | exit layers %s | %s",
                elapsedS, tally.classifiedCount(), tally.deadLetters(), tally.expected(), eventsPerSecond,
                histogram(tally.exitHistogram()), s);
    }

    /**
     * @param run   what ran
     * @param tally the final counts
     * @return the summary table, several lines
     */
    static String summary(Run run, DemoTally tally) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "SUMMARY: model %s %s (%d layers, %s), %d events from %s, batch size %d, input rate %s%n",
                run.modelName(), run.modelVersion(), run.numLayers(), run.device(), run.events(), run.eventsFile(),
                run.batchSize(), run.rate() > 0 ? run.rate() + " events/s" : "unlimited"));
        String label = tally.protectedLabel();
        // The recall column is as wide as its header ("spam recall"), and absent when the card names no label.
        String recallHeader = label == null ? "" : " " + label + " recall";
        String recallCell = label == null ? "" : " %" + (recallHeader.length() - 1) + "s";
        List<PhaseStats> phases = new ArrayList<>(List.of(tally.before(), tally.after()));
        if (tally.other().events() > 0) {
            phases.add(tally.other());
        }
        // The setting column is as wide as its widest cell: a label-conditional setting names every label's S.
        int settingWidth = "S (nats)".length();
        for (PhaseStats p : phases) {
            settingWidth = Math.max(settingWidth, phaseSetting(p, run).length());
        }
        String settingCell = "%-" + settingWidth + "s";
        b.append(String.format(Locale.ROOT, "  %-7s " + settingCell + "  %-13s %6s %9s%s  %-28s %7s %9s %9s %6s%n", "phase",
                "S (nats)", "S source", "events", "accuracy", recallHeader, "exit layers 1.." + run.numLayers(), "saving",
                "events/s", "ms/event", "batch"));
        for (PhaseStats p : phases) {
            b.append(String.format(Locale.ROOT, "  %-7s " + settingCell + "  %-13s %6d %9s%s  %-28s %7s %9s %9s %6s%n", p.name(),
                    phaseSetting(p, run), p.thresholdSource() == null ? "-" : p.thresholdSource(), p.events(), number(p.accuracy(), 4),
                    label == null ? "" : String.format(Locale.ROOT, recallCell, number(p.protectedRecall(), 4)),
                    histogram(p.exitHistogram()), number(p.expectedSaving(), 3), number(p.eventsPerSecond(), 1),
                    number(p.meanClassifierMs(), 1), number(p.meanBatchSize(), 1)));
        }
        b.append(String.format(Locale.ROOT, "  overall: %d classified, accuracy %s%s, exit layers %s, expected saving %s%n",
                tally.classifiedCount(), number(tally.accuracy(), 4),
                label == null ? "" : ", " + label + " recall " + number(tally.protectedRecall(), 4), histogram(tally.exitHistogram()),
                number(ExpectedSaving.expectedSaving(tally.exitHistogram()), 3)));
        b.append(String.format(Locale.ROOT, "  dead letters: %d %s (1 deliberately malformed record sent; %d events from the file)%n",
                tally.deadLetters(), tally.deadLetterCodes(), tally.deadLetteredEvents()));
        if (phases.stream().anyMatch(p -> p.labelThresholds() != null)) {
            b.append("  S by label = label-conditional thresholds: an input leaves at layer i when its entropy is below the S")
                    .append(" of the label off-ramp i predicts;\n");
        }
        b.append("  saving = DeeBERT expected saving (1 - layers run / all layers); events/s = wall clock from the")
                .append(" events' processed_at;\n")
                .append(label == null ? "" : "  " + label + " recall = share of the events labelled " + label
                        + " that were classified as " + label + " (n/a: none);\n")
                .append("  ms/event = classifier time per event; batch = mean size of the batch an event was classified in");
        if (tally.duplicates() > 0 || tally.unexpected() > 0) {
            b.append(String.format(Locale.ROOT, "%n  WARNING: %d duplicate and %d unexpected records", tally.duplicates(),
                    tally.unexpected()));
        }
        return b.toString();
    }

    /**
     * @param run   what ran
     * @param tally the final counts
     * @return the summary as a JSON-ready map (NaN becomes null); {@code protected_label} and
     *     {@code protected_recall} (overall and per phase) are null when the card names no protected label
     */
    static Map<String, Object> summaryJson(Run run, DemoTally tally) {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", run.modelName());
        model.put("version", run.modelVersion());
        model.put("num_layers", run.numLayers());
        model.put("device", run.device());
        root.put("model", model);
        root.put("events_file", run.eventsFile());
        root.put("events", run.events());
        root.put("batch_size", run.batchSize());
        root.put("input_rate_events_per_s", run.rate() > 0 ? run.rate() : null);
        List<Map<String, Object>> phases = new ArrayList<>();
        for (PhaseStats p : List.of(tally.before(), tally.after(), tally.other())) {
            if (p == tally.other() && p.events() == 0) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("phase", p.name());
            m.put("threshold_nats", finite(p.threshold()));
            m.put("label_thresholds_nats", byName(p.labelThresholds(), run.labels()));
            m.put("threshold_source", p.thresholdSource());
            m.put("events", p.events());
            m.put("accuracy", finite(p.accuracy()));
            m.put("protected_recall", finite(p.protectedRecall()));
            m.put("exit_histogram", p.exitHistogram());
            m.put("expected_saving", finite(p.expectedSaving()));
            m.put("events_per_s", finite(p.eventsPerSecond()));
            m.put("classifier_ms_per_event", finite(p.meanClassifierMs()));
            m.put("mean_batch_size", finite(p.meanBatchSize()));
            phases.add(m);
        }
        root.put("phases", phases);
        root.put("classified", tally.classifiedCount());
        root.put("accuracy", finite(tally.accuracy()));
        root.put("protected_label", tally.protectedLabel());
        root.put("protected_recall", finite(tally.protectedRecall()));
        root.put("exit_histogram", tally.exitHistogram());
        root.put("expected_saving", ExpectedSaving.expectedSaving(tally.exitHistogram()));
        root.put("dead_letters", tally.deadLetters());
        root.put("dead_letter_codes", tally.deadLetterCodes());
        root.put("dead_lettered_events", tally.deadLetteredEvents());
        root.put("duplicates", tally.duplicates());
        return root;
    }

    /**
     * @param file where to write (parent directories are created)
     * @param json the map from {@link #summaryJson}
     * @throws UncheckedIOException if the file cannot be written
     */
    static void writeJson(Path file, Map<String, Object> json) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            JSON.writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** @return the phase's setting for the table; {@code other} (several settings) as {@code -} */
    private static String phaseSetting(PhaseStats p, Run run) {
        return Double.isNaN(p.threshold()) ? "-" : setting(p.threshold(), p.labelThresholds(), run.labels());
    }

    static String histogram(long[] h) {
        return Arrays.toString(h);
    }

    private static String number(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
