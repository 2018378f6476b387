package org.deebert.streams.demo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The budget phase's stream order: each email's full-model answer (the last off-ramp's arg-max) and its
 * difficulty, the mean entropy of its off-ramps' softmax over every layer, from one pass of the classifier's
 * {@code allOffRampLogits}. Sorted easy to hard, the first half is the easiest and the second the hardest: a
 * stream whose difficulty changes half-way. Pure functions, no model.
 */
final class DifficultyOrder {

    /**
     * One email with what the full model says about it.
     *
     * @param text        the labelled email
     * @param meanEntropy mean over the layers of its off-ramp's softmax entropy, nats
     * @param fullLabel   0-based label of the last off-ramp (the full model's answer)
     */
    record Email(DemoEvents.LabelledText text, double meanEntropy, int fullLabel) {
    }

    private DifficultyOrder() {
    }

    /**
     * @param text   the email
     * @param logits {@code [layer-1][label]} logits of every off-ramp, at least one layer
     * @return the email with its mean off-ramp entropy and the last off-ramp's label
     * @throws IllegalArgumentException if there are no layers
     */
    static Email email(DemoEvents.LabelledText text, float[][] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no off-ramp logits for " + text.id());
        }
        double sum = 0;
        for (float[] layer : logits) {
            sum += entropy(layer);
        }
        return new Email(text, sum / logits.length, argmax(logits[logits.length - 1]));
    }

    /**
     * Entropy of the softmax of {@code logits}, nats, computed in double without overflow:
     * {@code H = log Z - sum_i p_i (x_i - max)} with {@code Z = sum_i exp(x_i - max)}.
     *
     * @param logits one off-ramp's logits, length C >= 1
     * @return entropy in [0, ln C]
     */
    static double entropy(float[] logits) {
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

    /** @return index of the largest logit; a tie goes to the lowest index (as the service's arg-max) */
    static int argmax(float[] logits) {
        int best = 0;
        for (int c = 1; c < logits.length; c++) {
            if (logits[c] > logits[best]) {
                best = c;
            }
        }
        return best;
    }

    /**
     * @param emails the emails in input order
     * @return a new list, easiest (lowest mean entropy) first; equal entropies keep their input order
     */
    static List<Email> easyToHard(List<Email> emails) {
        List<Email> sorted = new ArrayList<>(emails);
        sorted.sort(Comparator.comparingDouble(Email::meanEntropy)); // List.sort is stable
        return sorted;
    }

    /** @return how many of {@code n} ordered emails form the easy half (the rest, the hard half) */
    static int easyHalfSize(int n) {
        return n / 2;
    }
}
