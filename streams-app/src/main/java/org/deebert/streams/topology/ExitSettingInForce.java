package org.deebert.streams.topology;

import org.deebert.streams.classifier.ExitSetting;

/**
 * The exit setting applied to a batch and where it came from.
 *
 * @param setting the policy and threshold S (nats)
 * @param source  {@link #MODEL_CARD} or {@link #CONTROL_TOPIC}; copied to {@code ClassifiedEvent.threshold_source}
 */
public record ExitSettingInForce(ExitSetting setting, String source) {
    /** The model card's recommended setting is in force (no control message, or a tombstone). */
    public static final String MODEL_CARD = "model-card";
    /** A control-topic message set the threshold. */
    public static final String CONTROL_TOPIC = "control-topic";
}
