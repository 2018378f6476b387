package org.deebert.streams.topology;

import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;
import org.deebert.streams.schema.ThresholdControl;

/**
 * Decides whether a {@link ThresholdControl} message may change this model's exit setting. Used both by
 * the global-store processor and by the CLI before it produces a message, so both apply the same rules.
 */
public final class ControlMessageValidator {

    private final String modelName;

    /** @param modelName the name of the model served here (from its model card) */
    public ControlMessageValidator(String modelName) {
        this.modelName = modelName;
    }

    /**
     * @param key   the record key (must equal the model name)
     * @param value the control message (not a tombstone)
     * @return the exit setting the message asks for
     * @throws IllegalArgumentException saying which rule the message breaks: key or {@code model_name}
     *     differs from this model's name, S is negative, NaN or infinite, or the policy is unknown here
     */
    public ExitSetting validate(String key, ThresholdControl value) {
        if (!modelName.equals(key)) {
            throw new IllegalArgumentException("record key '" + key + "' is not the model name '" + modelName + "'");
        }
        if (!modelName.equals(value.getModelName())) {
            throw new IllegalArgumentException("model_name '" + value.getModelName() + "' differs from the key '" + key + "'");
        }
        double s = value.getThreshold();
        if (!Double.isFinite(s) || s < 0) {
            throw new IllegalArgumentException("threshold S must be a finite number >= 0, got " + s);
        }
        ExitPolicy policy;
        try {
            policy = ExitPolicy.valueOf(String.valueOf(value.getPolicy()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown exit policy " + value.getPolicy());
        }
        return new ExitSetting(policy, s);
    }
}
