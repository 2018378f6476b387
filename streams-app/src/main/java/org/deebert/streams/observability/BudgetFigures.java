package org.deebert.streams.observability;

import org.deebert.streams.control.ControllerStatus;

/** The accuracy budget's running figures of this instance, for the telemetry topic ({@link ServiceMetrics} keeps them). */
public interface BudgetFigures {

    /** None: no shadow samples, no controller (for tests and tools without a topology). */
    BudgetFigures NONE = new BudgetFigures() {
        @Override
        public long shadowSampleTotal() {
            return 0;
        }

        @Override
        public ControllerStatus controllerStatus() {
            return null;
        }
    };

    /** @return events this instance ran as shadow samples since start (monotonic) */
    long shadowSampleTotal();

    /** @return the budget controller's last decision on this instance, or null when it does not run here */
    ControllerStatus controllerStatus();
}
