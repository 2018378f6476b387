package org.deebert.streams.demo;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.deebert.streams.schema.ClassifiedEvent;

/**
 * The demo's bookkeeping of what came back from the service: every input record must end up either on
 * the output topic or on the dead-letter topic, exactly once. A classified event belongs to a phase by
 * the threshold S recorded in it (its {@code threshold} field), not by when it arrived: the global store
 * may apply a control message a batch earlier or later than the demo sent it. Not thread-safe (the
 * demo's main thread owns it).
 */
final class DemoTally {

    private final Map<String, String> trueLabels;
    private final String protectedLabel;
    private final Set<String> expectedKeys;
    private final Set<String> accountedKeys = new HashSet<>();
    private final PhaseStats before;
    private final PhaseStats after;
    private final PhaseStats other;
    private final long[] exitHistogram;
    private final Map<String, Long> deadLetterCodes = new TreeMap<>();
    private long classified;
    private long correct;
    private long protectedGold;
    private long protectedFound;
    private long deadLetters;
    private long deadLetteredEvents;
    private long duplicates;
    private long unexpected;
    private double latestThreshold = Double.NaN;
    private List<Double> latestLabelThresholds;
    private String latestSource;

    /**
     * Two phases with one S each for every label.
     *
     * @throws IllegalArgumentException if the two thresholds are equal (the phases could not be told apart)
     * @see #DemoTally(Map, Set, int, double, List, double, String)
     */
    DemoTally(Map<String, String> trueLabels, Set<String> extraKeys, int numLayers, double initialS, double switchS,
              String protectedLabel) {
        this(trueLabels, extraKeys, numLayers, initialS, null, switchS, protectedLabel);
    }

    /**
     * @param trueLabels true label per event id (the ids of the good events sent)
     * @param extraKeys  keys of the other records sent (the deliberately malformed one), expected on the
     *                   dead-letter topic
     * @param numLayers  number of layers (off-ramps) of the model
     * @param initialS   S in nats of the first phase (with per-label thresholds: the value recorded beside them)
     * @param initialLabelS S in nats by label index of the first phase when its setting is label-conditional (the
     *                   default model card's), else null
     * @param switchS    S in nats of the second phase, one for every label
     * @param protectedLabel the model card's protected label, whose recall is reported beside accuracy; null when
     *                   the card names none
     * @throws IllegalArgumentException if both phases would record the same setting (one S, equal to
     *     {@code switchS}): the phases could not be told apart
     */
    DemoTally(Map<String, String> trueLabels, Set<String> extraKeys, int numLayers, double initialS,
              List<Double> initialLabelS, double switchS, String protectedLabel) {
        if (initialLabelS == null && Double.compare(initialS, switchS) == 0) {
            throw new IllegalArgumentException("the initial and the switch threshold must differ, both are S=" + initialS);
        }
        this.trueLabels = Map.copyOf(trueLabels);
        this.protectedLabel = protectedLabel;
        this.expectedKeys = new HashSet<>(trueLabels.keySet());
        this.expectedKeys.addAll(extraKeys);
        this.before = new PhaseStats("before", initialS, initialLabelS, numLayers);
        this.after = new PhaseStats("after", switchS, numLayers);
        this.other = new PhaseStats("other", Double.NaN, numLayers);
        this.exitHistogram = new long[numLayers];
    }

    /**
     * Counts one record of the output topic.
     *
     * @param key   the record key (the event id)
     * @param event the classification
     * @return false when the key was not sent by the demo or was already accounted for (then ignored)
     */
    boolean classified(String key, ClassifiedEvent event) {
        if (!accept(key)) {
            return false;
        }
        classified++;
        boolean isCorrect = event.getLabel().equals(trueLabels.get(key));
        if (isCorrect) {
            correct++;
        }
        boolean isProtectedGold = protectedLabel != null && protectedLabel.equals(trueLabels.get(key));
        if (isProtectedGold) {
            protectedGold++;
            if (isCorrect) {
                protectedFound++;
            }
        }
        exitHistogram[event.getExitLayer() - 1]++;
        latestThreshold = event.getThreshold();
        latestLabelThresholds = event.getLabelThresholds();
        latestSource = event.getThresholdSource();
        phaseOf(event.getThreshold(), event.getLabelThresholds()).add(event.getExitLayer(), isCorrect, isProtectedGold, event.getThresholdSource(),
                event.getProcessedAt().toEpochMilli(), event.getProcessingTimeMs(), event.getBatchSize());
        return true;
    }

