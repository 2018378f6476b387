package org.deebert.streams.topology;

import org.deebert.streams.control.ControlMessageValidator;
import org.deebert.streams.control.ExitSettingInForce;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ThresholdControl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processor of the threshold global store: keeps, per model name, the latest valid exit setting from
 * the compacted control topic. A valid message for this model replaces the entry; a tombstone deletes it
 * (the model card's recommended setting applies again); an invalid message is logged and changes nothing;
 * messages keyed for other models are ignored.
 *
 * <p>Kafka Streams 4.3.1 builds every global store added through {@code Topology.addGlobalStore} or
 * {@code StreamsBuilder.addGlobalStore} with "reprocess on restore": at startup the control topic is
 * replayed through this processor, not copied into the store byte for byte, so an invalid message that
 * was already on the topic cannot slip in through restoration.
 */
public final class ThresholdControlProcessor implements Processor<String, ThresholdControl, Void, Void> {

    private static final Logger LOG = LoggerFactory.getLogger(ThresholdControlProcessor.class);

    private final String storeName;
    private final String modelName;
    private final ControlMessageValidator validator;
    private KeyValueStore<String, ExitSettingInForce> store;
    private StreamObserver observer = StreamObserver.NONE;

    /**
     * @param storeName the global store to maintain
     * @param modelName the model served here
     * @param numLayers its number of layers n (a patience must be <= n, a per-layer list have n values)
     * @param labels    its label names in index order (per-label thresholds are keyed by them, and a budget's
     *                  protected label must be one of them)
     */
    public ThresholdControlProcessor(String storeName, String modelName, int numLayers, List<String> labels) {
        this.storeName = storeName;
        this.modelName = modelName;
        this.validator = new ControlMessageValidator(modelName, numLayers, labels);
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
        observer = StreamObserver.from(context.appConfigs());
    }

    @Override
    public void process(Record<String, ThresholdControl> record) {
        String key = record.key();
        ThresholdControl value = record.value();
        if (key == null) {
            LOG.warn("Ignoring control message without key (the key must be the model name)");
            return;
        }
        if (modelName.equals(key)) {
            // A record for this model decoded (valid or not): the control topic is readable again.
            observer.controlRecordDecoded();
        }
        if (value == null) {
            if (modelName.equals(key)) {
                store.delete(key);
                LOG.info("Threshold for model {} cleared: the model card's recommended setting applies again", key);
            }
            return;
        }
        if (!modelName.equals(key) && !modelName.equals(value.getModelName())) {
            LOG.debug("Ignoring control message for another model");
            return;
        }
        ExitSettingInForce inForce;
        try {
            inForce = validator.validateMessage(key, value);
        } catch (IllegalArgumentException e) {
            LOG.warn("Rejected control message for model {}: {}; the threshold in force is unchanged", modelName, e.getMessage());
            return;
        }
        store.put(key, inForce);
        ExitSetting setting = inForce.setting();
        LOG.info("Exit setting for model {} set to policy {}, threshold {} ({}), per-layer thresholds {},"
                + " per-label thresholds {}, budget {}, by {}", key, setting.policy(), setting.threshold(),
                setting.policy().comparesScoreInNats() ? "nats" : "layers", setting.layerThresholds(),
                value.getLabelThresholds(), inForce.budget(), value.getChangedBy());
    }
}
