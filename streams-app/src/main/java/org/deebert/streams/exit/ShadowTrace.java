package org.deebert.streams.exit;

import java.util.Arrays;

/**
 * What every off-ramp said about one shadow-sampled input (an input that ran every layer although the policy
 * in force let it leave earlier): from this the budget controller knows, for any candidate threshold S, where
 * the input would have exited and whether that answer equals the full model's (the last off-ramp's).
 *
 * @param labels      predicted label index of each off-ramp ({@link ExitScores#argmax}), index 0 = layer 1; length n
 * @param entropies   entropy of each off-ramp's softmax, nats (the ENTROPY score); length n
 * @param divergences Jensen-Shannon divergence of each off-ramp from the previous one, nats (the DIVERGENCE
 *                    score); length n, {@code divergences[0] = +Infinity}
 */
public record ShadowTrace(int[] labels, double[] entropies, double[] divergences) implements OffRampScores {

    /** @throws IllegalArgumentException if the arrays are empty or of different lengths */
    public ShadowTrace {
        if (labels.length == 0 || entropies.length != labels.length || divergences.length != labels.length) {
            throw new IllegalArgumentException("a shadow trace needs one label, entropy and divergence per layer, got "
                    + labels.length + ", " + entropies.length + ", " + divergences.length);
        }
    }

    /** @return n, the number of off-ramps */
    public int numLayers() {
        return labels.length;
    }

    /** @return the full model's answer: the last off-ramp's label index */
    public int fullModelLabel() {
        return labels[labels.length - 1];
    }

    /**
     * @param policy ENTROPY or DIVERGENCE
     * @param layer  1-based layer
     * @return the policy's exit score at that layer, nats ({@link ExitRule#score(ExitPolicy, OffRampScores, int)})
     * @throws IllegalArgumentException for PATIENCE, whose score is not in nats
     */
    public double score(ExitPolicy policy, int layer) {
        return ExitRule.score(policy, this, layer);
    }

    /**
     * @param layer 1-based layer
     * @return off-ramp {@code layer}'s entropy, nats
     */
    @Override
    public double entropy(int layer) {
        return entropies[layer - 1];
    }

    /**
     * @param layer 1-based layer
     * @return off-ramp {@code layer}'s divergence from the previous one, nats
     */
    @Override
    public double divergence(int layer) {
        return divergences[layer - 1];
    }

    /**
     * @param layer 1-based layer
     * @return never
     * @throws IllegalArgumentException always: a trace keeps the scores in nats only, not PATIENCE's streak
     */
    @Override
    public double streak(int layer) {
        throw new IllegalArgumentException("a shadow trace scores ENTROPY and DIVERGENCE, not " + ExitPolicy.PATIENCE);
    }

    /**
     * The exit layer this input would have had under {@code setting} (paper Algorithm 1, {@link ExitRule});
     * a per-label setting compares each layer's score with the S of the label that off-ramp predicted.
     *
     * @param setting an ENTROPY or DIVERGENCE setting
     * @return 1-based exit layer
     */
    public int exitLayer(ExitSetting setting) {
        ExitRule rule = new ExitRule(setting, labels.length);
        for (int layer = 1; layer < labels.length; layer++) {
            if (rule.exits(layer, labels[layer - 1], rule.score(this, layer))) {
                return layer;
            }
        }
        return labels.length;
    }

    /**
     * @param setting an ENTROPY or DIVERGENCE setting
     * @return whether the answer at {@link #exitLayer}'s off-ramp differs from the full model's
     */
    public boolean disagreesAt(ExitSetting setting) {
        return labels[exitLayer(setting) - 1] != fullModelLabel();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShadowTrace t && Arrays.equals(labels, t.labels) && Arrays.equals(entropies, t.entropies)
                && Arrays.equals(divergences, t.divergences);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(labels) + Arrays.hashCode(entropies)) + Arrays.hashCode(divergences);
    }

    @Override
    public String toString() {
        return "ShadowTrace[labels=" + Arrays.toString(labels) + ", entropies=" + Arrays.toString(entropies)
                + ", divergences=" + Arrays.toString(divergences) + "]";
    }
}
