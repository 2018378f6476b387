package org.deebert.streams.control;

import java.util.Objects;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitSetting;

/**
 * The exit setting applied to a batch, where it came from, and the accuracy budget driving it, if any. Also
 * the value of the threshold global store: the latest valid control message for the model.
 *
 * @param setting the policy and threshold S (nats)
 * @param source  {@link #MODEL_CARD}, {@link #CONTROL_TOPIC} or {@link #ACCURACY_BUDGET}; copied to
 *                {@code ClassifiedEvent.threshold_source}
 * @param budget  the accuracy budget in force (source {@link #ACCURACY_BUDGET}), else null: then S is fixed
 */
public record ExitSettingInForce(ExitSetting setting, String source, Budget budget) {
    /** The model card's recommended setting is in force (no control message, or a tombstone). */
    public static final String MODEL_CARD = "model-card";
    /** A control-topic message fixed the threshold. */
    public static final String CONTROL_TOPIC = "control-topic";
    /** A control-topic message set an accuracy budget; S is the budget controller's latest choice. */
    public static final String ACCURACY_BUDGET = "accuracy-budget";

    /** @throws IllegalArgumentException if a budget comes without source {@link #ACCURACY_BUDGET} or the other way round */
    public ExitSettingInForce {
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(source, "source");
        if ((budget != null) != ACCURACY_BUDGET.equals(source)) {
            throw new IllegalArgumentException("source " + source + " with budget " + budget);
        }
    }

    /** A fixed setting (no budget). */
    public ExitSettingInForce(ExitSetting setting, String source) {
        this(setting, source, null);
    }
}
