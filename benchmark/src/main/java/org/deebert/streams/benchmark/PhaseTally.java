package org.deebert.streams.benchmark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.deebert.streams.exit.ExpectedSaving;

/**
 * What came back for one phase of {@link StreamBenchmark}: which of the events sent were classified or
 * dead-lettered, their exit layers, batch sizes, arrival times and latencies. Only ids, labels and numbers
 * are kept, never message text. Not thread-safe (the consumer thread alone feeds it).
 */
public final class PhaseTally {

    private final Map<String, String> trueLabels;
    private final double threshold;
    private final List<Double> labelThresholds;
    private final String protectedLabel;
    private int protectedRelevant;
    private int protectedFound;
    private final Set<String> seen = new HashSet<>();
    private final long[] histogram;
    private final List<Double> latenciesMs = new ArrayList<>();
    private final List<Double> waitMs = new ArrayList<>();
    private final List<Double> batchMs = new ArrayList<>();
    private final List<Double> visibleMs = new ArrayList<>();
    private long batchSizeSum;
    private double classifyMsSum;
    private int classified;
    private int labelled;
    private int correct;
    private int deadLettered;
    private int duplicates;
    private int thresholdMismatches;
    private long firstNanos;
    private long lastNanos;

    /**
     * @param trueLabels id of every event sent in this phase -> its true label (null when unknown)
     * @param numLayers  the model's layers (length of the exit histogram)
     * @param threshold  the S in nats every event of the phase should have been classified with
     */
    public PhaseTally(Map<String, String> trueLabels, int numLayers, double threshold) {
        this(trueLabels, numLayers, threshold, null);
    }

    /**
     * @param trueLabels     id of every event sent in this phase -> its true label (null when unknown)
     * @param numLayers      the model's layers (length of the exit histogram)
     * @param threshold      the S in nats every event of the phase should have been classified with
     * @param protectedLabel the model card's protected label, whose recall {@link #protectedRecall()} reports;
     *                       null for none
     */
    public PhaseTally(Map<String, String> trueLabels, int numLayers, double threshold, String protectedLabel) {
        this(trueLabels, numLayers, threshold, null, protectedLabel);
    }

    /**
     * @param trueLabels      id of every event sent in this phase -> its true label (null when unknown)
     * @param numLayers       the model's layers (length of the exit histogram)
     * @param threshold       the S in nats every event of the phase should record in {@code threshold}
     * @param labelThresholds the S in nats by label index every event should record in {@code label_thresholds} (a
     *                        label-conditional setting, e.g. the model card's), or null for one S for every label
     * @param protectedLabel  the model card's protected label, whose recall {@link #protectedRecall()} reports;
     *                        null for none
     */
    public PhaseTally(Map<String, String> trueLabels, int numLayers, double threshold, List<Double> labelThresholds,
                      String protectedLabel) {
        this.trueLabels = trueLabels;
        this.histogram = new long[numLayers];
        this.threshold = threshold;
        this.labelThresholds = labelThresholds == null ? null : List.copyOf(labelThresholds);
        this.protectedLabel = protectedLabel;
    }

    /** @return whether {@code id} is one of this phase's events */
    public boolean expects(String id) {
        return trueLabels.containsKey(id);
    }

    /**
     * Counts one classified event (a repeat of an id already seen counts only as a duplicate).
     *
     * @param id           the event id (record key)
     * @param label        the predicted label
     * @param exitLayer    1-based exit layer
     * @param batchSize    events in its batch
     * @param thresholdS   the S in nats the service says it applied
     * @param arrivalNanos when the consumer received it, {@link System#nanoTime()}
     * @param latencyMs    receive wall time minus the record timestamp, ms
     * @param classifyShareMs this event's share of its batch's classifier time ({@code processing_time_ms} = batch time / batch size), ms
     */
    public boolean classified(String id, String label, int exitLayer, int batchSize, double thresholdS, long arrivalNanos,
                           double latencyMs, double classifyShareMs) {
        return classified(id, label, exitLayer, batchSize, thresholdS, null, arrivalNanos, latencyMs, classifyShareMs);
    }

    /**
     * Counts one classified event, as {@link #classified(String, String, int, int, double, long, double, double)},
     * with the per-label thresholds it records: an event under another setting than the phase's (another S, or
     * per-label thresholds where the phase has none or other ones) counts as a threshold mismatch.
     *
     * @param labelThresholdsS the S in nats by label index the service says it applied, or null for one S
     * @return whether it counted: false for a repeat of an id already seen
     */
    public boolean classified(String id, String label, int exitLayer, int batchSize, double thresholdS,
                           List<Double> labelThresholdsS, long arrivalNanos, double latencyMs, double classifyShareMs) {
        if (!seen.add(id)) {
            duplicates++;
            return false;
        }
        if (classified == 0) {
            firstNanos = arrivalNanos;
        }
        lastNanos = arrivalNanos;
        classified++;
        histogram[Math.max(1, Math.min(histogram.length, exitLayer)) - 1]++;
        batchSizeSum += batchSize;
        classifyMsSum += classifyShareMs; // the shares of a batch's events add up to the batch's time
        latenciesMs.add(latencyMs);
        String truth = trueLabels.get(id);
        if (truth != null) {
            labelled++;
            if (truth.equals(label)) {
                correct++;
            }
            if (truth.equals(protectedLabel)) {
                protectedRelevant++;
                if (truth.equals(label)) {
                    protectedFound++;
                }
            }
        }
        if (Double.compare(thresholdS, threshold) != 0 || !Objects.equals(labelThresholdsS, labelThresholds)) {
            thresholdMismatches++;
        }
        return true;
    }

