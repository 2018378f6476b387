package org.deebert.streams.app;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.control.ControlMessageValidator;
import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.exit.ExitPolicy;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.registry.SpecificAvroSerializer;
import org.deebert.streams.schema.ThresholdControl;

/**
 * What the {@code control} CLI (and the demo and the benchmark, which change S the same way) writes to the
 * compacted control topic: messages built by {@link ControlMessages} and checked with the service's own rules
 * ({@link ControlMessageValidator}) before they are sent, so that a message the service would reject is never
 * produced, and the write itself, acknowledged by all in-sync replicas.
 */
public final class ControlTopicWriter {

    private ControlTopicWriter() {
    }

    /**
     * Builds a set-budget message (S = the budget's min threshold, the cautious start) and checks it with the
     * service's rules ({@link ControlMessageValidator}).
     *
     * @param model  the model name (the record key)
     * @param policy ENTROPY or DIVERGENCE
     * @param budget the budget
     * @param by     who makes the change (audit trail)
     * @param reason why (audit trail)
     * @return the message, stamped with the current time
     * @throws IllegalArgumentException saying which rule the message breaks
     */
    public static ThresholdControl budgetMessage(String model, ExitPolicy policy, Budget budget, String by,
                                                 String reason) {
        return budgetMessage(model, policy, budget, List.of(), by, reason);
    }

    /**
     * As {@link #budgetMessage(String, ExitPolicy, Budget, String, String)}, checking a label guard
     * against the model's labels.
     *
     * @param labels the model's label names (from its model card), or empty when unknown (then the service checks
     *               the guard's label)
     * @throws IllegalArgumentException saying which rule the message breaks, e.g. a protected label the model
     *                                  does not have (naming its labels)
     */
    public static ThresholdControl budgetMessage(String model, ExitPolicy policy, Budget budget,
                                                 List<String> labels, String by, String reason) {
        ThresholdControl message = ControlMessages.budgetSetting(model, policy, budget.minThreshold(), budget, by, reason,
                Instant.now());
        new ControlMessageValidator(model, 0, labels).validate(model, message);
        return message;
    }

    /**
     * Builds a set-threshold message and checks it with the rules the service applies, so that a message
     * the service would reject is never produced.
     *
     * @param model  the model name (the record key)
     * @param value  threshold S in nats
     * @param policy the exit policy
     * @param by     who makes the change (audit trail)
     * @param reason why (audit trail)
     * @return the message, stamped with the current time
     * @throws IllegalArgumentException saying which rule the message breaks
     */
    public static ThresholdControl thresholdMessage(String model, double value, ExitPolicy policy, String by, String reason) {
        return thresholdMessage(model, value, policy, null, 0, by, reason);
    }

    /**
     * Builds a set-threshold message with every field and checks it with the service's rules
     * ({@link ControlMessageValidator}).
     *
     * @param model           the model name (the record key)
     * @param value           S in nats (ENTROPY, DIVERGENCE) or the patience in layers (PATIENCE)
     * @param policy          the exit policy
     * @param layerThresholds S_1..S_n in nats, or null for {@code value} at every layer
     * @param numLayers       the model's number of layers n, or 0 when unknown (then the rules that need n
     *                        are checked by the service only)
     * @param by              who makes the change (audit trail)
     * @param reason          why (audit trail)
     * @return the message, stamped with the current time
     * @throws IllegalArgumentException saying which rule the message breaks
     */
    public static ThresholdControl thresholdMessage(String model, double value, ExitPolicy policy,
            List<Double> layerThresholds, int numLayers, String by, String reason) {
        return thresholdMessage(model, value, policy, layerThresholds, null, numLayers, null, by, reason);
    }

    /**
     * Builds a set-threshold message with every field, label-conditional thresholds included, and checks it with
     * the service's rules ({@link ControlMessageValidator}, which also checks the label names).
     *
     * @param model           the model name (the record key)
     * @param value           S in nats (ENTROPY, DIVERGENCE) or the patience in layers (PATIENCE); labels left
     *                        out of {@code labelThresholds} get it
     * @param policy          the exit policy
     * @param layerThresholds S_1..S_n in nats, or null for {@code value} at every layer
     * @param labelThresholds label name -> S in nats, or null for {@code value} for every label
     * @param numLayers       the model's number of layers n, or 0 when unknown (then the rules that need n
     *                        are checked by the service only)
     * @param labels          the model's label names in index order, or null when unknown (then
     *                        {@code labelThresholds} must be null: their names cannot be checked)
     * @param by              who makes the change (audit trail)
     * @param reason          why (audit trail)
     * @return the message, stamped with the current time
     * @throws IllegalArgumentException saying which rule the message breaks; for an unknown label name the
     *     message lists the model's labels
     */
    public static ThresholdControl thresholdMessage(String model, double value, ExitPolicy policy,
            List<Double> layerThresholds, Map<String, Double> labelThresholds, int numLayers, List<String> labels,
            String by, String reason) {
        ThresholdControl message = ControlMessages.fixedSetting(model, policy, value, layerThresholds, labelThresholds,
                by, reason, Instant.now());
        new ControlMessageValidator(model, numLayers, labels).validate(model, message);
        return message;
    }

    /**
     * Produces one control record and waits for the broker's acknowledgement.
     *
     * @param settings the service's settings (bootstrap servers, registry, control topic name)
     * @param model    the model name (the record key)
     * @param value    the message, or null for a tombstone (back to the model card's S)
     * @return where the record was written
     * @throws IllegalStateException if the broker refuses the record
     * @throws org.apache.kafka.common.errors.SerializationException if the control subject's schema cannot be
     *     registered or (auto.register.schemas=false) is not registered
     * @throws InterruptedException  if interrupted while waiting for the acknowledgement
     */
    public static RecordMetadata send(AppSettings settings, String model, ThresholdControl value) throws InterruptedException {
        // The control topic's value serializer alone: the one subject the CLI may register (auto.register.schemas)
        // or look up. The input subject belongs to the producers and is never touched here.
        String topic = settings.topics().control();
        SpecificAvroSerializer<ThresholdControl> values = new SpecificAvroSerializer<>(ThresholdControl.class,
                settings.schemaRegistryClient(), false, settings.serializerSettings());
        Properties props = settings.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, ThresholdControl> producer = new KafkaProducer<>(props, new StringSerializer(), values)) {
            return producer.send(new ProducerRecord<>(topic, model, value)).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e.getCause().getMessage(), e.getCause());
        }
    }
}
