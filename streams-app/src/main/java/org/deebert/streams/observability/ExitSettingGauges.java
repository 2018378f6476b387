package org.deebert.streams.observability;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import org.deebert.streams.control.ExitSettingInForce;

/**
 * Gauges of the exit setting in force, read from an {@link ExitSettingProbe}: the entropy threshold S (nats), the
 * per-label thresholds (nats, NaN unless label-conditional thresholds are in force), the accuracy budget and its
 * label guard (shares, NaN when S is fixed or there is no guard), and where S came from (one 0/1 gauge per source).
 */
final class ExitSettingGauges {

    private ExitSettingGauges() {
    }

    /**
     * Registers {@code deebert.exit.threshold.nats}, {@code deebert.exit.label.threshold.nats{label}},
     * {@code deebert.budget.max.disagreement}, {@code deebert.budget.max.recall.loss} and
     * {@code deebert.exit.threshold.source{source}}.
     *
     * @param registry where to register them
     * @param setting  the exit setting in force
     * @param labels   the model's label names in index order (the per-label thresholds' tags)
     */
    static void register(MeterRegistry registry, ExitSettingProbe setting, List<String> labels) {
        Gauge.builder("deebert.exit.threshold.nats", setting, p -> p.current().setting().threshold())
                .description("the threshold S in force, in nats").register(registry);
        for (int c = 0; c < labels.size(); c++) {
            int index = c;
            Gauge.builder("deebert.exit.label.threshold.nats", setting, p -> {
                List<Double> perLabel = p.current().setting().labelThresholds();
                return perLabel == null ? Double.NaN : perLabel.get(index);
            }).tag("label", labels.get(c))
                    .description("S in nats for inputs an off-ramp predicts as this label, while label-conditional "
                            + "thresholds are in force; NaN otherwise").register(registry);
        }
        Gauge.builder("deebert.budget.max.disagreement", setting,
                        p -> p.current().budget() == null ? Double.NaN : p.current().budget().maxDisagreement())
                .description("the accuracy budget in force (share of answers allowed to differ from the full model), "
                        + "NaN when S is fixed").register(registry);
        Gauge.builder("deebert.budget.max.recall.loss", setting,
                        p -> p.current().budget() == null || p.current().budget().guard() == null ? Double.NaN
                                : p.current().budget().guard().maxRecallLoss())
                .description("the label guard's limit in force (share of the protected label's full-model answers "
                        + "early exit may answer otherwise), NaN without a guard").register(registry);
        for (String source : new String[] {ExitSettingInForce.MODEL_CARD, ExitSettingInForce.CONTROL_TOPIC,
            ExitSettingInForce.ACCURACY_BUDGET}) {
            Gauge.builder("deebert.exit.threshold.source", setting, p -> source.equals(p.current().source()) ? 1 : 0)
                    .tag("source", source.replace('-', '_').toLowerCase(Locale.ROOT))
                    .description("1 for where the S in force came from, else 0").register(registry);
        }
    }
}
