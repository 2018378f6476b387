package org.deebert.streams.exit;

/**
 * The exit maths, defined once on the Java side: per-input scores of the {@link ExitPolicy} variants and
 * the threshold test (paper Algorithm 1: leave at the first layer the policy accepts; {@link ExitRule} adds that
 * the last layer takes whoever is left). Python's single copy is {@code model-export/src/deebert_export/exits.py}; both are
 * checked against {@code model-export/tests/golden/exit_policies.json} ({@code ExitPoliciesGoldenTest}).
 */
public final class ExitScores {

    private ExitScores() {
    }

    /**
     * What one input's off-ramp said at one layer, carried to the next layer for DIVERGENCE and PATIENCE.
     *
     * @param probs  the off-ramp's softmax, length C
     * @param label  its predicted label: {@link #argmax}
     * @param streak how many consecutive earlier off-ramps predicted the same label (layers; 0 at layer 1)
     */
    public record OffRamp(float[] probs, int label, int streak) {
    }

    /**
     * One input's off-ramp at the next layer.
     *
     * @param previous the same input's off-ramp at the previous layer, or null at layer 1
     * @param probs    this layer's off-ramp softmax, length C
     * @return this layer's off-ramp, with PABEE's counter advanced (or reset when the label changed)
     */
    public static OffRamp next(OffRamp previous, float[] probs) {
        int label = argmax(probs);
        int streak = previous != null && previous.label() == label ? previous.streak() + 1 : 0;
        return new OffRamp(probs, label, streak);
    }

    /**
     * The predicted label: index of the largest probability; a tie goes to the lowest index (as numpy's
     * {@code argmax} in Python). Softmax keeps the order, so on raw logits it gives the same label.
     *
     * @param probs length C >= 1 (probabilities, or logits)
     * @return 0-based label index
     */
    public static int argmax(float[] probs) {
        int best = 0;
        for (int c = 1; c < probs.length; c++) {
            if (probs[c] > probs[best]) {
                best = c;
            }
        }
        return best;
    }

    /**
     * The policy's score for one input at one layer.
     *
     * @param policy   the policy in force
     * @param entropy  entropy of this off-ramp's softmax, nats (the signature's {@code entropy} output)
     * @param current  this layer's off-ramp ({@link #next})
     * @param previous the previous layer's off-ramp, or null at layer 1
     * @return ENTROPY: the entropy (nats); DIVERGENCE: Jensen-Shannon divergence from the previous
     *     off-ramp (nats), {@code +Infinity} at layer 1, so no S lets it exit there; PATIENCE: the streak (layers)
     */
    public static double score(ExitPolicy policy, double entropy, OffRamp current, OffRamp previous) {
        return ExitRule.score(policy, new OneInput(entropy, current, previous), 0);
    }

    /**
     * The DIVERGENCE score of one input at one layer.
     *
     * @param current  this layer's off-ramp
     * @param previous the previous layer's off-ramp, or null at layer 1
     * @return Jensen-Shannon divergence between the two off-ramps' softmax, nats; {@code +Infinity} at layer 1
     */
    public static double divergence(OffRamp current, OffRamp previous) {
        return previous == null ? Double.POSITIVE_INFINITY : jensenShannon(current.probs(), previous.probs());
    }

    /** One input's scores at one layer, read at index 0. */
    private record OneInput(double entropy, OffRamp current, OffRamp previous) implements OffRampScores {
        @Override
        public double entropy(int i) {
            return entropy;
        }

        @Override
        public double divergence(int i) {
            return ExitScores.divergence(current, previous);
        }

        @Override
        public double streak(int i) {
            return current.streak();
        }
    }

    /**
     * Whether an input leaves at this layer (the last layer's rule, "everyone left leaves", is the caller's).
     *
     * @param setting the setting in force
     * @param layer   1-based layer
     * @param label   the label index that layer's off-ramp predicts ({@link #argmax}); picks S^(label) when the
     *                setting has per-label thresholds
     * @param score   {@link #score} at that layer
     * @return ENTROPY/DIVERGENCE: score strictly below S_layer, or below S^(label) with per-label thresholds
     *     (so S = 0 keeps every input); PATIENCE: streak {@code >=} the patience
     */
    public static boolean exits(ExitSetting setting, int layer, int label, double score) {
        if (setting.policy() == ExitPolicy.PATIENCE) {
            return score >= setting.threshold();
        }
        return score < setting.thresholdAt(layer, label);
    }

    /**
     * Entropy of the softmax of {@code logits}, nats, computed in double without overflow:
     * {@code H = log Z - sum_i p_i (x_i - max)} with {@code Z = sum_i exp(x_i - max)}. The service reads the
     * entropy from the SavedModel's {@code entropy} output; this is for callers that hold raw off-ramp logits.
     *
     * @param logits one off-ramp's logits, length C >= 1
     * @return entropy in [0, ln C]
     */
    public static double softmaxEntropy(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double z = 0;
        for (float x : logits) {
            z += Math.exp(x - max);
        }
        double weighted = 0;
        for (float x : logits) {
            weighted += Math.exp(x - max) / z * (x - max);
        }
        return Math.max(0, Math.log(z) - weighted);
    }

    /**
     * Jensen-Shannon divergence in nats: {@code 0.5 KL(p||m) + 0.5 KL(q||m)}, {@code m = (p+q)/2};
     * range [0, ln 2]. Terms with a zero probability contribute 0.
     *
     * @param p a probability vector
     * @param q a probability vector of the same length
     * @return the divergence, nats
     * @throws IllegalArgumentException if the lengths differ
     */
    public static double jensenShannon(float[] p, float[] q) {
        if (p.length != q.length) {
            throw new IllegalArgumentException("length " + p.length + " != " + q.length);
        }
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            double m = 0.5 * ((double) p[c] + q[c]);
            if (p[c] > 0) {
                sum += 0.5 * p[c] * Math.log(p[c] / m);
            }
            if (q[c] > 0) {
                sum += 0.5 * q[c] * Math.log(q[c] / m);
            }
        }
        return Math.max(0.0, sum);
    }
}