    /**
     * Where one counted event's end-to-end latency went, from the output record's own fields. The three parts add
     * up to its latency: record timestamp -> its batch's classification starts ({@code processed_at} minus the
     * batch's classifier time): fetch, buffering and linger; the batch's classifier time ({@code processing_time_ms}
     * x {@code batch_size}); {@code processed_at} -> the benchmark's read_committed consumer receives it: produce,
     * the exactly-once commit that makes it visible, and the consumer's fetch. One wall clock (one machine).
     *
     * @param waitMs    record timestamp to the start of its batch's classification, ms
     * @param batchMs   its batch's classifier time, ms
     * @param visibleMs {@code processed_at} to receipt, ms
     */
    public void stages(double waitMs, double batchMs, double visibleMs) {
        this.waitMs.add(waitMs);
        this.batchMs.add(batchMs);
        this.visibleMs.add(visibleMs);
    }

    /**
     * @return per stage of {@link #stages}, its latency summary (ms), keyed {@code wait}, {@code classify_batch},
     *     {@code visible}; empty summaries when no stages were recorded
     */
    public Map<String, BenchmarkStats.LatencySummary> stageLatency() {
        Map<String, BenchmarkStats.LatencySummary> m = new java.util.LinkedHashMap<>();
        m.put("wait", summary(waitMs));
        m.put("classify_batch", summary(batchMs));
        m.put("visible", summary(visibleMs));
        return m;
    }

    private static BenchmarkStats.LatencySummary summary(List<Double> ms) {
        return BenchmarkStats.LatencySummary.of(ms.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Counts one dead-lettered event (its id = the record key). */
    public void deadLettered(String id) {
        if (seen.add(id)) {
            deadLettered++;
        } else {
            duplicates++;
        }
    }

    /** @return whether every event sent has come back, classified or dead-lettered */
    public boolean complete() {
        return seen.size() == trueLabels.size();
    }

    /** @return events sent in this phase */
    public int expected() {
        return trueLabels.size();
    }

    /** @return events not (yet) back */
    public int missing() {
        return trueLabels.size() - seen.size();
    }

    /** @return events classified */
    public int classifiedCount() {
        return classified;
    }

    /** @return events dead-lettered */
    public int deadLetteredCount() {
        return deadLettered;
    }

    /** @return records seen again for an id already counted (0 under exactly-once) */
    public int duplicates() {
        return duplicates;
    }

    /** @return classified events whose recorded setting (S, and S by label) differs from the phase's */
    public int thresholdMismatches() {
        return thresholdMismatches;
    }

    /** @return {@code exitHistogram[i-1]} = classified events that left at layer i (a copy) */
    public long[] exitHistogram() {
        return histogram.clone();
    }

    /** @return DeeBERT eq. 2 over {@link #exitHistogram()}; in [0, 1 - 1/n] */
    public double expectedSaving() {
        return ExpectedSaving.expectedSaving(histogram);
    }

    /** @return share of labelled classified events whose label was right; null when none was labelled */
    public Double accuracy() {
        return labelled == 0 ? null : (double) correct / labelled;
    }

    /**
     * @return the protected label's recall: of the classified events whose true label is it, the share labelled
     *     as it, in [0, 1]; null without a protected label or when no such event was classified
     */
    public Double protectedRecall() {
        return protectedRelevant == 0 ? null : (double) protectedFound / protectedRelevant;
    }

    /** @return the model card's protected label this tally reports the recall of, or null */
    public String protectedLabel() {
        return protectedLabel;
    }

    /**
     * @return seconds the service's classifier spent on this phase's events (sum of their batches'
     *     {@code processing_time_ms}): the rest of the wall time went to Kafka, serdes, commits and waiting
     */
    public double classifierBusySeconds() {
        return classifyMsSum / 1000.0;
    }

    /** @return the size of the batch an event was classified in, averaged over events; NaN when none */
    public double meanBatch() {
        return classified == 0 ? Double.NaN : (double) batchSizeSum / classified;
    }

    /** @return {@link System#nanoTime()} of the first classified event's arrival; 0 before */
    public long firstArrivalNanos() {
        return firstNanos;
    }

    /** @return seconds from the first classified event's arrival to the last's */
    public double firstToLastSeconds() {
        return (lastNanos - firstNanos) / 1e9;
    }

    /** @return (classified - 1) / first-to-last seconds, in events/s; NaN with fewer than 2 events */
    public double eventsPerSecond() {
        return BenchmarkStats.ratePerSecond(classified, firstNanos, lastNanos);
    }

    /** @return the latency summary (ms) of the classified events */
    public BenchmarkStats.LatencySummary latency() {
        return BenchmarkStats.LatencySummary.of(latenciesMs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Override
    public String toString() {
        return classified + " classified, " + deadLettered + " dead-lettered, " + missing() + " missing, exits "
                + Arrays.toString(histogram);
    }
}
