package org.deebert.streams.control;

import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.deebert.streams.exit.ExitSetting;

/** Reads the exit setting in force for one model from the threshold global store. */
public final class ThresholdReader {

    private final ReadOnlyKeyValueStore<String, ExitSettingInForce> store;
    private final String modelName;
    private final ExitSetting modelCardDefault;

    /**
     * @param store            the threshold global store
     * @param modelName        the model served here
     * @param modelCardDefault the model card's starting setting (recommended or calibrated, {@code exit.setting})
     */
    public ThresholdReader(ReadOnlyKeyValueStore<String, ExitSettingInForce> store, String modelName, ExitSetting modelCardDefault) {
        this.store = store;
        this.modelName = modelName;
        this.modelCardDefault = modelCardDefault;
    }

    /** @return the control topic's latest valid setting (with its budget, if any), or the model card's when there is none */
    public ExitSettingInForce current() {
        ExitSettingInForce fromTopic = store.get(modelName);
        return fromTopic == null ? new ExitSettingInForce(modelCardDefault, ExitSettingInForce.MODEL_CARD) : fromTopic;
    }
}
