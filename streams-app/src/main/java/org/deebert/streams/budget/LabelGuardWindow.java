package org.deebert.streams.budget;

import java.util.ArrayList;
import java.util.List;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ShadowTrace;

/**
 * A label guard's view of a window of shadow samples: the samples whose full-model (last off-ramp) answer is the
 * protected label, and how many of them the exit at S answers otherwise (the label's recall loss against the
 * full model) as a step function of S. For such a sample "answered otherwise" is exactly "disagrees with the
 * full model", so {@link DisagreementSweep} applies unchanged to the subset.
 *
 * @param guard   the budget's guard: the protected label and its largest recall loss (a share)
 * @param samples m, the window's samples whose full-model answer is the protected label
 * @param sweep   their miss count as a step function of S (nats)
 */
record LabelGuardWindow(Budget.LabelGuard guard, int samples, DisagreementSweep sweep) {

    /**
     * @param window the shadow samples, in any order
     * @param guard  the budget's guard
     * @param index  the protected label's index in the model's logits ({@link Budget#protectedLabelIndex})
     * @param policy ENTROPY or DIVERGENCE
     * @return the guard's samples and their step function
     * @throws IllegalArgumentException if {@code policy} is PATIENCE
     */
    static LabelGuardWindow of(List<ShadowTrace> window, Budget.LabelGuard guard, int index, ExitPolicy policy) {
        List<ShadowTrace> protectedSamples = new ArrayList<>();
        for (ShadowTrace trace : window) {
            if (trace.fullModelLabel() == index) {
                protectedSamples.add(trace);
            }
        }
        return new LabelGuardWindow(guard, protectedSamples.size(), DisagreementSweep.of(protectedSamples, policy));
    }

    /** @return how many protected samples the exit at S (nats) answers otherwise */
    long missed(double s) {
        return sweep.disagreements(s);
    }

    /**
     * @param s          S, nats
     * @param confidence one-sided confidence, in [0.5, 1)
     * @return the Wilson upper bound of the recall loss at S, in [0, 1]; 1 when the window holds no protected
     *     sample ({@link ConfidenceBounds#wilsonUpper} of 0 samples)
     */
    double upperBound(double s, double confidence) {
        return ConfidenceBounds.wilsonUpper(missed(s), samples, confidence);
    }
}
