package org.deebert.streams.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SchemaRegistryClient} over the Confluent Schema Registry REST API (v7), as served by Confluent
 * Schema Registry itself and by Apicurio Registry's compatibility layer ({@code /apis/ccompat/v7}).
 *
 * <p>Both directions are cached: schema ids are immutable within one registry's life, and a subject's id
 * for a given schema never changes, so a serializer or deserializer asks the registry once per schema. But a
 * registry can forget or reuse ids (an in-memory registry restarted, a registry restored from an older backup or
 * migrated), and a cache that outlives that decodes good records with the wrong schema and writes records under
 * ids that now mean something else. {@link #refresh(int)} (after a decode failure) and {@link #verifyCache()}
 * (periodically) ask the registry again; when it disagrees with the cache, every cached id is dropped,
 * {@link #generation()} changes and the invalidation listener is told why. Thread-safe.
 *
 * <p>Credentials for a secured registry go in {@link RegistryConnection#basicAuthUserInfo()} or in the URL's
 * user-info part ({@code https://user:secret@registry.example.com}); they are sent as an HTTP Basic
 * {@code Authorization} header and removed from the URL used for requests and error messages. TLS to the registry
 * uses the connection's own {@link javax.net.ssl.SSLContext} when it has one ({@link SchemaRegistryHttp} makes the
 * requests).
 */
public final class ConfluentSchemaRegistryClient implements SchemaRegistryClient {

    /** Per-request timeout used by {@link #ConfluentSchemaRegistryClient(String)}. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(ConfluentSchemaRegistryClient.class);
    /** Tries of a registration that fails with HTTP 5xx before the error is thrown. */
    private static final int REGISTER_ATTEMPTS = 3;
    private static final Duration RETRY_PAUSE = Duration.ofMillis(200);

    private final SchemaRegistryHttp http;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private volatile Consumer<String> invalidationListener = reason -> { };

    /**
     * A client with the {@link #DEFAULT_REQUEST_TIMEOUT}.
     *
     * @param baseUrl the API root, e.g. {@code http://127.0.0.1:8081/apis/ccompat/v7} (Apicurio) or
     *     {@code https://user:secret@registry:8081} (Confluent); a trailing slash is ignored
     * @throws IllegalArgumentException if the URL is not an absolute http(s) URL
     */
    public ConfluentSchemaRegistryClient(String baseUrl) {
        this(baseUrl, DEFAULT_REQUEST_TIMEOUT);
    }

    /**
     * @param baseUrl        the API root, optionally with {@code user:secret@} for HTTP Basic auth
     * @param requestTimeout limit for connecting and for each request's response
     * @throws IllegalArgumentException if the URL is not an absolute http(s) URL
     */
    public ConfluentSchemaRegistryClient(String baseUrl, Duration requestTimeout) {
        this(new RegistryConnection(baseUrl, Optional.empty(), Optional.empty(), requestTimeout));
    }

    /**
     * @param connection the API root, credentials, TLS context and request timeout
     * @throws IllegalArgumentException if the URL is not an absolute http(s) URL
     */
    public ConfluentSchemaRegistryClient(RegistryConnection connection) {
        this.http = new SchemaRegistryHttp(connection);
    }

    /** @return the API root requests go to, without credentials */
    public URI baseUrl() {
        return http.baseUrl();
    }

    /** {@inheritDoc} */
    @Override
    public int register(String subject, Schema schema) {
        Map<Schema, Integer> known = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = known.get(schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = registerOrFindConcurrent(subject, schema);
        JsonNode id = answer.get("id");
        if (id == null || !id.canConvertToInt()) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "registry answer to registering under subject " + subject + " has no integer 'id'", null);
        }
        int schemaId = id.intValue();
        known.put(schema, schemaId);
        schemasById.putIfAbsent(schemaId, schema);
        LOG.debug("schema for subject {} has id {}", subject, schemaId);
        return schemaId;
    }

    /** {@inheritDoc} Cached like {@link #register}: a subject's id for a schema never changes. */
    @Override
    public int lookUp(String subject, Schema schema) {
        Map<Schema, Integer> known = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = known.get(schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = http.lookUp(subject, schema).orElseThrow(() -> new SchemaRegistryException(404,
                "schema " + schema.getFullName() + " is not registered under subject " + subject, null));
        JsonNode id = answer.get("id");
        if (id == null || !id.canConvertToInt()) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "registry answer to looking up subject " + subject + " has no integer 'id'", null);
        }
        int schemaId = id.intValue();
        known.put(schema, schemaId);
        schemasById.putIfAbsent(schemaId, schema);
        return schemaId;
    }

    /** {@inheritDoc} Not cached: callers keep what they need, and a new version must be seen when asked again. */
    @Override
    public RegisteredSchema latestVersion(String subject) {
        RegisteredSchema latest = http.latestVersion(subject);
        schemasById.putIfAbsent(latest.id(), latest.schema());
        return latest;
    }

    /**
     * {@code POST /subjects/{subject}/versions}, tolerating a race with other clients registering the same
     * schema at the same moment (several instances starting together). The loser of that race gets HTTP 409
     * "already exists" from Apicurio, or HTTP 500 (a unique-key violation in its store) when the schema's
     * content is new to the registry, although the schema it sent is exactly the one registered: that is
     * success, and its id is one lookup away. A 409 for an incompatible schema stays an error (the lookup
     * finds nothing); a 500 the lookup cannot explain is retried a bounded number of times.
     */
    private JsonNode registerOrFindConcurrent(String subject, Schema schema) {
        for (int attempt = 1; ; attempt++) {
            try {
                return http.register(subject, schema);
            } catch (SchemaRegistryException e) {
                boolean conflict = e.statusCode() == SchemaRegistryHttp.CONFLICT;
                boolean serverError = e.statusCode() >= 500 && e.statusCode() < 600;
                if (!conflict && !serverError) {
                    throw e;
                }
                Optional<JsonNode> found = http.lookUp(subject, schema);
                if (found.isPresent()) {
                    LOG.info("Schema {} under subject {} was registered concurrently by another client (HTTP {}); "
                            + "using its id {}", schema.getFullName(), subject, e.statusCode(), found.get().path("id").asText());
                    return found.get();
                }
                if (conflict || attempt >= REGISTER_ATTEMPTS) {
                    throw e;
                }
                LOG.warn("Registering schema {} under subject {} failed with HTTP {} (attempt {} of {}); retrying",
                        schema.getFullName(), subject, e.statusCode(), attempt, REGISTER_ATTEMPTS);
                pause(RETRY_PAUSE.multipliedBy(attempt));
            }
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, "interrupted while retrying", e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Schema getById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        Schema schema = http.fetchById(id);
        Schema previous = schemasById.putIfAbsent(id, schema);
        return previous != null ? previous : schema;
    }

    /** {@inheritDoc} */
    @Override
    public Schema refresh(int id) {
        Schema cached = schemasById.get(id);
        Schema fresh;
        try {
            fresh = http.fetchById(id);
        } catch (SchemaRegistryException e) {
            if (e.isNotFound() && cached != null) {
                invalidate("schema id " + id + " (" + cached.getFullName() + ") is no longer in the registry");
            }
            throw e;
        }
        if (cached != null && !sameSchema(cached, fresh)) {
            invalidate("schema id " + id + " now holds " + fresh.getFullName() + ", not the cached " + cached.getFullName());
        }
        schemasById.put(id, fresh);
        return fresh;
    }

    /** {@inheritDoc} */
    @Override
    public long generation() {
        return generation.get();
    }

    /**
     * Asks the registry for every cached schema id; on the first that is gone or holds another schema, drops
     * every cached id (see the class comment).
     *
     * @return why the cache was dropped, or empty when the registry agrees with every cached id
     * @throws SchemaRegistryException when the registry cannot answer (nothing is dropped)
     */
    public Optional<String> verifyCache() {
        for (Map.Entry<Integer, Schema> cached : Map.copyOf(schemasById).entrySet()) {
            int id = cached.getKey();
            String reason = null;
            try {
                Schema fresh = http.fetchById(id);
                if (!sameSchema(cached.getValue(), fresh)) {
                    reason = "schema id " + id + " now holds " + fresh.getFullName() + ", not the cached "
                            + cached.getValue().getFullName();
                }
            } catch (SchemaRegistryException e) {
                if (!e.isNotFound()) {
                    throw e;
                }
                reason = "schema id " + id + " (" + cached.getValue().getFullName() + ") is no longer in the registry";
            }
            if (reason != null) {
                invalidate(reason);
                return Optional.of(reason);
            }
        }
        return Optional.empty();
    }

    /**
     * @param listener told the reason each time the cached ids are dropped (called on the thread that found it:
     *                 keep it short); replaces any earlier listener
     */
    public void onInvalidation(Consumer<String> listener) {
        invalidationListener = listener;
    }

    private void invalidate(String reason) {
        schemasById.clear();
        idsBySubject.clear();
        generation.incrementAndGet();
        LOG.warn("Schema Registry no longer agrees with the cached schema ids ({}); dropped every cached id", reason);
        invalidationListener.accept(reason);
    }

    /** Same schema for decoding: equal Parsing Canonical Forms (docs, aliases and defaults aside). */
    private static boolean sameSchema(Schema a, Schema b) {
        return SchemaNormalization.parsingFingerprint64(a) == SchemaNormalization.parsingFingerprint64(b);
    }
}
