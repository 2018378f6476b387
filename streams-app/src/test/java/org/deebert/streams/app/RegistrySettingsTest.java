package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.deebert.streams.registry.RegistryConnection;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.registry.SubjectNameStrategy;
import org.deebert.streams.registry.TestKeyStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The Schema Registry keys of the settings, under Confluent's names: defaults, environment, and bad values by key. */
class RegistrySettingsTest {

    private static final String SECRET = "s3cr3t:with-colon";

    @TempDir
    Path dir;

    @Test
    void defaultsAreConfluentsRegisterWithTopicNamesAndTheUrlsOwnCredentials() {
        AppSettings s = AppSettings.load(null, Map.of());

        assertThat(s.serializerSettings()).isEqualTo(SerializerSettings.DEFAULT);
        assertThat(s.registryConnection().url()).isEqualTo(s.schemaRegistryUrl());
        assertThat(s.registryConnection().basicAuthUserInfo()).isEmpty();
        assertThat(s.registryConnection().sslContext()).isEmpty();
    }

    @Test
    void theEnvironmentSetsEveryRegistryKeyByItsConfluentName() {
        AppSettings s = AppSettings.load(null, Map.of(
                "DEEBERT_AUTO_REGISTER_SCHEMAS", "false",
                "DEEBERT_USE_LATEST_VERSION", "TRUE",
                "DEEBERT_VALUE_SUBJECT_NAME_STRATEGY", "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                "DEEBERT_KEY_SUBJECT_NAME_STRATEGY", "TopicRecordNameStrategy",
                "DEEBERT_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
                "DEEBERT_BASIC_AUTH_USER_INFO", "svc-deebert:" + SECRET));

        assertThat(s.serializerSettings()).isEqualTo(new SerializerSettings(false, true,
                SubjectNameStrategy.TOPIC_RECORD_NAME, SubjectNameStrategy.RECORD_NAME));
        assertThat(s.registryConnection().basicAuthUserInfo()).contains("svc-deebert:" + SECRET);
    }

    @Test
    void thePasswordAppearsInNoDescriptionOfTheSettings() {
        AppSettings s = AppSettings.withDefaults(Map.of("basic.auth.credentials.source", "user_info",
                "basic.auth.user.info", "svc-deebert:" + SECRET));

        assertThat(s.toString()).doesNotContain(SECRET).contains("svc-deebert");
        assertThat(s.registryConnection().toString()).doesNotContain(SECRET);
        RegistryConnection inUrl = RegistryConnection.of("https://svc:" + "url-pass" + "@registry:8081/x");
        assertThat(inUrl.toString()).doesNotContain("url-pass").contains("***@registry:8081");
    }

    @Test
    void aRegistryTrustStoreOfItsOwnBuildsTheRegistrysTlsContext() throws Exception {
        TestKeyStores stores = TestKeyStores.generate(dir);

        AppSettings s = AppSettings.withDefaults(Map.of(
                "schema.registry.ssl.truststore.location", stores.trustStore().toString(),
                "schema.registry.ssl.truststore.password", stores.storePassword(),
                "schema.registry.ssl.truststore.type", "PKCS12"));

        assertThat(s.registryConnection().sslContext()).isPresent();
        assertThat(s.toString()).doesNotContain(stores.storePassword());
        assertThat(s.clientPassThrough()).as("the Kafka clients' ssl.* stay untouched").isEmpty();
    }

    @Test
    void badRegistrySettingsFailInOneLineNamingTheKey() {
        assertBad(Map.of("value.subject.name.strategy", "com.example.Custom"), "setting value.subject.name.strategy");
        assertBad(Map.of("key.subject.name.strategy", "Topic"), "setting key.subject.name.strategy");
        assertBad(Map.of("auto.register.schemas", "yes"), "setting auto.register.schemas must be true or false");
        assertBad(Map.of("use.latest.version", ""), "setting use.latest.version");
        assertBad(Map.of("basic.auth.credentials.source", "USER_INFO"), "setting basic.auth.user.info");
        assertBad(Map.of("basic.auth.credentials.source", "SASL_INHERIT"), "setting basic.auth.credentials.source");
        assertBad(Map.of("basic.auth.user.info", "svc:" + SECRET), "basic.auth.credentials.source is URL");
        assertBad(Map.of("schema.registry.ssl.truststore.location", dir.resolve("missing.jks").toString()),
                "setting schema.registry.ssl.truststore.location");
        assertBad(Map.of("schema.registry.ssl.keystore.location", dir.resolve("missing.p12").toString()),
                "setting schema.registry.ssl.keystore.location");
    }

    @Test
    void aUserInfoWithoutColonIsRejectedWithoutEchoingIt() {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "just-a-password")))
                .hasMessageContaining("setting basic.auth.user.info must be user:password")
                .hasMessageNotContaining("just-a-password");
    }

    @Test
    void aWrongTrustStorePasswordNamesThePasswordKeyButNotThePassword() throws Exception {
        TestKeyStores stores = TestKeyStores.generate(dir);

        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of(
                "schema.registry.ssl.truststore.location", stores.trustStore().toString(),
                "schema.registry.ssl.truststore.password", "not-" + stores.storePassword(),
                "schema.registry.ssl.truststore.type", "PKCS12")))
                .hasMessageStartingWith("setting schema.registry.ssl.truststore.password")
                .hasMessageNotContaining("not-" + stores.storePassword());
    }

    private static void assertBad(Map<String, String> overrides, String message) {
        assertThatThrownBy(() -> AppSettings.withDefaults(overrides))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain(SECRET));
    }

    @Test
    void runWithRegistryCredentialsNeverLogsOrPrintsThePassword() throws Exception {
        Path config = dir.resolve("run.properties");
        Files.writeString(config, "schema.registry.url=http://127.0.0.1:" + closedPort() + "/apis/ccompat/v7\n"
                + "basic.auth.credentials.source=USER_INFO\nbasic.auth.user.info=svc-deebert:" + SECRET + "\n");
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        root.addAppender(events);
        StringWriter err = new StringWriter();
        int exit;
        try {
            // The registry cannot be reached: the start fails after the client has built its Authorization header.
            exit = Cli.commandLine().setErr(new PrintWriter(err, true)).execute("run", "--config", config.toString());
        } finally {
            root.detachAppender(events);
        }

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).contains("run failed").doesNotContain(SECRET);
        assertThat(events.list).isNotEmpty().allSatisfy(e -> {
            assertThat(e.getFormattedMessage()).doesNotContain(SECRET);
            for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET);
            }
        });
    }

    @Test
    void runWithAMissingRegistryTrustStoreFailsInOneLineNamingTheKey() throws Exception {
        Path config = dir.resolve("run.properties");
        Files.writeString(config, "schema.registry.ssl.truststore.location=" + dir.resolve("nowhere.p12") + "\n");
        StringWriter err = new StringWriter();

        int exit = Cli.commandLine().setErr(new PrintWriter(err, true)).execute("run", "--config", config.toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).hasLineCount(1).contains("setting schema.registry.ssl.truststore.location")
                .contains("does not exist");
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aRegistryConnectionNeedsAColonInItsUserInfo() {
        assertThatThrownBy(() -> new RegistryConnection("http://r", Optional.of("nocolon"), Optional.empty(),
                java.time.Duration.ofSeconds(1))).hasMessageNotContaining("nocolon");
    }
}
