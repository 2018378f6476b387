package org.deebert.streams.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The HTTP transport of {@link ConfluentSchemaRegistryClient}: the four calls of the Confluent Schema Registry
 * REST API (v7) it needs, one request each, no caching and no retries. Every failure is a
 * {@link SchemaRegistryException} carrying the HTTP status ({@link SchemaRegistryException#NO_RESPONSE} when
 * there was no usable answer) and, where the registry gives them, its {@code error_code} and message.
 *
 * <p>HTTP Basic credentials ({@link RegistryConnection#basicAuthUserInfo()}, else the URL's user-info part,
 * {@code https://user:secret@registry.example.com}) are sent as an {@code Authorization} header; the user-info is
 * removed from the URL used for requests and error messages. A {@link RegistryConnection#sslContext()} applies to this
 * client only, not to the JVM. Thread-safe.
 */
final class SchemaRegistryHttp {

    /** HTTP status of a registration that conflicts with the subject ("already exists", or incompatible). */
    static final int CONFLICT = 409;
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final URI baseUrl;
    private final Optional<String> authorization;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    /**
     * @param connection the API root (a trailing slash is ignored), credentials and TLS context
     * @throws IllegalArgumentException if the URL is not an absolute http(s) URL (the message shows it without
     *     credentials)
     */
    SchemaRegistryHttp(RegistryConnection connection) {
        String baseUrl = connection.url();
        URI url;
        try {
            url = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("schema registry URL is not a valid URL: " + connection.redactedUrl());
        }
        if (url.getScheme() == null || !url.getScheme().matches("https?") || url.getHost() == null) {
            throw new IllegalArgumentException("schema registry URL must be absolute http(s): " + redact(url));
        }
        // Confluent's basic.auth.credentials.source: USER_INFO (given apart) wins over the URL's user-info.
        this.authorization = connection.basicAuthUserInfo().map(SchemaRegistryHttp::basicAuthLiteral)
                .or(() -> Optional.ofNullable(url.getRawUserInfo()).map(SchemaRegistryHttp::basicAuth));
        this.baseUrl = withoutUserInfo(url);
        this.requestTimeout = connection.requestTimeout();
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(requestTimeout);
        connection.sslContext().ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    /** @return the API root requests go to, without credentials */
    URI baseUrl() {
        return baseUrl;
    }

    /**
     * {@code POST /subjects/{subject}/versions}: registers {@code schema} under {@code subject}.
     *
     * @return the registry's answer (with {@code id})
     * @throws SchemaRegistryException if the registry cannot be reached or refuses
     */
    JsonNode register(String subject, Schema schema) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + subjectPath(subject) + "/versions"))
                .POST(HttpRequest.BodyPublishers.ofString(schemaBody(schema))), "register schema under subject " + subject);
    }

    /**
     * Confluent's "is this schema registered under this subject" call ({@code POST /subjects/{subject}}).
     *
     * @return the registry's answer (with {@code id}), or empty when the subject does not hold the schema (HTTP 404
     *     or 409)
     * @throws SchemaRegistryException for any other failure
     */
    Optional<JsonNode> lookUp(String subject, Schema schema) {
        try {
            return Optional.of(send(HttpRequest.newBuilder(URI.create(baseUrl + subjectPath(subject)))
                    .POST(HttpRequest.BodyPublishers.ofString(schemaBody(schema))), "look up schema under subject " + subject));
        } catch (SchemaRegistryException e) {
            if (e.isNotFound() || e.statusCode() == CONFLICT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * {@code GET /subjects/{subject}/versions/latest}.
     *
     * @return the subject's latest version
     * @throws SchemaRegistryException if the subject does not exist ({@link SchemaRegistryException#isNotFound()}),
     *                                 the answer lacks a field or holds no valid Avro schema, or the registry cannot
     *                                 be reached
     */
    RegisteredSchema latestVersion(String subject) {
        String what = "latest version of subject " + subject;
        JsonNode answer = send(HttpRequest.newBuilder(URI.create(baseUrl + subjectPath(subject) + "/versions/latest"))
                .GET(), "fetch the " + what);
        JsonNode id = answer.get("id");
        JsonNode version = answer.get("version");
        if (id == null || !id.canConvertToInt() || version == null || !version.canConvertToInt()) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "registry answer for the " + what + " has no integer 'id' and 'version'", null);
        }
        return new RegisteredSchema(subject, id.intValue(), version.intValue(), avroSchema(answer, what));
    }

    /**
     * {@code GET /schemas/ids/{id}}.
     *
     * @return the Avro schema the registry holds under {@code id}
     * @throws SchemaRegistryException if it is unknown ({@link SchemaRegistryException#isNotFound()}), not Avro,
     *                                 not a valid schema, or the registry cannot be reached
     */
    Schema fetchById(int id) {
        JsonNode answer = send(HttpRequest.newBuilder(URI.create(baseUrl + "/schemas/ids/" + id)).GET(),
                "fetch schema id " + id);
        return avroSchema(answer, "schema id " + id);
    }

    /** The Avro schema in an answer's {@code schema} string; {@code what} names it in errors. */
    private static Schema avroSchema(JsonNode answer, String what) {
        JsonNode type = answer.get("schemaType");
        if (type != null && !type.isNull() && !"AVRO".equals(type.asText())) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    what + " is of type " + type.asText() + ", not AVRO", null);
        }
        JsonNode text = answer.get("schema");
        if (text == null || !text.isTextual()) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "registry answer for " + what + " has no 'schema' string", null);
        }
        try {
            // A fresh parser per schema: a Parser refuses to define the same full name twice.
            return new Schema.Parser().parse(text.asText());
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    what + " is not a valid Avro schema", e);
        }
    }

    private String schemaBody(Schema schema) {
        ObjectNode body = json.createObjectNode();
        body.put("schema", schema.toString());
        // Confluent treats a missing schemaType as AVRO; Apicurio's ccompat layer also accepts it explicitly.
        body.put("schemaType", "AVRO");
        return body.toString();
    }

    private static String subjectPath(String subject) {
        return "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(HttpRequest.Builder request, String what) {
        request.timeout(requestTimeout)
                .header("Accept", CONTENT_TYPE + ", application/json")
                .header("Content-Type", CONTENT_TYPE);
        authorization.ifPresent(value -> request.header("Authorization", value));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "could not " + what + " at " + baseUrl + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "interrupted while trying to " + what, e);
        }
        int status = response.statusCode();
        if (status / 100 != 2) {
            throw new SchemaRegistryException(status,
                    "could not " + what + ": HTTP " + status + errorDetail(response.body()), null);
        }
        try {
            return json.readTree(response.body());
        } catch (IOException e) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                    "could not " + what + ": the answer is not JSON", e);
        }
    }

    /** The registry's own error code and message ({@code {"error_code": 40403, "message": "..."}}), if any. */
    private String errorDetail(String body) {
        try {
            JsonNode error = json.readTree(body);
            if (error != null && error.has("error_code")) {
                return " (error_code " + error.get("error_code").asText() + ": " + error.path("message").asText() + ")";
            }
        } catch (IOException e) {
            // Not JSON (a proxy's HTML page, say): the status code alone has to do.
        }
        return "";
    }

    private static String basicAuth(String rawUserInfo) {
        return basicAuthLiteral(URLDecoder.decode(rawUserInfo, StandardCharsets.UTF_8));
    }

    private static String basicAuthLiteral(String userInfo) {
        return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    private static URI withoutUserInfo(URI url) {
        String port = url.getPort() < 0 ? "" : ":" + url.getPort();
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return URI.create(url.getScheme() + "://" + url.getHost() + port + path);
    }

    private static String redact(URI url) {
        return url.getRawUserInfo() == null ? url.toString() : url.toString().replace(url.getRawUserInfo(), "***");
    }
}
