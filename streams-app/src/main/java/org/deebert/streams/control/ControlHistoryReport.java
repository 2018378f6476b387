package org.deebert.streams.control;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.deebert.streams.schema.ThresholdControl;

/**
 * What the {@code control history} command prints: per model, every record still on the control topic, oldest
 * first ({@link ControlHistory}), in text for a person or in JSON for a script. A record shows its Kafka timestamp
 * (ISO-8601 UTC), what it set (policy and S, per-layer or per-label thresholds, the accuracy budget) or that it
 * cleared the override, its source (an operator or the accuracy-budget controller), who and why. A record whose
 * value does not decode is one line naming its partition and offset; its bytes are never printed. Field names in
 * JSON are the Avro schema's (snake case), as in {@code control status}.
 */
public final class ControlHistoryReport {

    /** The text of a tombstone. */
    public static final String CLEARED = "cleared (tombstone): back to the model card's setting";

    private ControlHistoryReport() {
    }

    /**
     * @param models the models, each with its records oldest first
     * @return one block per model: a heading line, then per record a line with its timestamp, offset and what it
     *     set, and below it who set it, the source and why (and the budget, when one); "No records ..." when the
     *     list is empty
     */
    public static String text(List<ControlHistory.ModelHistory> models) {
        if (models.isEmpty()) {
            return "No records on the control topic: every model runs its model card's setting.\n";
        }
        StringBuilder out = new StringBuilder();
        for (ControlHistory.ModelHistory m : models) {
            out.append("Model ").append(m.model()).append(": ");
            if (m.total() == 0) {
                out.append("no records on the control topic (its model card's setting applies)\n");
                continue;
            }
            if (m.records().size() < m.total()) {
                out.append("newest ").append(m.records().size()).append(" of ");
            }
            out.append(m.total()).append(m.total() == 1 ? " record" : " records").append(", oldest first\n");
            for (ControlHistory.Entry e : m.records()) {
                appendText(out, e);
            }
        }
        return out.toString();
    }

    private static void appendText(StringBuilder out, ControlHistory.Entry e) {
        if (e.kind() == ControlHistory.Kind.UNDECODABLE) {
            out.append("  undecodable record at partition ").append(e.partition()).append(" offset ")
                    .append(e.offset()).append('\n');
            return;
        }
        out.append("  ").append(ControlStatusReport.iso(e.timestampMs())).append("  offset ").append(e.offset())
                .append("  ");
        if (e.kind() == ControlHistory.Kind.CLEARED) {
            out.append(CLEARED).append('\n');
            return;
        }
        ThresholdControl c = e.value();
        out.append(ControlStatusReport.describeSetting(c)).append('\n');
        if (c.getBudget() != null) {
            out.append("      budget: ").append(ControlStatusReport.describeBudget(c.getBudget())).append('\n');
        }
        out.append("      by ").append(c.getChangedBy()).append(" (").append(ControlHistory.source(c))
                .append("): ").append(c.getReason()).append('\n');
    }

    /**
     * @param models the models, each with its records oldest first
     * @return {@code {"models": [{"model", "total", "records": [...]}]}}; each record has {@code partition},
     *     {@code offset}, {@code timestamp} (the Kafka record timestamp, ISO-8601 UTC), {@code kind} ("set",
     *     "cleared" or "undecodable"), {@code source} ("operator" or "accuracy-budget controller"; null unless
     *     "set") and {@code value} (every field of the ThresholdControl message, as {@code --dry-run} prints it;
     *     null unless "set"); {@code total} counts the model's records before {@code --limit}
     */
    public static String json(List<ControlHistory.ModelHistory> models) {
        ObjectNode root = ControlStatusReport.JSON.createObjectNode();
        ArrayNode list = root.putArray("models");
        for (ControlHistory.ModelHistory m : models) {
            ObjectNode o = list.addObject();
            o.put("model", m.model());
            o.put("total", m.total());
            ArrayNode records = o.putArray("records");
            for (ControlHistory.Entry e : m.records()) {
                ObjectNode r = records.addObject();
                r.put("partition", e.partition());
                r.put("offset", e.offset());
                r.put("timestamp", ControlStatusReport.iso(e.timestampMs()));
                r.put("kind", e.kind().name().toLowerCase(java.util.Locale.ROOT));
                if (e.kind() == ControlHistory.Kind.SET) {
                    r.put("source", ControlHistory.source(e.value()));
                    ControlStatusReport.putMessage(r.putObject("value"), e.value());
                } else {
                    r.putNull("source");
                    r.putNull("value");
                }
            }
        }
        return ControlStatusReport.write(root);
    }
}
