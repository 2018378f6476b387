package org.deebert.streams.observability;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;
import org.deebert.streams.control.ControllerStatus;

/**
 * The budget controller's gauges: whether this instance runs it, and its window at the S in force (samples,
 * disagreement share and its Wilson upper bound; with a label guard, the protected label's samples, recall loss
 * and its upper bound). NaN where the controller does not run here, or, for the guard's gauges, without a guard.
 * Holds the controller's last status; thread-safe.
 */
final class BudgetControllerGauges {

    private volatile ControllerStatus status;

    /**
     * Registers {@code deebert.controller.active}, {@code deebert.controller.window.samples},
     * {@code deebert.controller.disagreement}, {@code deebert.controller.disagreement.upper.bound},
     * {@code deebert.controller.protected.samples}, {@code deebert.controller.protected.recall.loss} and
     * {@code deebert.controller.protected.recall.loss.upper.bound}.
     *
     * @param registry where to register them
     */
    void register(MeterRegistry registry) {
        Gauge.builder("deebert.controller.active", this, g -> g.status == null ? 0 : 1)
                .description("1 while this instance runs the budget controller, else 0").register(registry);
        Gauge.builder("deebert.controller.window.samples", this, g -> statusOr(g.status, ControllerStatus::windowSamples))
                .description("shadow samples in the budget controller's window (NaN where it does not run)").register(registry);
        Gauge.builder("deebert.controller.disagreement", this, g -> statusOr(g.status, ControllerStatus::disagreement))
                .description("share of the window's samples that disagree with the full model at the S in force")
                .register(registry);
        Gauge.builder("deebert.controller.disagreement.upper.bound", this,
                        g -> statusOr(g.status, ControllerStatus::upperBound))
                .description("upper confidence bound of that share (Wilson score)").register(registry);
        Gauge.builder("deebert.controller.protected.samples", this,
                        g -> guardOr(g.status, ControllerStatus.Guard::protectedSamples))
                .description("window samples whose full-model answer is the label guard's protected label")
                .register(registry);
        Gauge.builder("deebert.controller.protected.recall.loss", this,
                        g -> guardOr(g.status, ControllerStatus.Guard::recallLoss))
                .description("share of those samples that early exit at the S in force answers otherwise")
                .register(registry);
        Gauge.builder("deebert.controller.protected.recall.loss.upper.bound", this,
                        g -> guardOr(g.status, ControllerStatus.Guard::upperBound))
                .description("upper confidence bound of that share (Wilson score; 1 with no protected sample)")
                .register(registry);
    }

    /** @param decided the controller's status at its last decision */
    void update(ControllerStatus decided) {
        status = decided;
    }

    /** @return the controller's status at its last decision, or null where it has not decided here */
    ControllerStatus status() {
        return status;
    }

    private static double statusOr(ControllerStatus status, ToDoubleFunction<ControllerStatus> f) {
        return status == null ? Double.NaN : f.applyAsDouble(status);
    }

    private static double guardOr(ControllerStatus status, ToDoubleFunction<ControllerStatus.Guard> f) {
        return status == null || status.guard() == null ? Double.NaN : f.applyAsDouble(status.guard());
    }
}
