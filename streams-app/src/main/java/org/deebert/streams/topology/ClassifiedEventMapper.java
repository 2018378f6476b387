package org.deebert.streams.topology;

import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ExitSettingInForce;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.deebert.streams.classifier.Classification;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;

/** Builds the output value for one classified input. */
final class ClassifiedEventMapper {

    private final String modelName;
    private final String modelVersion;
    private final boolean includeText;

    /**
     * @param modelName    the model card's name
     * @param modelVersion the model card's version
     * @param includeText  whether outputs carry the input's text and text pair ({@code output.include.text})
     */
    ClassifiedEventMapper(String modelName, String modelVersion, boolean includeText) {
        this.modelName = modelName;
        this.modelVersion = modelVersion;
        this.includeText = includeText;
    }

    /**
     * @param in              the input event
     * @param source          the input record (its topic, partition and offset become the output's provenance)
     * @param c               its classification
     * @param inForce         the exit setting used and its source
     * @param processedAtMs   wall-clock time the batch finished, ms since the epoch
     * @param batchLatencyMs  classifier time for the whole batch, ms
     * @param batchSize       events in the batch
     */
    ClassifiedEvent map(TextEvent in, BufferedRecord source, Classification c, ExitSettingInForce inForce, long processedAtMs,
                        double batchLatencyMs, int batchSize) {
        List<Float> probabilities = new ArrayList<>(c.probabilities().length);
        for (float p : c.probabilities()) {
            probabilities.add(p);
        }
        return ClassifiedEvent.newBuilder()
                .setId(in.getId())
                .setText(includeText ? in.getText() : null)
                .setTextPair(includeText ? in.getTextPair() : null)
                .setLabel(c.label())
                .setLabelIndex(c.labelIndex())
                .setProbabilities(probabilities)
                .setExitLayer(c.exitLayer())
                .setNumLayers(c.numLayers())
                .setExitEntropy(c.entropy())
                .setExitScore(c.exitScore())
                .setThreshold(inForce.setting().threshold())
                .setLayerThresholds(inForce.setting().layerThresholds())
                .setLabelThresholds(inForce.setting().labelThresholds())
                .setExitPolicy(ControlMessages.toAvro(inForce.setting().policy()))
                .setThresholdSource(inForce.source())
                .setModelName(modelName)
                .setModelVersion(modelVersion)
                .setEventTime(in.getEventTime())
                .setProcessedAt(Instant.ofEpochMilli(processedAtMs))
                .setProcessingTimeMs(batchLatencyMs / batchSize)
                .setBatchSize(batchSize)
                .setSource(in.getSource())
                .setTenant(in.getTenant())
                .setInputTopic(source.topic())
                .setInputPartition(source.partition() < 0 ? null : source.partition())
                .setInputOffset(source.offset() < 0 ? null : source.offset())
                .build();
    }
}
