package org.deebert.streams.observability;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The counters of where events left, read from the classifier's monotonic {@link ClassifierTotals}: events per
 * exit layer, events classified, layers computed, and the model's depth n. Together they give DeeBERT's expected
 * saving (Xin et al. 2020, eq. 2) in PromQL:
 * {@code 1 - rate(deebert_layers_run_total) / (deebert_model_layers * rate(deebert_events_classified_total))}.
 */
final class ExitCounters {

    private ExitCounters() {
    }

    /**
     * Registers {@code deebert.model.layers}, {@code deebert.layers.run}, {@code deebert.exits{layer}} (1-based)
     * and {@code deebert.events.classified}.
     *
     * @param registry  where to register them
     * @param totals    monotonic exit and event totals
     * @param numLayers number of off-ramps of the model
     */
    static void register(MeterRegistry registry, ClassifierTotals totals, int numLayers) {
        Gauge.builder("deebert.model.layers", () -> numLayers)
                .description("the served model's number of layers (off-ramps)").register(registry);
        FunctionCounter.builder("deebert.layers.run", totals, t -> {
                    long[] histogram = t.read().exitHistogram();
                    double run = 0;
                    for (int i = 0; i < histogram.length; i++) {
                        run += (i + 1) * (double) histogram[i];
                    }
                    return run;
                })
                .description("layers computed for classified events (an event leaving at layer i counts i)")
                .register(registry);
        for (int layer = 1; layer <= numLayers; layer++) {
            int index = layer - 1;
            FunctionCounter.builder("deebert.exits", totals, t -> t.read().exitHistogram()[index])
                    .tag("layer", Integer.toString(layer)).description("events that left at this off-ramp (1-based)")
                    .register(registry);
        }
        FunctionCounter.builder("deebert.events.classified", totals, t -> t.read().classified())
                .description("events classified").register(registry);
    }
}
