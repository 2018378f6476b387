package org.deebert.streams.registry;

import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry REST API this service uses. Which subject a schema goes under is the
 * caller's choice ({@link SubjectNameStrategy}).
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
     * Finds the id of {@code schema} under {@code subject} without registering anything ({@code POST
     * /subjects/{subject}}), for serializers with {@code auto.register.schemas=false}.
     *
     * @return the registry-wide schema id
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isNotFound()} true when the subject does not
     *     exist or does not hold the schema; another status for any other failure
     */
    default int lookUp(String subject, Schema schema) {
        throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                getClass().getSimpleName() + " cannot look up schemas without registering them", null);
    }

    /**
     * The latest version registered under {@code subject} ({@code GET /subjects/{subject}/versions/latest}), for
     * serializers with {@code use.latest.version=true}.
     *
     * @return the latest version
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isNotFound()} true when the subject does not
     *     exist; another status for any other failure
     */
    default RegisteredSchema latestVersion(String subject) {
        throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                getClass().getSimpleName() + " cannot fetch a subject's latest version", null);
    }

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
