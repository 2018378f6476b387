package org.deebert.streams.control;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deebert.streams.schema.ThresholdControl;

/**
 * The records still on the control topic, grouped per model, for {@code control history}: each model's records
 * oldest first by offset within its partition, which is the order the service applied them (a model's records
 * all share one partition, since the model name is the key).
 *
 * <p>How far back this goes: the control topic is compacted, so an older record of a model disappears once a
 * newer one for the same model exists and the log cleaner has reached it. The cleaner leaves a record alone for
 * at least {@code topic.control.min.compaction.lag.ms} (7 days by default) after it was written, and never
 * removes the latest record per model; a history therefore shows at least the last 7 days of decisions, plus the
 * latest per model however old. A tombstone itself is removed {@code delete.retention.ms} (the broker's default:
 * 1 day) after compaction first reaches it.
 */
public final class ControlHistory {

    /** {@link #source} of a message written by a person or their tooling ({@code control set-*}). */
    public static final String OPERATOR = "operator";
    /** {@link #source} of a message the accuracy-budget controller wrote. */
    public static final String CONTROLLER = "accuracy-budget controller";

    private ControlHistory() {
    }

    /** What one control record does. */
    public enum Kind {
        /** A message: the setting it carries is in force from this record on. */
        SET,
        /** A tombstone (null value): back to the model card's setting. */
        CLEARED,
        /** A value that does not decode; the service skips it and the record before stays in force. */
        UNDECODABLE
    }

    /**
     * One record of the control topic.
     *
     * @param model       the record key (the model name)
     * @param partition   the control topic's partition
     * @param offset      the record's offset within {@code partition}
     * @param timestampMs the record's Kafka timestamp, ms since the epoch (UTC)
     * @param kind        what it does
     * @param value       the message for {@link Kind#SET}, null otherwise
     */
    public record Entry(String model, int partition, long offset, long timestampMs, Kind kind,
                        ThresholdControl value) {

        /** @return a record that carries {@code value}, or a tombstone when {@code value} is null */
        public static Entry of(String model, int partition, long offset, long timestampMs, ThresholdControl value) {
            return new Entry(model, partition, offset, timestampMs, value == null ? Kind.CLEARED : Kind.SET, value);
        }

        /** @return a record whose value did not decode (its bytes are not kept) */
        public static Entry undecodable(String model, int partition, long offset, long timestampMs) {
            return new Entry(model, partition, offset, timestampMs, Kind.UNDECODABLE, null);
        }
    }

    /**
     * One model's records.
     *
     * @param model   the model name
     * @param records oldest first; the newest {@code limit} when the listing was limited
     * @param total   how many records the topic holds for the model (before the limit)
     */
    public record ModelHistory(String model, List<Entry> records, int total) {
        public ModelHistory {
            records = List.copyOf(records);
        }
    }

    /**
     * @param records every record read, in any order
     * @param model   only this model, or null for every model; a model without records gets an empty history
     * @param limit   keep only the newest {@code limit} records per model, or null for all
     * @return per model (in the order the models first appear on the topic), its records oldest first
     * @throws IllegalArgumentException if {@code limit} is less than 1
     */
    public static List<ModelHistory> group(List<Entry> records, String model, Integer limit) {
        if (limit != null && limit < 1) {
            throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        }
        List<Entry> ordered = new ArrayList<>(records);
        ordered.sort(Comparator.comparingInt(Entry::partition).thenComparingLong(Entry::offset));
        Map<String, List<Entry>> byModel = new LinkedHashMap<>();
        if (model != null) {
            byModel.put(model, new ArrayList<>());
        }
        for (Entry e : ordered) {
            if (model == null || model.equals(e.model())) {
                byModel.computeIfAbsent(e.model(), m -> new ArrayList<>()).add(e);
            }
        }
        List<ModelHistory> out = new ArrayList<>();
        byModel.forEach((m, list) -> {
            int from = limit == null ? 0 : Math.max(0, list.size() - limit);
            out.add(new ModelHistory(m, list.subList(from, list.size()), list.size()));
        });
        return out;
    }

    /**
     * @param c a control message
     * @return "accuracy-budget controller" when the budget controller wrote it ({@code changed_by}
     *     {@value ControlMessages#CONTROLLER_AUTHOR}), "operator" otherwise
     */
    public static String source(ThresholdControl c) {
        return ControlMessages.CONTROLLER_AUTHOR.equals(c.getChangedBy()) ? CONTROLLER : OPERATOR;
    }
}
