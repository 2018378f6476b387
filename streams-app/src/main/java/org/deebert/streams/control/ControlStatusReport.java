package org.deebert.streams.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deebert.streams.schema.AccuracyBudget;
import org.deebert.streams.schema.ControllerWindow;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ThresholdControl;

/**
 * What the {@code control status} command prints for each model, in text for a person or in JSON for a script:
 * the exit setting in force (the latest control message, or the model card's recommended setting when there is
 * none or it is a tombstone), who set it, when and why, the accuracy budget when one is in force and the budget
 * controller's last decision from the telemetry topic. Also the JSON form of one control message, which
 * {@code --dry-run} prints instead of sending it. Field names in JSON are the Avro schema's (snake case).
 */
public final class ControlStatusReport {

    /** {@code source} of a model without a control message in force. */
    public static final String MODEL_CARD = "model-card";
    /** {@code source} of a model whose setting is a control message. */
    public static final String CONTROL_TOPIC = "control-topic";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ControlStatusReport() {
    }

    /**
     * One model's line of the report.
     *
     * @param model             the model name (the control topic's key)
     * @param setting           the latest control message, or null when there is none or it is a tombstone (the
     *                          model card's recommended setting applies)
     * @param recordTimestampMs the Kafka timestamp of the latest control record (message or tombstone), ms since
     *                          the epoch, or null when the topic has no record for the model
     * @param controller        the latest telemetry record of the model that carries the budget controller's
     *                          window, or null when there is none
     */
    public record ModelStatus(String model, ThresholdControl setting, Long recordTimestampMs, ExitTelemetry controller) {
    }

    /**
     * @param models the models, in the order to print them
     * @return one block per model, each line "  field: value"; "No control records." when the list is empty
     */
    public static String text(List<ModelStatus> models) {
        if (models.isEmpty()) {
            return "No control records: every model runs its model card's recommended setting.\n";
        }
        StringBuilder out = new StringBuilder();
        for (ModelStatus m : models) {
            out.append("Model ").append(m.model()).append('\n');
            ThresholdControl c = m.setting();
            if (c == null) {
                out.append("  setting:    model card's recommended setting\n");
                out.append("  source:     ").append(MODEL_CARD);
                if (m.recordTimestampMs() != null) {
                    out.append(" (override cleared at ").append(iso(m.recordTimestampMs())).append(')');
                }
                out.append('\n');
            } else {
                out.append("  setting:    ").append(describeSetting(c)).append('\n');
                out.append("  source:     ").append(CONTROL_TOPIC).append('\n');
                out.append("  set by:     ").append(c.getChangedBy()).append('\n');
                out.append("  set at:     ").append(iso(m.recordTimestampMs())).append('\n');
                out.append("  reason:     ").append(c.getReason()).append('\n');
                if (c.getBudget() != null) {
                    out.append("  budget:     ").append(describeBudget(c.getBudget())).append('\n');
                    out.append("  controller: ").append(describeController(m.controller())).append('\n');
                }
            }
        }
        return out.toString();
    }

