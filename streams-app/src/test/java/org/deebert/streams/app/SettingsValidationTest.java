package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A typo or a contradiction in the configuration stops start-up with one line naming the key. */
class SettingsValidationTest {

    @TempDir
    Path dir;

    private Path file(String content) throws IOException {
        Path f = dir.resolve("app.properties");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void anUnknownKeyInTheFileFailsNamingItAndTheNearestKnownKey() throws IOException {
        Path f = file("topic.deadletter=dlq\n");

        assertThatThrownBy(() -> AppSettings.load(f, Map.of()))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessage("unknown setting topic.deadletter in " + f + " (did you mean topic.dead.letter?)");
    }

    @Test
    void aMisspeltDeprecatedKeyIsPointedAtItsNewName() throws IOException {
        Path f = file("lingr.ms=20\n");

        assertThatThrownBy(() -> AppSettings.load(f, Map.of()))
                .hasMessage("unknown setting lingr.ms in " + f + " (did you mean classifier.batch.linger.ms?)");
    }

    @Test
    void anUnknownKeyFarFromEveryKnownOneFailsWithoutASuggestion() {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("completely.different", "x")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessage("unknown setting completely.different in the given settings");
    }

    @Test
    void anUnknownDeebertVariableFailsNamingItAndTheNearestKnownVariable() {
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_TOPIC_INPTU", "t")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessage("unknown environment variable DEEBERT_TOPIC_INPTU (did you mean DEEBERT_TOPIC_INPUT?)");
    }

    @Test
    void passThroughKeysToolVariablesAndOtherVariablesAreAccepted() throws IOException {
        Path f = file("kafka.commit.interval.ms=250\nsasl.mechanism=PLAIN\nsecurity.protocol=SASL_SSL\n");

        AppSettings s = AppSettings.load(f, Map.of("DEEBERT_KAFKA_STATE_DIR", "/tmp/x", "DEEBERT_SSL_TRUSTSTORE_TYPE", "PKCS12",
                "DEEBERT_HOME", "/opt/deebert", "DEEBERT_REPO", "/src", "PATH", "/usr/bin", "DEEBERT_LOG_FORMAT", "json",
                "DEEBERT_REQUIRE_PROMTOOL", "1"));

        assertThat(s.streamsProperties().getProperty("commit.interval.ms")).isEqualTo("250");
        assertThat(s.streamsProperties().getProperty("state.dir")).isEqualTo("/tmp/x");
        assertThat(s.clientProperties().getProperty("ssl.truststore.type")).isEqualTo("PKCS12");
    }

    @Test
    void aKeyAndItsKafkaPrefixedTwinBothSetFailNamingBoth() throws IOException {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("num.stream.threads", "2", "kafka.num.stream.threads", "4")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessageStartingWith("settings num.stream.threads and kafka.num.stream.threads are both set");
        Path f = file("application.id=a\n");
        assertThatThrownBy(() -> AppSettings.load(f, Map.of("DEEBERT_KAFKA_APPLICATION_ID", "b")))
                .hasMessageStartingWith("settings application.id and kafka.application.id are both set");
    }

    @Test
    void theKafkaPrefixedTwinAloneStillWins() {
        Properties p = AppSettings.load(null, Map.of("DEEBERT_KAFKA_NUM_STREAM_THREADS", "3")).streamsProperties();

        assertThat(p.getProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG)).isEqualTo("3");
    }

    @Test
    void theDeprecatedBatchingKeysStillWorkWithOneWarningNamingTheNewKey() throws IOException {
        Logger logger = (Logger) LoggerFactory.getLogger(SettingsSources.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        logger.addAppender(events);
        try {
            AppSettings s = AppSettings.load(file("max.batch.size=8\n"), Map.of("DEEBERT_LINGER_MS", "20"));

            assertThat(s.maxBatchSize()).isEqualTo(8);
            assertThat(s.linger().toMillis()).isEqualTo(20);
            assertThat(events.list).extracting(ILoggingEvent::getLevel).containsOnly(Level.WARN);
            assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                    "setting linger.ms is deprecated: use classifier.batch.linger.ms (env DEEBERT_CLASSIFIER_BATCH_LINGER_MS)",
                    "setting max.batch.size is deprecated: use classifier.batch.max.size (env DEEBERT_CLASSIFIER_BATCH_MAX_SIZE)");
        } finally {
            logger.detachAppender(events);
        }
    }

