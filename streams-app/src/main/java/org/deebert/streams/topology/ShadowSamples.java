package org.deebert.streams.topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.deebert.streams.exit.ShadowTrace;
import org.deebert.streams.schema.ShadowSample;

/** Converts between the classifier's {@link ShadowTrace} and the shadow-sample topic's {@link ShadowSample}. */
final class ShadowSamples {

    private ShadowSamples() {
    }

    /**
     * @param modelName   the model that classified the event
     * @param sampledAtMs when, ms since the epoch
     * @param trace       every off-ramp's answer
     * @return the record value for the shadow-sample topic
     */
    static ShadowSample toSample(String modelName, long sampledAtMs, ShadowTrace trace) {
        int n = trace.numLayers();
        List<Integer> labels = new ArrayList<>(n);
        List<Double> entropies = new ArrayList<>(n);
        List<Double> divergences = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            labels.add(trace.labels()[i]);
            entropies.add(trace.entropies()[i]);
            divergences.add(trace.divergences()[i]);
        }
        return ShadowSample.newBuilder().setModelName(modelName).setSampledAt(Instant.ofEpochMilli(sampledAtMs))
                .setLabels(labels).setEntropies(entropies).setDivergences(divergences).build();
    }

    /**
     * @param s a decoded sample
     * @return its trace
     * @throws IllegalArgumentException if the sample's arrays are empty or disagree in length
     */
    static ShadowTrace toTrace(ShadowSample s) {
        int[] labels = new int[s.getLabels().size()];
        double[] entropies = new double[s.getEntropies().size()];
        double[] divergences = new double[s.getDivergences().size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = s.getLabels().get(i);
        }
        for (int i = 0; i < entropies.length; i++) {
            entropies[i] = s.getEntropies().get(i);
        }
        for (int i = 0; i < divergences.length; i++) {
            divergences[i] = s.getDivergences().get(i);
        }
        return new ShadowTrace(labels, entropies, divergences);
    }
}
