package org.deebert.streams.app;

import org.apache.avro.Schema;
import org.deebert.streams.registry.SchemaRegistryClient;
import org.deebert.streams.registry.SchemaRegistryException;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the schemas the service writes at start-up, exactly as its serializers will
 * ({@link SerializerSettings#resolve}): registered when {@code auto.register.schemas} is true, otherwise looked up
 * (or, with {@code use.latest.version}, checked against the subject's latest version). An incompatible schema
 * or, with registration off, a subject that does not hold it then fails the start, not the first record.
 *
 * <p>The input subject is not among them: the service only reads it, and its producers own it (registering
 * the service's copy of {@code TextEvent} there would add a version nobody writes and could block the producers'
 * own next change).
 */
final class SchemaRegistration {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistration.class);

    private SchemaRegistration() {
    }

    /**
     * Resolves the values of the output, control and telemetry topics (the dead-letter topic holds raw bytes and
     * the shadow-sample topic's format is internal, see {@code ShadowSampleSerde}).
     *
     * @param registry the registry
     * @param topics   the service's topics
     * @param settings registration, latest-version and subject-name settings
     * @throws SchemaRegistryException if the registry is unreachable, rejects a schema, or (registration off) a
     *     subject does not hold it; the message names the subject
     */
    static void registerAll(SchemaRegistryClient registry, Topics topics, SerializerSettings settings) {
        resolve(registry, settings, topics.output().name(), ClassifiedEvent.getClassSchema());
        resolve(registry, settings, topics.control().name(), ThresholdControl.getClassSchema());
        resolve(registry, settings, topics.telemetry().name(), ExitTelemetry.getClassSchema());
    }

    private static void resolve(SchemaRegistryClient registry, SerializerSettings settings, String topic, Schema schema) {
        String subject = settings.subject(topic, false, schema);
        SerializerSettings.SubjectSchema found = settings.resolve(registry, subject, schema);
        String how = settings.autoRegisterSchemas() ? "registered" : found.schema() == schema ? "found"
                : "written as the subject's latest version";
        LOG.info("Schema {} {} under subject {} with id {}", schema.getFullName(), how, subject, found.id());
    }
}
