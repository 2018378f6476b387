package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's own TLS context: built from stores generated here, each wrong setting reported as its own
 * {@link RegistryTls.Part}, and used by the registry client against an HTTPS stand-in of the registry API on
 * 127.0.0.1 (the JDK's HttpsServer) while the JVM's default context does not trust it.
 */
class RegistryTlsTest {

    private static final String USER_INFO = "svc-deebert:pa:ss-w0rd";

    @TempDir
    static Path dir;
    private static TestKeyStores stores;
    private static HttpsServer server;
    private static final List<String> authorizations = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startHttpsRegistry() throws Exception {
        stores = TestKeyStores.generate(dir);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(stores.serverContext()));
        server.createContext("/api/subjects/", exchange -> {
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            exchange.getRequestBody().readAllBytes();
            byte[] body = "{\"id\": 5}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/api";
    }

    private static RegistryTls.Store trust() {
        return new RegistryTls.Store(stores.trustStore(), stores.storePassword(), "PKCS12");
    }

    @Test
    void theRegistryClientTrustsTheRegistryThroughItsOwnTrustStoreAndSendsTheUserInfo() {
        SSLContext context = RegistryTls.context(Optional.of(trust()), Optional.empty(), null);
        var client = new ConfluentSchemaRegistryClient(
                new RegistryConnection(url(), Optional.of(USER_INFO), Optional.of(context), Duration.ofSeconds(10)));

        int id = client.register("events-value", TextEvent.getClassSchema());

        assertThat(id).isEqualTo(5);
        assertThat(authorizations).last().isEqualTo(
                "Basic " + Base64.getEncoder().encodeToString(USER_INFO.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void withoutItsOwnTrustStoreTheSameRegistryIsNotTrustedAndNoPasswordShowsInTheError() {
        var client = new ConfluentSchemaRegistryClient(
                new RegistryConnection(url(), Optional.of(USER_INFO), Optional.empty(), Duration.ofSeconds(10)));

        assertThatThrownBy(() -> client.register("events-value", TextEvent.getClassSchema()))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isUnavailable()).isTrue())
                .hasMessageNotContaining("pa:ss-w0rd");
    }

    @Test
    void aKeyStoreWithItsKeyPasswordBuildsAContext() {
        RegistryTls.Store keys = new RegistryTls.Store(stores.keyStore(), stores.storePassword(), "JKS");

        assertThat(RegistryTls.context(Optional.of(trust()), Optional.of(keys), stores.keyPassword())).isNotNull();
    }

    @Test
    void aWrongKeyPasswordIsReportedAsTheKeyPassword() {
        RegistryTls.Store keys = new RegistryTls.Store(stores.keyStore(), stores.storePassword(), "JKS");

        // No key.password: the store's is tried, and the key has another one.
        assertPart(() -> RegistryTls.context(Optional.empty(), Optional.of(keys), ""), RegistryTls.Part.KEY_PASSWORD);
        assertPart(() -> RegistryTls.context(Optional.empty(), Optional.of(keys), "nope"), RegistryTls.Part.KEY_PASSWORD);
    }

    @Test
    void eachWrongStoreSettingIsReportedAsItsOwnPart() {
        Path missing = dir.resolve("no-such.p12");
        assertPart(() -> RegistryTls.context(Optional.of(new RegistryTls.Store(missing, "x", "PKCS12")), Optional.empty(),
                null), RegistryTls.Part.TRUSTSTORE_LOCATION);
        assertPart(() -> RegistryTls.context(Optional.of(new RegistryTls.Store(stores.trustStore(), "wrong", "PKCS12")),
                Optional.empty(), null), RegistryTls.Part.TRUSTSTORE_PASSWORD);
        assertPart(() -> RegistryTls.context(Optional.of(new RegistryTls.Store(stores.trustStore(), "x", "NOPE")),
                Optional.empty(), null), RegistryTls.Part.TRUSTSTORE_TYPE);
        assertPart(() -> RegistryTls.context(Optional.empty(), Optional.of(new RegistryTls.Store(stores.keyStore(),
                "wrong", "JKS")), null), RegistryTls.Part.KEYSTORE_PASSWORD);
        assertPart(() -> RegistryTls.context(Optional.empty(), Optional.of(new RegistryTls.Store(missing, "x", "JKS")),
                null), RegistryTls.Part.KEYSTORE_LOCATION);
    }

    @Test
    void aFileThatIsNoStoreIsReportedAsTheLocation() throws Exception {
        Path text = Files.writeString(dir.resolve("not-a-store.jks"), "hello");

        assertPart(() -> RegistryTls.context(Optional.of(new RegistryTls.Store(text, "x", "JKS")), Optional.empty(), null),
                RegistryTls.Part.TRUSTSTORE_LOCATION);
    }

    @Test
    void aStoreDescribesItselfWithoutItsPassword() {
        assertThat(trust().toString()).doesNotContain(stores.storePassword()).contains("***");
    }

    private static void assertPart(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, RegistryTls.Part part) {
        assertThatThrownBy(call).isInstanceOfSatisfying(RegistryTls.TlsSettingException.class,
                e -> assertThat(e.part()).isEqualTo(part))
                .hasMessageNotContaining(stores.storePassword()).hasMessageNotContaining(stores.keyPassword());
    }
}
