package org.deebert.streams.demo;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.deebert.streams.exit.ExpectedSaving;

/**
 * What the demo measured for the events classified under one exit setting (one threshold S, or S by predicted
 * label): count, accuracy against the true labels, the protected label's recall (accuracy alone hides a class the model misses), exit-layer
 * histogram, expected saving and throughput. Not thread-safe (the demo's main
 * thread owns it).
 */
final class PhaseStats {

    private final String name;
    private final double threshold;
    private final List<Double> labelThresholds;
    private final long[] exitHistogram;
    private String thresholdSource;
    private long events;
    private long correct;
    private long protectedGold;
    private long protectedFound;
    private long firstProcessedAtMs = Long.MAX_VALUE;
    private long lastProcessedAtMs = Long.MIN_VALUE;
    private long eventsAtFirstProcessedAt;
    private double classifierMsSum;
    private long batchSizeSum;

    /**
     * A phase with one S for every label.
     *
     * @param name      how the summary names the phase, e.g. {@code before}
     * @param threshold S in nats that events of this phase were classified with
     * @param numLayers number of layers (off-ramps) of the model
     */
    PhaseStats(String name, double threshold, int numLayers) {
        this(name, threshold, null, numLayers);
    }

    /**
     * @param name            how the summary names the phase, e.g. {@code before}
     * @param threshold       S in nats that events of this phase record in {@code threshold}
     * @param labelThresholds S in nats by label index that they record in {@code label_thresholds} (the setting
     *                        that applied), or null when one S applied to every label
     * @param numLayers       number of layers (off-ramps) of the model
     */
    PhaseStats(String name, double threshold, List<Double> labelThresholds, int numLayers) {
        this.name = name;
        this.threshold = threshold;
        this.labelThresholds = labelThresholds == null ? null : List.copyOf(labelThresholds);
        this.exitHistogram = new long[numLayers];
    }

    /**
     * @param s       the {@code threshold} a classified event records, nats
     * @param byLabel the {@code label_thresholds} it records, or null
     * @return whether the event was classified under this phase's setting: the same S and the same per-label S
     *     (or none on both sides)
     */
    boolean holds(double s, List<Double> byLabel) {
        return Double.compare(s, threshold) == 0 && Objects.equals(byLabel, labelThresholds);
    }

    /**
     * @param exitLayer        1-based layer the event left at
     * @param isCorrect        whether the predicted label is the true label
     * @param protectedGold    whether the true label is the model card's protected label (false when it names none)
     * @param thresholdSource  {@code model-card} or {@code control-topic}, from the classified event
     * @param processedAtMs    when its batch finished, ms since the epoch
     * @param processingTimeMs its share of the batch's classifier time, ms
     * @param batchSize        events in its batch
     * @throws IllegalArgumentException if the exit layer is outside 1..numLayers
     */
    void add(int exitLayer, boolean isCorrect, boolean protectedGold, String thresholdSource, long processedAtMs,
             double processingTimeMs, int batchSize) {
        if (exitLayer < 1 || exitLayer > exitHistogram.length) {
            throw new IllegalArgumentException("exit layer " + exitLayer + " outside 1.." + exitHistogram.length);
        }
        exitHistogram[exitLayer - 1]++;
        events++;
        if (isCorrect) {
            correct++;
        }
        if (protectedGold) {
            this.protectedGold++;
            if (isCorrect) {
                protectedFound++;
            }
        }
        if (this.thresholdSource == null) {
            this.thresholdSource = thresholdSource;
        }
        if (processedAtMs < firstProcessedAtMs) {
            firstProcessedAtMs = processedAtMs;
            eventsAtFirstProcessedAt = 0;
        }
        if (processedAtMs == firstProcessedAtMs) {
            eventsAtFirstProcessedAt++;
        }
        lastProcessedAtMs = Math.max(lastProcessedAtMs, processedAtMs);
        classifierMsSum += processingTimeMs;
        batchSizeSum += batchSize;
    }

    /** @return the phase's name */
    String name() {
        return name;
    }

    /** @return S in nats (with per-label thresholds: the value recorded beside them, not compared with any score) */
    double threshold() {
        return threshold;
    }

    /** @return S in nats by label index when the phase's setting is label-conditional; null for one S */
    List<Double> labelThresholds() {
        return labelThresholds;
    }

    /** @return where S came from ({@code model-card}, {@code control-topic}); null before the first event */
    String thresholdSource() {
        return thresholdSource;
    }

    /** @return events classified in this phase */
    long events() {
        return events;
    }

    /** @return share of events whose predicted label is the true one; NaN when there are none */
    double accuracy() {
        return events == 0 ? Double.NaN : (double) correct / events;
    }

    /**
     * @return share of events whose true label is the protected one that were classified as it (its recall);
     *     NaN when there are none, or the card names no protected label
     */
    double protectedRecall() {
        return protectedGold == 0 ? Double.NaN : (double) protectedFound / protectedGold;
    }

    /** @return a copy of the histogram, index 0 = layer 1 */
    long[] exitHistogram() {
        return Arrays.copyOf(exitHistogram, exitHistogram.length);
    }

    /** @return DeeBERT's expected saving (eq. 2) of this phase's histogram, in [0, 1) */
    double expectedSaving() {
        return ExpectedSaving.expectedSaving(exitHistogram);
    }

    /**
     * Wall-clock throughput between the end of the phase's first batch and the end of its last:
     * the events finished after the first batch, divided by that span. With an unlimited input rate
     * this is the service's capacity; with {@code --rate} it follows the input rate.
     *
     * @return events/s; NaN when the phase spans less than one millisecond (e.g. a single batch)
     */
    double eventsPerSecond() {
        long spanMs = lastProcessedAtMs - firstProcessedAtMs;
        if (events == 0 || spanMs <= 0) {
            return Double.NaN;
        }
        return (events - eventsAtFirstProcessedAt) * 1000.0 / spanMs;
    }

    /** @return the size of the batch an event was classified in, averaged over events; NaN when empty */
    double meanBatchSize() {
        return events == 0 ? Double.NaN : (double) batchSizeSum / events;
    }

    /** @return mean classifier time per event, ms (from each event's share of its batch); NaN when empty */
    double meanClassifierMs() {
        return events == 0 ? Double.NaN : classifierMsSum / events;
    }
}