    /**
     * Counts one record of the dead-letter topic.
     *
     * @param key  the record key as sent
     * @param code the {@code deebert.error.code} header, or null when absent
     * @return false when the key was not sent by the demo or was already accounted for (then ignored)
     */
    boolean deadLettered(String key, String code) {
        if (!accept(key)) {
            return false;
        }
        deadLetters++;
        if (trueLabels.containsKey(key)) {
            deadLetteredEvents++;
        }
        deadLetterCodes.merge(code == null ? "(no code)" : code, 1L, Long::sum);
        return true;
    }

    private boolean accept(String key) {
        if (key == null || !expectedKeys.contains(key)) {
            unexpected++;
            return false;
        }
        if (!accountedKeys.add(key)) {
            duplicates++;
            return false;
        }
        return true;
    }

    private PhaseStats phaseOf(double threshold, List<Double> labelThresholds) {
        if (before.holds(threshold, labelThresholds)) {
            return before;
        }
        if (after.holds(threshold, labelThresholds)) {
            return after;
        }
        return other;
    }

    /** @return records sent that came back on either topic */
    int accountedFor() {
        return accountedKeys.size();
    }

    /** @return records sent (good events plus extra records) */
    int expected() {
        return expectedKeys.size();
    }

    /** @return whether every record sent came back on the output or the dead-letter topic */
    boolean complete() {
        return accountedKeys.size() == expectedKeys.size();
    }

    /** @return events classified so far */
    long classifiedCount() {
        return classified;
    }

    /** @return share of classified events with the true label, all phases; NaN when none */
    double accuracy() {
        return classified == 0 ? Double.NaN : (double) correct / classified;
    }

    /** @return the model card's protected label; null when it names none */
    String protectedLabel() {
        return protectedLabel;
    }

    /**
     * @return the protected label's recall over all phases: classified events whose true label is the protected one
     *     and that were classified as it, divided by classified events whose true label is it; NaN when there are
     *     none or the card names no protected label
     */
    double protectedRecall() {
        return protectedGold == 0 ? Double.NaN : (double) protectedFound / protectedGold;
    }

    /** @return exit-layer histogram of all classified events, index 0 = layer 1 */
    long[] exitHistogram() {
        return Arrays.copyOf(exitHistogram, exitHistogram.length);
    }

    /** @return the phase before the threshold change */
    PhaseStats before() {
        return before;
    }

    /** @return the phase after the threshold change */
    PhaseStats after() {
        return after;
    }

    /** @return events classified with an S that is neither phase's (should stay empty) */
    PhaseStats other() {
        return other;
    }

    /** @return records on the dead-letter topic, the deliberately malformed one included */
    long deadLetters() {
        return deadLetters;
    }

    /** @return good events (from the events file) that were dead-lettered instead of classified */
    long deadLetteredEvents() {
        return deadLetteredEvents;
    }

    /** @return dead letters per {@code deebert.error.code}, sorted by code */
    Map<String, Long> deadLetterCodes() {
        return Map.copyOf(new TreeMap<>(deadLetterCodes));
    }

    /** @return records seen twice (exactly-once should keep this 0) */
    long duplicates() {
        return duplicates;
    }

    /** @return records whose key the demo never sent */
    long unexpected() {
        return unexpected;
    }

    /** @return S in nats of the latest classified event; NaN before the first */
    double latestThreshold() {
        return latestThreshold;
    }

    /** @return S in nats by label index of the latest classified event; null before the first or for one S */
    List<Double> latestLabelThresholds() {
        return latestLabelThresholds;
    }

    /** @return where the latest classified event's S came from; null before the first */
    String latestSource() {
        return latestSource;
    }
}
