package org.deebert.streams.registry;

import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry REST API this service uses. Subjects follow the
 * TopicNameStrategy: {@code <topic>-key} / {@code <topic>-value}.
 */
public interface SchemaRegistryClient {

    /**
     * Registers {@code schema} under {@code subject} (idempotent: an identical schema returns its existing id).
     *
     * @return the registry-wide schema id
     * @throws SchemaRegistryException on an incompatible schema (HTTP 409), an invalid one (422) or an I/O failure
     */
    int register(String subject, Schema schema);

    /**
     * Fetches the schema with a registry-wide id (cached after the first call).
     *
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isNotFound()} true for an unknown id (404)
     */
    Schema getById(int id);
}
