package org.deebert.streams.observability;

import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.topology.ClassifierTopology;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ThresholdReader;

/**
 * The exit setting in force now, as the classify processor would read it for its next batch: the
 * threshold global store (interactive query) through the same {@link ThresholdReader}. While the store
 * cannot be queried (before RUNNING, during a rebalance) the last value read is returned, at first the
 * model card's.
 */
public final class ExitSettingProbe {

    private final KafkaStreams streams;
    private final String modelName;
    private final ExitSetting modelCard;
    private volatile ExitSettingInForce last;

    /**
     * @param streams   the service's Kafka Streams instance
     * @param modelName the served model (the control topic's key)
     * @param modelCard the model card's setting in force before any control message (recommended or calibrated, {@code exit.setting})
     */
    public ExitSettingProbe(KafkaStreams streams, String modelName, ExitSetting modelCard) {
        this.streams = streams;
        this.modelName = modelName;
        this.modelCard = modelCard;
        this.last = new ExitSettingInForce(modelCard, ExitSettingInForce.MODEL_CARD);
    }

    /** @return the setting in force (S in nats, policy, source) */
    public ExitSettingInForce current() {
        try {
            ReadOnlyKeyValueStore<String, ExitSettingInForce> store = streams.store(StoreQueryParameters.fromNameAndType(
                    ClassifierTopology.THRESHOLD_STORE, QueryableStoreTypes.<String, ExitSettingInForce>keyValueStore()));
            last = new ThresholdReader(store, modelName, modelCard).current();
        } catch (InvalidStateStoreException e) {
            // Not queryable right now: keep reporting the last value read.
        }
        return last;
    }
}
