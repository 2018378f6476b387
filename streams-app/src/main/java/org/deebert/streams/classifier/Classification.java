package org.deebert.streams.classifier;

import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.ShadowTrace;

/**
 * The result of classifying one input with early exit (returned, never thrown).
 *
 * @param labelIndex    index of the predicted label in the model card's label list (argmax of probabilities)
 * @param label         the predicted label's name
 * @param probabilities softmax of the exit off-ramp's logits, one per label, in label order
 * @param exitLayer     the off-ramp the input left at, 1-based: 1 = after the first transformer layer,
 *                      {@code numLayers} = the original classifier after the last layer
 * @param numLayers     number of transformer layers (= off-ramps) in the model
 * @param entropy       entropy of {@code probabilities} in nats (paper section 3.2), whatever the policy
 * @param exitScore     the policy's score at the exit layer ({@link ExitScores#score}): nats for ENTROPY (equals
 *                      {@code entropy}) and DIVERGENCE (+Infinity at layer 1), layers for PATIENCE
 * @param numTokens     tokens fed to the model after truncation, including [CLS] and [SEP]
 * @param shadow        every off-ramp's answer when the input was a shadow sample of an accuracy budget (it ran
 *                      every layer; the fields above still report the policy's exit), else null
 */
public record Classification(
        int labelIndex,
        String label,
        float[] probabilities,
        int exitLayer,
        int numLayers,
        double entropy,
        double exitScore,
        int numTokens,
        ShadowTrace shadow) {

    /** A classification without a shadow trace (the input left at its exit layer). */
    public Classification(int labelIndex, String label, float[] probabilities, int exitLayer, int numLayers,
                          double entropy, double exitScore, int numTokens) {
        this(labelIndex, label, probabilities, exitLayer, numLayers, entropy, exitScore, numTokens, null);
    }
}