    @Test
    void theNewBatchingKeysSetTheBatching() {
        AppSettings s = AppSettings.load(null, Map.of("DEEBERT_CLASSIFIER_BATCH_MAX_SIZE", "16",
                "DEEBERT_CLASSIFIER_BATCH_LINGER_MS", "7"));

        assertThat(s.topologySettings().maxBatchSize()).isEqualTo(16);
        assertThat(s.topologySettings().linger().toMillis()).isEqualTo(7);
        assertThat(s.streamsProperties().getProperty(StreamsConfig.POLL_MS_CONFIG)).isEqualTo("7");
    }

    @Test
    void aDeprecatedKeyNextToItsNewNameFailsNamingBoth() {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("linger.ms", "5", "classifier.batch.linger.ms", "9")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessageStartingWith("settings linger.ms (deprecated) and classifier.batch.linger.ms are both set");
    }

    @Test
    void wrongTypesAndRangesFailNamingTheKey() {
        for (Map.Entry<String, String> bad : List.of(Map.entry("http.port", "70000"), Map.entry("http.port", "80a"),
                Map.entry("topics.create", "yes"), Map.entry("classifier.batch.linger.ms", "0"),
                Map.entry("num.stream.threads", "-1"), Map.entry("auto.register.schemas", "maybe"),
                Map.entry("device", "tpu"), Map.entry("processing.guarantee", "exactly_once"))) {
            assertThatThrownBy(() -> AppSettings.withDefaults(Map.ofEntries(bad)))
                    .as("%s", bad)
                    .isInstanceOf(InvalidSettingException.class)
                    .hasMessageContaining(bad.getKey())
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    @Test
    void runWithAnUnknownKeyExitsTwoWithOneLineNamingIt() throws IOException {
        Path f = file("num.stream.thread=2\n");
        StringWriter err = new StringWriter();

        int exit = Cli.commandLine().setErr(new PrintWriter(err, true)).execute("run", "--config", f.toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).hasLineCount(1)
                .isEqualToIgnoringNewLines("run: unknown setting num.stream.thread in " + f + " (did you mean num.stream.threads?)");
    }

    @Test
    void runWithAnOutOfRangeValueExitsTwoWithOneLineNamingTheKey() throws IOException {
        Path f = file("http.port=70000\n");
        StringWriter err = new StringWriter();

        int exit = Cli.commandLine().setErr(new PrintWriter(err, true)).execute("run", "--config", f.toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).hasLineCount(1).startsWith("run: setting http.port must be a port in 0..65535");
    }

    @Test
    void everyDefaultKeyIsKnownAndTheShippedDefaultsPassValidation() {
        assertThat(SettingKeys.keys()).containsKeys("application.id", "classifier.batch.max.size",
                "classifier.batch.linger.ms", "input.field.text_pair", "schema.registry.ssl.key.password");
        assertThat(SettingKeys.keys()).doesNotContainKeys("max.batch.size", "linger.ms", "security.protocol");
        assertThat(AppSettings.fromProperties(SettingsSources.withDefaults(Map.of())).maxBatchSize()).isEqualTo(32);
    }

    @Test
    void distanceIsLevenshtein() {
        assertThat(SettingKeys.distance("linger.ms", "lingr.ms")).isEqualTo(1);
        assertThat(SettingKeys.distance("kitten", "sitting")).isEqualTo(3);
        assertThat(SettingKeys.distance("", "abc")).isEqualTo(3);
    }
}
