package org.deebert.streams.demo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.deebert.streams.exit.ExitScores;

/**
 * The budget phase's stream order: each email's full-model answer (the last off-ramp's arg-max) and its
 * difficulty, the mean entropy of its off-ramps' softmax over every layer ({@link ExitScores#softmaxEntropy}),
 * from one pass of {@code OffRampProbe.allOffRampLogits}. Sorted easy to hard, the first half is the easiest and
 * the second the hardest: a stream whose difficulty changes half-way. Pure functions, no model.
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
            sum += ExitScores.softmaxEntropy(layer);
        }
        // Softmax keeps the order of the logits, so this is the service's predicted label.
        return new Email(text, sum / logits.length, ExitScores.argmax(logits[logits.length - 1]));
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