    /**
     * @param models the models, in the order to print them
     * @return {@code {"models": [...]}}, one object per model with {@code model}, {@code source}, {@code setting}
     *     (null for the model card's), {@code set_by}, {@code set_at} (ISO-8601 UTC), {@code reason},
     *     {@code budget} and {@code controller} (null when absent)
     */
    public static String json(List<ModelStatus> models) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("models");
        for (ModelStatus m : models) {
            ObjectNode o = list.addObject();
            ThresholdControl c = m.setting();
            o.put("model", m.model());
            o.put("source", c == null ? MODEL_CARD : CONTROL_TOPIC);
            if (c == null) {
                o.putNull("setting");
                o.putNull("set_by");
                o.put("set_at", m.recordTimestampMs() == null ? null : iso(m.recordTimestampMs()));
                o.putNull("reason");
                o.putNull("budget");
                o.putNull("controller");
                continue;
            }
            ObjectNode s = o.putObject("setting");
            putSetting(s, c);
            o.put("set_by", c.getChangedBy());
            o.put("set_at", iso(m.recordTimestampMs()));
            o.put("reason", c.getReason());
            if (c.getBudget() == null) {
                o.putNull("budget");
                o.putNull("controller");
            } else {
                putBudget(o.putObject("budget"), c.getBudget());
                if (m.controller() == null || m.controller().getController() == null) {
                    o.putNull("controller");
                } else {
                    putController(o.putObject("controller"), m.controller());
                }
            }
        }
        return write(root);
    }

    /**
     * The JSON form of one control record, as {@code --dry-run} prints it.
     *
     * @param model   the record key
     * @param message the value, or null for a tombstone
     * @return {@code {"key": model, "value": {...every field of ThresholdControl...}}}, {@code value} null for a
     *     tombstone; {@code changed_at} in ISO-8601 UTC
     */
    public static String messageJson(String model, ThresholdControl message) {
        ObjectNode root = JSON.createObjectNode();
        root.put("key", model);
        if (message == null) {
            root.putNull("value");
            return write(root);
        }
        putMessage(root.putObject("value"), message);
        return write(root);
    }

    /** Puts every field of {@code message} into {@code v}, named as in the Avro schema; shared with the history. */
    static void putMessage(ObjectNode v, ThresholdControl message) {
        putSetting(v, message);
        if (message.getBudget() == null) {
            v.putNull("budget");
        } else {
            putBudget(v.putObject("budget"), message.getBudget());
        }
        v.put("model_name", message.getModelName());
        v.put("changed_by", message.getChangedBy());
        v.put("reason", message.getReason());
        v.put("changed_at", message.getChangedAt().toString());
    }

    /** @return e.g. "ENTROPY S=0.25 nats, per label {spam=0.7}" or "PATIENCE t=3 layers" */
    static String describeSetting(ThresholdControl c) {
        StringBuilder s = new StringBuilder();
        s.append(c.getPolicy());
        if (c.getPolicy() == ExitPolicyName.PATIENCE) {
            s.append(" t=").append(number(c.getThreshold())).append(" layers");
        } else {
            s.append(" S=").append(number(c.getThreshold())).append(" nats");
        }
        if (c.getLayerThresholds() != null) {
            s.append(", per layer ").append(c.getLayerThresholds());
        }
        if (c.getLabelThresholds() != null) {
            s.append(", per label ").append(c.getLabelThresholds());
        }
        return s.toString();
    }

    static String describeBudget(AccuracyBudget b) {
        String guard = b.getProtectedLabel() == null ? "" : String.format(Locale.ROOT,
                ", at most %s of %s recall lost", number(b.getMaxRecallLoss()), b.getProtectedLabel());
        return String.format(Locale.ROOT, "at most %s of answers differ from the full model%s; S in [%s, %s] nats; "
                        + "sample rate %s; window %d samples / %d ms; confidence %s",
                number(b.getMaxDisagreement()), guard, number(b.getMinThreshold()), number(b.getMaxThreshold()),
                number(b.getSampleRate()), b.getWindowEvents(), b.getWindowMs(), number(b.getConfidence()));
    }

    private static String describeController(ExitTelemetry t) {
        if (t == null || t.getController() == null) {
            return "no decision in the telemetry topic yet";
        }
        ControllerWindow w = t.getController();
        String guard = w.getProtectedSamples() == null ? "" : String.format(Locale.ROOT,
                "; %s: %d samples, recall loss %s, upper bound %s", t.getProtectedLabel(), w.getProtectedSamples(),
                number(w.getProtectedRecallLoss()), number(w.getProtectedRecallLossUpperBound()));
        return String.format(Locale.ROOT, "S=%s nats at %s (%s); window %d samples, disagreement %s, upper bound %s%s",
                number(w.getChosenThreshold()), t.getIntervalEnd(), t.getInstanceId(), w.getWindowSamples(),
                number(w.getDisagreement()), number(w.getDisagreementUpperBound()), guard);
    }

    private static void putSetting(ObjectNode s, ThresholdControl c) {
        s.put("policy", String.valueOf(c.getPolicy()));
        s.put("threshold", c.getThreshold());
        if (c.getLayerThresholds() == null) {
            s.putNull("layer_thresholds");
        } else {
            ArrayNode a = s.putArray("layer_thresholds");
            c.getLayerThresholds().forEach(a::add);
        }
        if (c.getLabelThresholds() == null) {
            s.putNull("label_thresholds");
        } else {
            ObjectNode l = s.putObject("label_thresholds");
            for (Map.Entry<String, Double> e : c.getLabelThresholds().entrySet()) {
                l.put(e.getKey(), e.getValue());
            }
        }
    }

    private static void putBudget(ObjectNode o, AccuracyBudget b) {
        o.put("max_disagreement", b.getMaxDisagreement());
        o.put("sample_rate", b.getSampleRate());
        o.put("min_threshold", b.getMinThreshold());
        o.put("max_threshold", b.getMaxThreshold());
        o.put("window_events", b.getWindowEvents());
        o.put("window_ms", b.getWindowMs());
        o.put("confidence", b.getConfidence());
        o.put("protected_label", b.getProtectedLabel());
        o.put("max_recall_loss", b.getMaxRecallLoss());
    }

    private static void putController(ObjectNode o, ExitTelemetry t) {
        ControllerWindow w = t.getController();
        o.put("at", t.getIntervalEnd().toString());
        o.put("instance_id", t.getInstanceId());
        o.put("chosen_threshold", w.getChosenThreshold());
        o.put("window_samples", w.getWindowSamples());
        o.put("disagreement", w.getDisagreement());
        o.put("disagreement_upper_bound", w.getDisagreementUpperBound());
        o.put("protected_samples", w.getProtectedSamples());
        o.put("protected_recall_loss", w.getProtectedRecallLoss());
        o.put("protected_recall_loss_upper_bound", w.getProtectedRecallLossUpperBound());
    }

    static String iso(Long epochMs) {
        return epochMs == null ? "unknown" : Instant.ofEpochMilli(epochMs).toString();
    }

    /** Plain decimal, no exponent for the usual magnitudes: what an operator typed. */
    private static String number(Double d) {
        return d == null ? "null" : Double.toString(d);
    }

    static String write(ObjectNode root) {
        try {
            return JSON.writeValueAsString(root) + System.lineSeparator();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
