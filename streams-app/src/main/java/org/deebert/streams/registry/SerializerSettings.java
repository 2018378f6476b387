package org.deebert.streams.registry;

import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;

/**
 * How a serializer finds the schema id it frames records with, with the meaning and names of Confluent's serializer
 * settings, so that a client configuration carries over:
 * <ul>
 *   <li>{@code auto.register.schemas} (default true): register the writer schema under its subject (idempotent;
 *       the registry's compatibility rules apply). False: only look its id up ({@code POST /subjects/{subject}});
 *       a schema not registered there is an error naming the subject.</li>
 *   <li>{@code use.latest.version} (default false; only read when {@code auto.register.schemas} is false, as in
 *       Confluent's serializers): frame records with the subject's latest version
 *       ({@code GET /subjects/{subject}/versions/latest}), provided that version can read data written with the
 *       writer schema (Avro's schema resolution; Confluent's {@code latest.compatibility.strict=true}). Records are
 *       then written with that latest schema, so that bytes and id always agree.</li>
 *   <li>{@code key.subject.name.strategy} / {@code value.subject.name.strategy}: the subject
 *       ({@link SubjectNameStrategy}, default {@link SubjectNameStrategy#TOPIC_NAME}).</li>
 * </ul>
 *
 * @param autoRegisterSchemas      register writer schemas (true) or only look them up (false)
 * @param useLatestVersion         with {@code autoRegisterSchemas} false: use the subject's latest version
 * @param keySubjectNameStrategy   the subject of a key's schema
 * @param valueSubjectNameStrategy the subject of a value's schema
 */
public record SerializerSettings(boolean autoRegisterSchemas, boolean useLatestVersion,
                                 SubjectNameStrategy keySubjectNameStrategy, SubjectNameStrategy valueSubjectNameStrategy) {

    /** Confluent's defaults: register, TopicNameStrategy for keys and values. */
    public static final SerializerSettings DEFAULT =
            new SerializerSettings(true, false, SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.TOPIC_NAME);

    /** @throws NullPointerException if a strategy is null */
    public SerializerSettings {
        Objects.requireNonNull(keySubjectNameStrategy, "keySubjectNameStrategy");
        Objects.requireNonNull(valueSubjectNameStrategy, "valueSubjectNameStrategy");
    }

    /**
     * The schema id and writer schema a record goes out with.
     *
     * @param id     the registry-wide schema id in the record's header
     * @param schema the schema its body is written with: the serializer's own, or with {@code use.latest.version}
     *               the subject's latest version
     */
    public record SubjectSchema(int id, Schema schema) {
    }

    /**
     * @param topic  the topic written to
     * @param isKey  true for a key, false for a value
     * @param schema the writer schema
     * @return the subject under the configured strategy
     */
    public String subject(String topic, boolean isKey, Schema schema) {
        return (isKey ? keySubjectNameStrategy : valueSubjectNameStrategy).subject(topic, isKey, schema);
    }

    /**
     * Registers, looks up or takes the latest version of {@code schema}'s subject, as the settings say.
     *
     * @param registry the registry
     * @param subject  the subject ({@link #subject})
     * @param schema   the serializer's writer schema
     * @return the id and the schema to write with
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isNotFound()} when registration is off and
     *     the subject does not hold the schema (or, with {@code use.latest.version}, has no version at all); with
     *     {@link SchemaRegistryException#isIncompatible()} when the registry refuses the schema or the latest version
     *     cannot read it; {@link SchemaRegistryException#isUnavailable()} when the registry cannot answer. Messages
     *     name the subject and the setting to change.
     */
    public SubjectSchema resolve(SchemaRegistryClient registry, String subject, Schema schema) {
        if (autoRegisterSchemas) {
            return new SubjectSchema(registry.register(subject, schema), schema);
        }
        if (useLatestVersion) {
            return latest(registry, subject, schema);
        }
        try {
            return new SubjectSchema(registry.lookUp(subject, schema), schema);
        } catch (SchemaRegistryException e) {
            if (!e.isNotFound()) {
                throw e;
            }
            throw new SchemaRegistryException(e.statusCode(), "schema " + schema.getFullName()
                    + " is not registered under subject " + subject + " and auto.register.schemas is false: register it"
                    + " there first (or set use.latest.version=true to write with the subject's latest version)", e);
        }
    }

    private static SubjectSchema latest(SchemaRegistryClient registry, String subject, Schema schema) {
        RegisteredSchema latest;
        try {
            latest = registry.latestVersion(subject);
        } catch (SchemaRegistryException e) {
            if (!e.isNotFound()) {
                throw e;
            }
            throw new SchemaRegistryException(e.statusCode(), "subject " + subject + " has no registered version to use"
                    + " (use.latest.version=true, auto.register.schemas=false): register " + schema.getFullName()
                    + " there first", e);
        }
        if (SchemaNormalization.parsingFingerprint64(latest.schema()) == SchemaNormalization.parsingFingerprint64(schema)) {
            return new SubjectSchema(latest.id(), schema);
        }
        SchemaCompatibility.SchemaPairCompatibility check =
                SchemaCompatibility.checkReaderWriterCompatibility(latest.schema(), schema);
        if (check.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            String why = check.getResult().getIncompatibilities().stream().findFirst()
                    .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
                    .orElse(String.valueOf(check.getType()));
            // 409, the registry's own status for an incompatible schema: the serializer reports it as a rejection.
            throw new SchemaRegistryException(409, "the latest version " + latest.version() + " (id " + latest.id()
                    + ") of subject " + subject + " cannot read records written with " + schema.getFullName() + " ("
                    + why + "); use.latest.version=true needs a latest version that can", null);
        }
        return new SubjectSchema(latest.id(), latest.schema());
    }
}
