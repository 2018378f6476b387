package org.deebert.streams.classifier;

/**
 * Per-input exit scores of the {@link ExitPolicy} variants and the exit test (paper Algorithm 1:
 * leave at the first layer whose score is strictly below S).
 */
final class ExitScores {

    private ExitScores() {
    }

    /**
     * The policy's score for one input at one layer.
     *
     * @param policy    the policy in force
     * @param entropy   entropy of this off-ramp's softmax, nats (the signature's {@code entropy} output)
     * @param probs     this off-ramp's softmax, length C
     * @param previous  the previous off-ramp's softmax, length C, or null at layer 1
     * @return the score in nats; NaN for DIVERGENCE at layer 1 (no earlier off-ramp: never exits)
     */
    static double score(ExitPolicy policy, double entropy, float[] probs, float[] previous) {
        switch (policy) {
            case ENTROPY:
                return entropy;
            case DIVERGENCE:
                return previous == null ? Double.NaN : jensenShannon(probs, previous);
            default:
                throw new IllegalStateException("unknown policy " + policy);
        }
    }

    /**
     * Whether an input leaves: score strictly below S. NaN never exits, so S = 0 keeps every input.
     *
     * @param score     the policy's score, nats
     * @param threshold S, nats
     * @return true if the input leaves at this layer
     */
    static boolean exits(double score, double threshold) {
        return score < threshold;
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
    static double jensenShannon(float[] p, float[] q) {
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
