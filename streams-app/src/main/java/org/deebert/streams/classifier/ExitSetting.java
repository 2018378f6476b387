package org.deebert.streams.classifier;

import java.util.List;
import java.util.Objects;

/**
 * The exit rule in force: a policy, its threshold and optional per-layer thresholds. The validation
 * rules of an exit setting are defined here, once: the model card, the control-topic validator
 * ({@code topology.ControlMessageValidator}) and the CLI all go through this constructor and
 * {@link #validateFor(int)}.
 *
 * @param policy          which score is compared with the threshold
 * @param threshold       for {@link ExitPolicy#ENTROPY} and {@link ExitPolicy#DIVERGENCE}: S in nats,
 *                        finite and {@code >= 0} (S = 0 sends every input to the last layer; for ENTROPY,
 *                        S > ln(number of labels) lets every input exit at layer 1). For
 *                        {@link ExitPolicy#PATIENCE}: the patience t in layers, an integer {@code >= 1}
 *                        ({@code <= n}, checked by {@link #validateFor(int)})
 * @param layerThresholds null, or S_1..S_n in nats (each finite and {@code >= 0}) replacing
 *                        {@code threshold} at layer i; ENTROPY and DIVERGENCE only. The reference DeeBERT
 *                        code accepts such a list ({@code early_exit_entropy} per layer). Unmodifiable.
 */
public record ExitSetting(ExitPolicy policy, double threshold, List<Double> layerThresholds) {

    /**
     * @throws IllegalArgumentException if the threshold is negative, NaN or infinite; a patience is not an
     *     integer {@code >= 1}; per-layer thresholds are given for PATIENCE, are empty, or hold a null, a
     *     negative, NaN or infinite value
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
    }

    /** The setting with one threshold for every layer (S in nats, or the patience in layers). */
    public ExitSetting(ExitPolicy policy, double threshold) {
        this(policy, threshold, null);
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
     * Checks the rules that depend on the model: a patience of at most n layers, and exactly n per-layer
     * thresholds.
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
     * @param layer 1-based layer
     * @return S_layer when per-layer thresholds are set, else {@link #threshold()} (nats, or layers for PATIENCE)
     */
    public double thresholdAt(int layer) {
        return layerThresholds == null ? threshold : layerThresholds.get(layer - 1);
    }
}
