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

    /**
     * Asks the registry again for {@code id}, bypassing any cache. When the answer differs from the schema cached
     * under that id (the registry was emptied or restored and the id now means another schema), or the id is gone,
     * every cached id is dropped and {@link #generation()} changes: schema ids are only stable within one registry's
     * life.
     *
     * @param id a registry-wide schema id
     * @return the schema the registry holds under {@code id} now
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isNotFound()} true when the id is unknown
     */
    default Schema refresh(int id) {
        return getById(id);
    }

    /**
     * @return a number that changes each time the cached ids are dropped ({@link #refresh}, a periodic check);
     *     serializers and deserializers that keep ids of their own drop them when it changes
     */
    default long generation() {
        return 0;
    }
}
