package org.deebert.streams.demo;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.deebert.streams.exit.ExpectedSaving;
import org.deebert.streams.schema.ClassifiedEvent;

/**
 * One run of the budget phase: the difficulty-ordered emails streamed once under their own record keys
 * ({@code prefix + id}), and per half (easy, hard) what came back: events, disagreement with the full model's
 * answer, the protected label's recall against the true labels, exit histogram and expected saving, and the
 * settings the events were classified with (the range of one S, and any per-label settings). Every key must come
 * back once, on the output or the dead-letter topic. Not thread-safe (the demo's main thread owns it).
 */
final class BudgetRunTally {

    /** The two halves of the ordered stream. */
    enum Half {
        EASY("easy"), HARD("hard");

        private final String label;

        Half(String label) {
            this.label = label;
        }

        /** @return {@code easy} or {@code hard} */
        String label() {
            return label;
        }
    }

    /** What came back for one half. */
    static final class HalfStats {
        private final long[] exitHistogram;
        private final Set<String> sources = new TreeSet<>();
        private final Set<List<Double>> labelSettings = new LinkedHashSet<>();
        private long events;
        private long disagreements;
        private long protectedGold;
        private long protectedFound;
        private long deadLettered;
        private double minThreshold = Double.NaN;
        private double maxThreshold = Double.NaN;

        private HalfStats(int numLayers) {
            exitHistogram = new long[numLayers];
        }

        /** @return events classified */
        long events() {
            return events;
        }

        /** @return events whose label differs from the full model's */
        long disagreements() {
            return disagreements;
        }

        /** @return share of classified events that differ from the full model; NaN when none */
        double disagreement() {
            return events == 0 ? Double.NaN : (double) disagreements / events;
        }

        /** @return a copy of the exit histogram, index 0 = layer 1 */
        long[] exitHistogram() {
            return Arrays.copyOf(exitHistogram, exitHistogram.length);
        }

        /** @return DeeBERT's expected saving (eq. 2) of the exit layers the events record */
        double expectedSaving() {
            return ExpectedSaving.expectedSaving(exitHistogram);
        }

        /**
         * @return the protected label's recall in this half: events whose true label is the protected one that were
         *     classified as it, over events whose true label is it; NaN when there are none or no protected label
         */
        double protectedRecall() {
            return protectedGold == 0 ? Double.NaN : (double) protectedFound / protectedGold;
        }

        /** @return smallest S (nats) an event of this half with one S for every label was classified with; NaN when none */
        double minThreshold() {
            return minThreshold;
        }

        /** @return largest S (nats) an event of this half with one S for every label was classified with; NaN when none */
        double maxThreshold() {
            return maxThreshold;
        }

        /** @return the per-label settings (S in nats by label index) events of this half were classified with, in order seen */
        List<List<Double>> labelSettings() {
            return List.copyOf(labelSettings);
        }

        /** @return the {@code threshold_source} values seen, sorted */
        Set<String> thresholdSources() {
            return Set.copyOf(sources);
        }

        /** @return events of this half dead-lettered instead of classified (should stay 0) */
        long deadLettered() {
            return deadLettered;
        }

        /**
         * @param maxDisagreement the budget, a share
         * @return whether the half's disagreement stayed within it (an empty half holds it)
         */
        boolean withinBudget(double maxDisagreement) {
            return events == 0 || disagreement() <= maxDisagreement;
        }

        private void add(ClassifiedEvent event, boolean disagrees, boolean protectedGold, boolean correct) {
            events++;
            if (disagrees) {
                disagreements++;
            }
            if (protectedGold) {
                this.protectedGold++;
                if (correct) {
                    protectedFound++;
                }
            }
            exitHistogram[event.getExitLayer() - 1]++;
            if (event.getLabelThresholds() != null) {
                // Its threshold field is not compared with any score: keep it out of the range of one S.
                labelSettings.add(List.copyOf(event.getLabelThresholds()));
            } else {
                double s = event.getThreshold();
                minThreshold = Double.isNaN(minThreshold) ? s : Math.min(minThreshold, s);
                maxThreshold = Double.isNaN(maxThreshold) ? s : Math.max(maxThreshold, s);
            }
            sources.add(event.getThresholdSource());
        }
    }

    private record Expected(Half half, int fullLabel, String trueLabel) {
    }

    private final String name;
    private final String prefix;
    private final int numLayers;
    private final String protectedLabel;
    private final List<DifficultyOrder.Email> ordered;
    private final Map<String, Expected> expected = new HashMap<>();
    private final Set<String> accounted = new HashSet<>();
    private final Map<Half, HalfStats> halves = new EnumMap<>(Half.class);
    private long duplicates;
    private double latestThreshold = Double.NaN;
    private List<Double> latestLabelThresholds;
    private String latestSource;

