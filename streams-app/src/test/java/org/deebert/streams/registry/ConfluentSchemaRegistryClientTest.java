package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.Schema;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP side of the client against a scripted stand-in server on 127.0.0.1 (the JDK's HttpServer):
 * request shape, credentials, caching and status mapping. Interop with a real registry is covered by
 * the end-to-end SchemaRegistryInteropTest.
 */
class ConfluentSchemaRegistryClientTest {

    /** What the stand-in server saw. */
    private record Seen(String method, String path, String authorization, String body) {
    }

    private final List<Seen> requests = new CopyOnWriteArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private HttpServer server;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/subjects/", exchange -> answer(exchange, 200, "{\"id\": 7}"));
        server.createContext("/api/schemas/ids/7", exchange -> answer(exchange, 200,
                json.createObjectNode().put("schema", TextEvent.getClassSchema().toString()).toString()));
        server.createContext("/api/schemas/ids/8", exchange -> answer(exchange, 404,
                "{\"error_code\": 40403, \"message\": \"Schema not found\"}"));
        server.createContext("/api/conflict/subjects/", exchange -> answer(exchange, 409,
                "{\"error_code\": 409, \"message\": \"incompatible\"}"));
        // A concurrent registration lost the race: 409 "already exists" on /versions, the lookup finds id 9.
        server.createContext("/api/raced/subjects/", exchange -> answer(exchange,
                exchange.getRequestURI().getRawPath().endsWith("/versions") ? 409 : 200,
                exchange.getRequestURI().getRawPath().endsWith("/versions")
                        ? "{\"error_code\": 409, \"message\": \"Artifact already exists\"}"
                        : "{\"subject\": \"c-value\", \"id\": 9, \"version\": 1}"));
        // Apicurio's other race answer, for content new to the registry: 500 on /versions, the lookup finds id 11.
        server.createContext("/api/raced500/subjects/", exchange -> answer(exchange,
                exchange.getRequestURI().getRawPath().endsWith("/versions") ? 500 : 200,
                exchange.getRequestURI().getRawPath().endsWith("/versions")
                        ? "{\"error_code\": 500, \"message\": \"Unique index or primary key violation\"}"
                        : "{\"subject\": \"d-value\", \"id\": 11, \"version\": 1}"));
        // A server error the lookup cannot explain: tried 3 times, then thrown.
        server.createContext("/api/broken/subjects/", exchange -> answer(exchange,
                exchange.getRequestURI().getRawPath().endsWith("/versions") ? 500 : 404,
                "{\"error_code\": 40401, \"message\": \"not found\"}"));
        // An id whose schema the test changes or removes (a registry emptied and refilled in another order).
        server.createContext("/api/schemas/ids/12", exchange -> {
            Schema now = idTwelve.get();
            answer(exchange, now == null ? 404 : 200, now == null
                    ? "{\"error_code\": 40403, \"message\": \"Schema not found\"}"
                    : json.createObjectNode().put("schema", now.toString()).toString());
        });
        server.start();
    }

    private final java.util.concurrent.atomic.AtomicReference<Schema> idTwelve =
            new java.util.concurrent.atomic.AtomicReference<>(TextEvent.getClassSchema());

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private void answer(HttpExchange exchange, int status, String body) throws IOException {
        String requestBody = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                exchange.getRequestHeaders().getFirst("Authorization"), requestBody));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private String url(String userInfo) {
        return "http://" + userInfo + "127.0.0.1:" + server.getAddress().getPort() + "/api/";
    }

    @Test
    void shouldPostTheSchemaAsJsonToTheSubjectsVersionsPath() throws IOException {
        var client = new ConfluentSchemaRegistryClient(url(""));

        int id = client.register("text-events-value", TextEvent.getClassSchema());

        assertThat(id).isEqualTo(7);
        Seen post = requests.get(0);
        assertThat(post.method()).isEqualTo("POST");
        assertThat(post.path()).isEqualTo("/api/subjects/text-events-value/versions");
        JsonNode body = json.readTree(post.body());
        assertThat(new Schema.Parser().parse(body.get("schema").asText())).isEqualTo(TextEvent.getClassSchema());
        assertThat(body.get("schemaType").asText()).isEqualTo("AVRO");
        assertThat(post.authorization()).isNull();
    }

    @Test
    void shouldSendUserInfoAsBasicAuthAndKeepItOutOfTheUrl() {
        var client = new ConfluentSchemaRegistryClient(url("svc-deebert:s%3Acret@"));

        client.getById(7);

        String expected = "Basic " + Base64.getEncoder().encodeToString("svc-deebert:s:cret".getBytes(StandardCharsets.UTF_8));
        assertThat(requests.get(0).authorization()).isEqualTo(expected);
        assertThat(client.baseUrl().toString()).doesNotContain("svc-deebert").doesNotContain("cret");
    }

    @Test
    void shouldCacheBothDirections() {
        var client = new ConfluentSchemaRegistryClient(url(""));

        client.register("a-value", TextEvent.getClassSchema());
        client.register("a-value", TextEvent.getClassSchema());
        Schema fetched = client.getById(7);

        // One POST; the id->schema direction was filled by the registration, so no GET at all.
        assertThat(requests).hasSize(1);
        assertThat(fetched).isEqualTo(TextEvent.getClassSchema());
    }

    @Test
    void shouldParseAFetchedSchemaOnceAndReuseIt() {
        var client = new ConfluentSchemaRegistryClient(url(""));

        Schema first = client.getById(7);
        Schema second = client.getById(7);

        assertThat(first).isEqualTo(TextEvent.getClassSchema()).isSameAs(second);
        assertThat(requests).hasSize(1);
    }

    @Test
    void shouldMapStatusesToTheException() {
        var client = new ConfluentSchemaRegistryClient(url(""));

        assertThatThrownBy(() -> client.getById(8))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isNotFound()).isTrue();
                    assertThat(e.isUnavailable()).isFalse();
                })
                .hasMessageContaining("40403");
        var conflicting = new ConfluentSchemaRegistryClient(url("") + "conflict");
        assertThatThrownBy(() -> conflicting.register("b-value", TextEvent.getClassSchema()))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isIncompatible()).isTrue());
    }

    @Test
    void shouldTreatAlreadyExistsFromAConcurrentRegistrationAsSuccessAndLookTheIdUp() {
        var client = new ConfluentSchemaRegistryClient(url("") + "raced");

        int id = client.register("c-value", TextEvent.getClassSchema());

        assertThat(id).isEqualTo(9);
        assertThat(requests).extracting(Seen::path)
                .containsExactly("/api/raced/subjects/c-value/versions", "/api/raced/subjects/c-value");
        assertThat(client.getById(9)).isEqualTo(TextEvent.getClassSchema());
    }

    @Test
    void shouldTreatAServerErrorFromAConcurrentRegistrationAsSuccessWhenTheLookupFindsTheSchema() {
        var client = new ConfluentSchemaRegistryClient(url("") + "raced500");

        assertThat(client.register("d-value", TextEvent.getClassSchema())).isEqualTo(11);
    }

    @Test
    void shouldRetryAServerErrorABoundedNumberOfTimesThenThrow() {
        var client = new ConfluentSchemaRegistryClient(url("") + "broken");

        assertThatThrownBy(() -> client.register("e-value", TextEvent.getClassSchema()))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.statusCode()).isEqualTo(500));
        assertThat(requests.stream().filter(r -> r.path().endsWith("/versions")).count()).isEqualTo(3);
    }

    @Test
    void shouldReportAnUnreachableRegistryAsUnavailable() {
        String unreachable = url("");
        server.stop(0);
        var client = new ConfluentSchemaRegistryClient(unreachable);

        assertThatThrownBy(() -> client.getById(7))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isUnavailable()).isTrue();
                    assertThat(e.statusCode()).isEqualTo(SchemaRegistryException.NO_RESPONSE);
                });
    }

    @Test
    void shouldRejectANonHttpUrl() {
        assertThatThrownBy(() -> new ConfluentSchemaRegistryClient("mock://scope"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aReusedIdIsNoticedByRefreshAndDropsEveryCachedIdOnce() {
        var client = new ConfluentSchemaRegistryClient(url(""));
        List<String> reasons = new CopyOnWriteArrayList<>();
        client.onInvalidation(reasons::add);
        client.getById(12);
        client.getById(7);
        long before = client.generation();

        idTwelve.set(org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        assertThat(client.getById(12)).as("cached until asked again").isEqualTo(TextEvent.getClassSchema());
        Schema fresh = client.refresh(12);

        assertThat(fresh).isEqualTo(org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        assertThat(client.generation()).isNotEqualTo(before);
        assertThat(reasons).singleElement().asString().contains("schema id 12 now holds").contains("ClassifiedEvent");
        assertThat(client.getById(12)).isEqualTo(org.deebert.streams.schema.ClassifiedEvent.getClassSchema());
        int fetchesOf7 = (int) requests.stream().filter(r -> r.path().endsWith("/ids/7")).count();
        client.getById(7);
        assertThat(requests.stream().filter(r -> r.path().endsWith("/ids/7")).count())
                .as("id 7 was dropped from the cache too").isEqualTo(fetchesOf7 + 1);
    }

    @Test
    void verifyCacheFindsAForgottenIdAndAgreementChangesNothing() {
        var client = new ConfluentSchemaRegistryClient(url(""));
        client.getById(12);
        long before = client.generation();

        assertThat(client.verifyCache()).isEmpty();
        assertThat(client.generation()).isEqualTo(before);

        idTwelve.set(null);
        assertThat(client.verifyCache()).get().asString().contains("schema id 12").contains("no longer in the registry");
        assertThat(client.generation()).isNotEqualTo(before);
    }
}
