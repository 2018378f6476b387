package org.deebert.streams.app;

import org.deebert.streams.input.InputFormat;
import org.deebert.streams.registry.SchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the service's value schemas at startup (TopicNameStrategy subjects {@code <topic>-value}),
 * so that an incompatible schema change fails the start instead of the first record.
 */
final class SchemaRegistration {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistration.class);

    private SchemaRegistration() {
    }

    /**
     * Registers the values of the input, output, control and telemetry topics (the shadow-sample topic's format
     * is internal, see {@code ShadowSampleSerde}). The input topic's subject only for {@code text-event} input:
     * any other input topic belongs to its producers, and its subject holds their schema, not ours.
     *
     * @param registry    the registry
     * @param topics      the service's topics
     * @param inputFormat the input topic's format ({@code input.format})
     * @throws org.deebert.streams.registry.SchemaRegistryException if the registry is unreachable or rejects a schema
     */
    static void registerAll(SchemaRegistryClient registry, Topics topics, InputFormat inputFormat) {
        if (inputFormat == InputFormat.TEXT_EVENT) {
            register(registry, topics.input().name(), TextEvent.getClassSchema());
        }
        register(registry, topics.output().name(), ClassifiedEvent.getClassSchema());
        register(registry, topics.control().name(), ThresholdControl.getClassSchema());
        register(registry, topics.telemetry().name(), ExitTelemetry.getClassSchema());
    }

    private static void register(SchemaRegistryClient registry, String topic, org.apache.avro.Schema schema) {
        String subject = topic + "-value";
        int id = registry.register(subject, schema);
        LOG.info("Schema {} registered under subject {} with id {}", schema.getFullName(), subject, id);
    }
}
