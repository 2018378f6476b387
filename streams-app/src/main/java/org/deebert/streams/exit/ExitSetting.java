package org.deebert.streams.exit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The exit rule in force: a policy, its threshold and optional per-layer or per-label thresholds. The
 * validation rules of an exit setting are defined here, once: the model card, the control-topic validator
 * ({@code topology.ControlMessageValidator}) and the CLI all go through this constructor and
 * {@link #validateFor(int, int)}. Python's copy of the same rules is {@code ExitSetting.validate} in
 * {@code model-export/src/deebert_export/exits.py}, with the same messages (policy names spelled as each
 * language spells them).
 *
 * <p>Label-conditional thresholds: at layer i an input may leave when its score is strictly below
 * {@code S^(y_i)}, where {@code y_i} is off-ramp i's predicted label ({@link ExitScores#argmax}: ties go to the
 * lowest index). Why: in moderation a benign answer that leaves early and is wrong lets harm through, while a
 * harmful answer that leaves early and is wrong costs a review; so the benign label gets a strict S and the
 * harmful label a looser one. The early-exit papers (DeeBERT, PABEE, BADGE) use one S for every label.
 *
 * @param policy          which score is compared with the threshold
 * @param threshold       for {@link ExitPolicy#ENTROPY} and {@link ExitPolicy#DIVERGENCE}: S in nats,
 *                        finite and {@code >= 0} (S = 0 sends every input to the last layer; for ENTROPY,
 *                        S > ln(number of labels) lets every input exit at layer 1). For
 *                        {@link ExitPolicy#PATIENCE}: the patience t in layers, an integer {@code >= 1}
 *                        ({@code <= n}, checked by {@link #validateFor(int, int)}). With per-layer or
 *                        per-label thresholds it is not compared with any score, but still recorded and
 *                        validated (when per-label thresholds come by name, the labels left out get it)
 * @param layerThresholds null, or S_1..S_n in nats (each finite and {@code >= 0}) replacing
 *                        {@code threshold} at layer i; ENTROPY and DIVERGENCE only. The reference DeeBERT
 *                        code accepts such a list ({@code early_exit_entropy} per layer). Unmodifiable.
 * @param labelThresholds null, or S^(0)..S^(C-1) in nats by label index (the model card's label order), each
 *                        finite and {@code >= 0}, replacing {@code threshold} for inputs whose off-ramp predicts
 *                        that label; ENTROPY and DIVERGENCE only, never together with {@code layerThresholds}.
 *                        Unmodifiable.
 */
public record ExitSetting(ExitPolicy policy, double threshold, List<Double> layerThresholds,
                          List<Double> labelThresholds) {

    /**
     * @throws IllegalArgumentException if the threshold is negative, NaN or infinite; a patience is not an
     *     integer {@code >= 1}; per-layer or per-label thresholds are given for PATIENCE, are empty, or hold a
     *     null, a negative, NaN or infinite value; or both lists are given
     */
    public ExitSetting {
        Objects.requireNonNull(policy, "policy");
        if (!Double.isFinite(threshold) || threshold < 0) {
            throw new IllegalArgumentException("threshold S must be a finite number >= 0, got " + threshold);
        }
        if (policy == ExitPolicy.PATIENCE && (threshold != Math.rint(threshold) || threshold < 1)) {
            throw new IllegalArgumentException("patience must be an integer >= 1 (layers), got " + threshold);
        }
        if (layerThresholds != null) {
            if (!policy.comparesScoreInNats()) {
                throw new IllegalArgumentException("per-layer thresholds apply to ENTROPY and DIVERGENCE only, not " + policy);
            }
            if (layerThresholds.isEmpty()) {
                throw new IllegalArgumentException("per-layer thresholds need one value per layer, got none");
            }
            for (int i = 0; i < layerThresholds.size(); i++) {
                Double s = layerThresholds.get(i);
                if (s == null || !Double.isFinite(s) || s < 0) {
                    throw new IllegalArgumentException("per-layer threshold S_" + (i + 1)
                            + " must be a finite number >= 0, got " + s);
                }
            }
            layerThresholds = List.copyOf(layerThresholds);
        }
        if (labelThresholds != null) {
            if (!policy.comparesScoreInNats()) {
                throw new IllegalArgumentException("per-label thresholds apply to ENTROPY and DIVERGENCE only, not " + policy);
            }
            if (layerThresholds != null) {
                throw new IllegalArgumentException("per-label and per-layer thresholds cannot be combined");
            }
            if (labelThresholds.isEmpty()) {
                throw new IllegalArgumentException("per-label thresholds need one value per label, got none");
            }
            for (int c = 0; c < labelThresholds.size(); c++) {
                Double s = labelThresholds.get(c);
                if (s == null || !Double.isFinite(s) || s < 0) {
                    throw new IllegalArgumentException("per-label threshold for label " + c
                            + " must be a finite number >= 0, got " + s);
                }
            }
            labelThresholds = List.copyOf(labelThresholds);
        }
    }

    /** The setting with one threshold for every layer (S in nats, or the patience in layers). */
    public ExitSetting(ExitPolicy policy, double threshold) {
        this(policy, threshold, null, null);
    }

    /**
     * The setting with optional per-layer thresholds and one S for every label.
     *
     * @throws IllegalArgumentException as the canonical constructor
     */
    public ExitSetting(ExitPolicy policy, double threshold, List<Double> layerThresholds) {
        this(policy, threshold, layerThresholds, null);
    }

    /**
     * The setting in words for logs, e.g. {@code ENTROPY S=0.3 nats}, {@code ENTROPY S per label: ham 0.1763,
     * spam 0.5689 nats}, {@code DIVERGENCE S per layer: 0, 0.05, 0.1 nats} or {@code PATIENCE t=3 layers}.
     * Numbers are rounded to 4 decimals: a log line, not a value to parse.
     *
     * @param labels the model's label names in index order, naming the per-label thresholds
     * @return the description
     */
    public String describe(List<String> labels) {
        if (policy == ExitPolicy.PATIENCE) {
            return policy + " t=" + (int) threshold + " layers";
        }
        if (labelThresholds != null) {
            StringBuilder s = new StringBuilder(policy + " S per label: ");
            for (int c = 0; c < labelThresholds.size(); c++) {
                s.append(c == 0 ? "" : ", ").append(c < labels.size() ? labels.get(c) : "label " + c).append(' ')
                        .append(round(labelThresholds.get(c)));
            }
            return s.append(" nats").toString();
        }
        if (layerThresholds != null) {
            StringBuilder s = new StringBuilder(policy + " S per layer: ");
            for (int i = 0; i < layerThresholds.size(); i++) {
                s.append(i == 0 ? "" : ", ").append(round(layerThresholds.get(i)));
            }
            return s.append(" nats").toString();
        }
        return policy + " S=" + round(threshold) + " nats";
    }

    private static String round(double v) {
        return java.math.BigDecimal.valueOf(v).setScale(4, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros()
                .toPlainString();
    }

    /** Shorthand for the DeeBERT entropy rule with threshold {@code s} nats. */
    public static ExitSetting entropy(double s) {
        return new ExitSetting(ExitPolicy.ENTROPY, s);
    }

    /** Shorthand for PABEE's rule with patience {@code t} layers. */
    public static ExitSetting patience(int t) {
        return new ExitSetting(ExitPolicy.PATIENCE, t);
    }

    /**
     * Label-conditional thresholds: S^(c) in nats for inputs whose off-ramp predicts label c.
     *
     * @param policy          ENTROPY or DIVERGENCE
     * @param threshold       S in nats, recorded beside the list (what a label left out of a control message gets)
     * @param labelThresholds S^(0)..S^(C-1) in nats, by label index
     * @return the setting
     * @throws IllegalArgumentException as the canonical constructor
     */
    public static ExitSetting perLabel(ExitPolicy policy, double threshold, List<Double> labelThresholds) {
        return new ExitSetting(policy, threshold, null, labelThresholds);
    }

    /**
     * Per-label thresholds as the model card and the control topic carry them, keyed by label name, turned into
     * the by-index list of {@link #labelThresholds()}; the one place in Java where names become indices.
     *
     * @param byName    label name -> S in nats; labels left out get {@code threshold}. Null for none
     * @param threshold S in nats for the labels {@code byName} leaves out
     * @param labels    the model's label names in index order (the model card's {@code labels})
     * @return S^(0)..S^(C-1) in nats, or null when {@code byName} is null. Values are not checked here: the
     *     constructor checks them
     * @throws IllegalArgumentException if {@code byName} is empty or names a label the model does not have (the
     *     message lists the model's labels)
     */
    public static List<Double> labelThresholdsByIndex(Map<String, Double> byName, double threshold, List<String> labels) {
        if (byName == null) {
            return null;
        }
        if (byName.isEmpty()) {
            throw new IllegalArgumentException("per-label thresholds name no label; the model's labels are " + labels
                    + " (leave them out for one S for every label)");
        }
        for (String name : byName.keySet()) {
            if (!labels.contains(name)) {
                throw new IllegalArgumentException("per-label thresholds name unknown label '" + name
                        + "'; the model's labels are " + labels);
            }
        }
        // Not List.copyOf: a null value must reach the constructor, which names the label it belongs to.
        List<Double> byIndex = new ArrayList<>(labels.size());
        for (String name : labels) {
            byIndex.add(byName.containsKey(name) ? byName.get(name) : Double.valueOf(threshold));
        }
        return byIndex;
    }

    /**
     * Checks the rules that depend on the model's depth: a patience of at most n layers, and exactly n
     * per-layer thresholds. The length of a per-label list is not checked: use {@link #validateFor(int, int)}
     * where the number of labels is known.
     *
     * @param numLayers n, the model's number of layers (= off-ramps)
     * @return this setting
     * @throws IllegalArgumentException saying which rule the setting breaks for an n-layer model
     */
    public ExitSetting validateFor(int numLayers) {
        if (policy == ExitPolicy.PATIENCE && threshold > numLayers) {
            throw new IllegalArgumentException("patience must be an integer in 1.." + numLayers + " (layers), got "
                    + threshold);
        }
        if (layerThresholds != null && layerThresholds.size() != numLayers) {
            throw new IllegalArgumentException("per-layer thresholds need " + numLayers + " values (one per layer), got "
                    + layerThresholds.size());
        }
        return this;
    }

    /**
     * Checks every rule that depends on the model: those of {@link #validateFor(int)}, and exactly C per-label
     * thresholds.
     *
     * @param numLayers n, the model's number of layers (= off-ramps)
     * @param numLabels C, the model's number of labels (logits per off-ramp)
     * @return this setting
     * @throws IllegalArgumentException saying which rule the setting breaks for an n-layer, C-label model
     */
    public ExitSetting validateFor(int numLayers, int numLabels) {
        validateFor(numLayers);
        if (labelThresholds != null && labelThresholds.size() != numLabels) {
            throw new IllegalArgumentException("per-label thresholds need " + numLabels + " values (one per label), got "
                    + labelThresholds.size());
        }
        return this;
    }

    /**
     * The S an ENTROPY or DIVERGENCE score is compared with.
     *
     * @param layer 1-based layer
     * @param label the label index off-ramp {@code layer} predicts ({@link ExitScores#argmax})
     * @return S^(label) when per-label thresholds are set, else S_layer when per-layer thresholds are set, else
     *     {@link #threshold()} (nats; layers for PATIENCE)
     * @throws IndexOutOfBoundsException if the layer or label is outside the lists the setting carries (a setting
     *     not checked with {@link #validateFor(int, int)} for this model)
     */
    public double thresholdAt(int layer, int label) {
        if (labelThresholds != null) {
            return labelThresholds.get(label);
        }
        return layerThresholds == null ? threshold : layerThresholds.get(layer - 1);
    }
}
