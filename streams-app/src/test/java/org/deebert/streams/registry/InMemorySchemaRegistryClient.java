package org.deebert.streams.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A Schema Registry in memory, for unit tests (TopologyTestDriver) that must not depend on a server.
 * It behaves like the real one where tests can observe it: ids start at 1 and are shared by identical
 * schemas across subjects, registering the same schema twice returns the same id, a schema that cannot
 * read the subject's latest version is rejected with status 409 (BACKWARD compatibility, the Confluent
 * default), and an unknown id is a 404. {@link #setUnavailable(boolean)} simulates an outage. Thread-safe.
 */
public class InMemorySchemaRegistryClient implements SchemaRegistryClient {

    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<Schema, Integer> idsBySchema = new HashMap<>();
    private final Map<String, List<Schema>> versionsBySubject = new HashMap<>();
    private boolean unavailable;
    private int registrations;

    /** An empty registry. */
    public InMemorySchemaRegistryClient() {
    }

    /** {@inheritDoc} */
    @Override
    public synchronized int register(String subject, Schema schema) {
        failIfUnavailable();
        registrations++;
        List<Schema> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(schema)) {
            if (!versions.isEmpty()) {
                Schema latest = versions.get(versions.size() - 1);
                SchemaCompatibility.SchemaCompatibilityType result = SchemaCompatibility
                        .checkReaderWriterCompatibility(schema, latest).getType();
                if (result != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                    throw new SchemaRegistryException(409,
                            "schema is not backward compatible with the latest version of " + subject, null);
                }
            }
            versions.add(schema);
        }
        return idsBySchema.computeIfAbsent(schema, s -> {
            int id = schemasById.size() + 1;
            schemasById.put(id, s);
            return id;
        });
    }

    /** {@inheritDoc} */
    @Override
    public synchronized int lookUp(String subject, Schema schema) {
        failIfUnavailable();
        if (!versionsBySubject.getOrDefault(subject, List.of()).contains(schema)) {
            throw new SchemaRegistryException(404, "schema not found under subject " + subject, null);
        }
        return idsBySchema.get(schema);
    }

    /** {@inheritDoc} */
    @Override
    public synchronized RegisteredSchema latestVersion(String subject) {
        failIfUnavailable();
        List<Schema> versions = versionsBySubject.getOrDefault(subject, List.of());
        if (versions.isEmpty()) {
            throw new SchemaRegistryException(404, "subject " + subject + " not found", null);
        }
        Schema latest = versions.get(versions.size() - 1);
        return new RegisteredSchema(subject, idsBySchema.get(latest), versions.size(), latest);
    }

    /** @return every subject with at least one version */
    public synchronized java.util.Set<String> subjects() {
        return java.util.Set.copyOf(versionsBySubject.keySet());
    }

    /** {@inheritDoc} */
    @Override
    public synchronized Schema getById(int id) {
        failIfUnavailable();
        Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new SchemaRegistryException(404, "schema id " + id + " not found", null);
        }
        return schema;
    }

    /**
     * @param unavailable true to make every call fail as if the registry could not be reached
     *     ({@link SchemaRegistryException#NO_RESPONSE}), false to answer normally again
     */
    public synchronized void setUnavailable(boolean unavailable) {
        this.unavailable = unavailable;
    }

    /** @return how many times {@link #register} reached this registry (to check client-side caching) */
    public synchronized int registrations() {
        return registrations;
    }

    /** @return the schemas registered under {@code subject}, oldest first; empty if none */
    public synchronized List<Schema> versions(String subject) {
        return List.copyOf(versionsBySubject.getOrDefault(subject, List.of()));
    }

    private void failIfUnavailable() {
        if (unavailable) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, "registry unavailable (simulated)", null);
        }
    }
}