    /**
     * A run without a protected label (no recall measured).
     *
     * @throws IllegalArgumentException if an id repeats
     * @see #BudgetRunTally(String, String, List, int, String)
     */
    BudgetRunTally(String name, String prefix, List<DifficultyOrder.Email> ordered, int numLayers) {
        this(name, prefix, ordered, numLayers, null);
    }

    /**
     * @param name           how the table names the run, e.g. {@code A card setting}
     * @param prefix         prepended to each email id to make this run's record keys, e.g. {@code budget-a/}
     * @param ordered        the emails, easy to hard ({@link DifficultyOrder#easyToHard}); the first
     *                       {@link DifficultyOrder#easyHalfSize} form the easy half
     * @param numLayers      the model's number of layers
     * @param protectedLabel the model card's protected label, whose recall against the emails' true labels is
     *                       measured per half; null for none
     * @throws IllegalArgumentException if an id repeats
     */
    BudgetRunTally(String name, String prefix, List<DifficultyOrder.Email> ordered, int numLayers, String protectedLabel) {
        this.name = name;
        this.prefix = prefix;
        this.numLayers = numLayers;
        this.protectedLabel = protectedLabel;
        this.ordered = List.copyOf(ordered);
        int easy = DifficultyOrder.easyHalfSize(ordered.size());
        for (int i = 0; i < ordered.size(); i++) {
            DifficultyOrder.Email e = ordered.get(i);
            if (expected.put(key(i), new Expected(i < easy ? Half.EASY : Half.HARD, e.fullLabel(), e.text().label())) != null) {
                throw new IllegalArgumentException("id " + e.text().id() + " repeats");
            }
        }
        for (Half h : Half.values()) {
            halves.put(h, new HalfStats(numLayers));
        }
    }

    /** @return the run's name */
    String name() {
        return name;
    }

    /** @return the protected label whose recall the run measures; null for none */
    String protectedLabel() {
        return protectedLabel;
    }

    /** @return the emails in stream order */
    List<DifficultyOrder.Email> ordered() {
        return ordered;
    }

    /** @return the record key (and event id) of the {@code i}-th email in stream order */
    String key(int i) {
        return prefix + ordered.get(i).text().id();
    }

    /** @return the half the {@code i}-th email in stream order belongs to */
    Half halfOf(int i) {
        return i < DifficultyOrder.easyHalfSize(ordered.size()) ? Half.EASY : Half.HARD;
    }

    /**
     * Counts one record of the output topic.
     *
     * @param key   the record key
     * @param event the classification
     * @return false when the key is not this run's or was already counted (then ignored)
     * @throws IllegalArgumentException if the event's exit layer is outside 1..numLayers
     */
    boolean classified(String key, ClassifiedEvent event) {
        if (event.getExitLayer() < 1 || event.getExitLayer() > numLayers) {
            throw new IllegalArgumentException("exit layer " + event.getExitLayer() + " outside 1.." + numLayers);
        }
        Expected e = accept(key);
        if (e == null) {
            return false;
        }
        boolean protectedGold = protectedLabel != null && protectedLabel.equals(e.trueLabel());
        halves.get(e.half()).add(event, event.getLabelIndex() != e.fullLabel(), protectedGold,
                event.getLabel().equals(e.trueLabel()));
        latestThreshold = event.getThreshold();
        latestLabelThresholds = event.getLabelThresholds();
        latestSource = event.getThresholdSource();
        return true;
    }

    /**
     * Counts one record of the dead-letter topic.
     *
     * @param key the record key
     * @return false when the key is not this run's or was already counted (then ignored)
     */
    boolean deadLettered(String key) {
        Expected e = accept(key);
        if (e == null) {
            return false;
        }
        halves.get(e.half()).deadLettered++;
        return true;
    }

    private Expected accept(String key) {
        Expected e = key == null ? null : expected.get(key);
        if (e == null) {
            return null;
        }
        if (!accounted.add(key)) {
            duplicates++;
            return null;
        }
        return e;
    }

    /** @return the stats of one half */
    HalfStats half(Half half) {
        return halves.get(half);
    }

    /** @return records of this run that came back on either topic */
    int accountedFor() {
        return accounted.size();
    }

    /** @return records this run sends */
    int expected() {
        return expected.size();
    }

    /** @return whether every record of this run came back */
    boolean complete() {
        return accounted.size() == expected.size();
    }

    /** @return records of this run seen twice (exactly-once should keep this 0) */
    long duplicates() {
        return duplicates;
    }

    /** @return S (nats) of the latest classified event; NaN before the first */
    double latestThreshold() {
        return latestThreshold;
    }

    /** @return S in nats by label index of the latest classified event; null before the first or for one S */
    List<Double> latestLabelThresholds() {
        return latestLabelThresholds;
    }

    /** @return {@code threshold_source} of the latest classified event; null before the first */
    String latestSource() {
        return latestSource;
    }
}
