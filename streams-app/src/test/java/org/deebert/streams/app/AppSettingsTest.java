package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.PrecisionChoice;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.input.FieldPath;
import org.deebert.streams.input.InputFormat;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.model.StartingSetting;
import org.deebert.streams.topology.HeaderForwarding;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppSettingsTest {

    @TempDir
    Path dir;

    private Path file(String content) throws IOException {
        Path f = dir.resolve("app.properties");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void defaultsComeFromTheShippedPropertiesFile() {
        AppSettings s = AppSettings.load(null, Map.of());

        assertThat(s.topics()).isEqualTo(TopicNames.DEFAULTS);
        assertThat(s.processingGuarantee()).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
        assertThat(s.maxTextChars()).isEqualTo(100_000);
        assertThat(s.linger()).isEqualTo(Duration.ofMillis(5));
        assertThat(s.device()).isEqualTo(ClassifierOptions.DevicePreference.AUTO);
        assertThat(s.clientPassThrough()).isEmpty();
        assertThat(s.classifierOptions()).isEqualTo(new ClassifierOptions(ClassifierOptions.DevicePreference.AUTO, 32,
                0, 0, ClassifierOptions.Precision.FLOAT32));
    }

    @Test
    void exitSettingDefaultsToRecommendedAndNamesACalibratedPolicy() {
        assertThat(AppSettings.load(null, Map.of()).exitSetting()).isEqualTo(StartingSetting.RECOMMENDED);
        assertThat(AppSettings.load(null, Map.of("DEEBERT_EXIT_SETTING", "calibrated:patience")).exitSetting())
                .isEqualTo(new StartingSetting(ExitPolicy.PATIENCE));
        assertThat(AppSettings.withDefaults(Map.of("exit.setting", "calibrated:entropy")).exitSetting().calibratedPolicy())
                .isEqualTo(ExitPolicy.ENTROPY);
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("exit.setting", "calibrated:fastest")))
                .hasMessageContaining("exit.setting (env DEEBERT_EXIT_SETTING)")
                .hasMessageContaining("recommended or calibrated:<policy>");
    }

    @Test
    void headerForwardingDefaultsToAllUpTo64AndReachesTheTopologySettings() {
        assertThat(AppSettings.load(null, Map.of()).topologySettings().headerForwarding())
                .isEqualTo(HeaderForwarding.DEFAULTS)
                .isEqualTo(new HeaderForwarding(HeaderForwarding.Mode.ALL, java.util.Set.of(), 64));

        AppSettings s = AppSettings.load(null, Map.of("DEEBERT_HEADERS_FORWARD", "traceparent,tracestate",
                "DEEBERT_HEADERS_FORWARD_MAX", "2"));
        assertThat(s.topologySettings().headerForwarding().allowList()).containsExactlyInAnyOrder("traceparent", "tracestate");
        assertThat(s.topologySettings().headerForwarding().max()).isEqualTo(2);
        assertThat(AppSettings.withDefaults(Map.of("headers.forward", "NONE")).headerForwarding().mode())
                .isEqualTo(HeaderForwarding.Mode.NONE);
    }

    @Test
    void badHeaderForwardingSettingsAreRejectedByName() {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("headers.forward", "deebert.error.code")))
                .hasMessageContaining("headers.forward").hasMessageContaining("reserved");
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("headers.forward.max", "-1")))
                .hasMessageContaining("headers.forward.max");
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("headers.forward", " ")))
                .hasMessageContaining("headers.forward");
    }

    @Test
    void threadsAndPrecisionReachTheClassifierOptions() {
        AppSettings s = AppSettings.load(null, Map.of("DEEBERT_INTRA_OP_THREADS", "4", "DEEBERT_INTER_OP_THREADS", "1",
                "DEEBERT_PRECISION", "bfloat16"));

        assertThat(s.classifierOptions().intraOpThreads()).isEqualTo(4);
        assertThat(s.classifierOptions().interOpThreads()).isEqualTo(1);
        assertThat(s.classifierOptions().precision()).isEqualTo(ClassifierOptions.Precision.BFLOAT16);
    }

    @Test
    void autoPrecisionLoadsFloat32UntilTheSelfCheckDecidesAndItsLimitsAreChecked() {
        assertThat(AppSettings.load(null, Map.of()).precision().mode()).isEqualTo(PrecisionChoice.Mode.FLOAT32);
        AppSettings s = AppSettings.load(null, Map.of("DEEBERT_PRECISION", "auto",
                "DEEBERT_PRECISION_AUTO_CHECK_EXAMPLES", "64", "DEEBERT_PRECISION_AUTO_MIN_AGREEMENT", "0.99"));

        assertThat(s.precision()).isEqualTo(new PrecisionChoice(PrecisionChoice.Mode.AUTO, 64, 0.99, null));
        assertThat(s.classifierOptions().precision()).isEqualTo(ClassifierOptions.Precision.FLOAT32);
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("precision", "fp16")))
                .hasMessageContaining("precision must be float32, bfloat16 or auto, got fp16");
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("precision.auto.min.agreement", "99.5")))
                .hasMessageContaining("precision.auto.min.agreement must be in (0, 1], got 99.5");
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("precision.auto.check.examples", "0")))
                .hasMessageContaining("precision.auto.check.examples");
    }

    @Test
    void lengthBucketsAreTheDefaultAndNoneTurnsThemOff() {
        assertThat(AppSettings.load(null, Map.of()).classifierOptions().buckets())
                .isEqualTo(ClassifierOptions.Buckets.LENGTH);
        assertThat(AppSettings.load(null, Map.of("DEEBERT_CLASSIFIER_BATCH_BUCKETS", "none")).classifierOptions().buckets())
                .isEqualTo(ClassifierOptions.Buckets.NONE);
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("classifier.batch.buckets", "sorted")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("classifier.batch.buckets must be length or none, got sorted");
    }

    @Test
    void aCommitAfterEachFlushIsTheDefaultAndIntervalLeavesItToTheCommitInterval() {
        assertThat(AppSettings.load(null, Map.of()).topologySettings().batchCommit())
                .isEqualTo(TopologySettings.BatchCommit.AFTER_BATCH);
        assertThat(AppSettings.load(null, Map.of("DEEBERT_CLASSIFIER_BATCH_COMMIT", "interval")).topologySettings()
                .batchCommit()).isEqualTo(TopologySettings.BatchCommit.INTERVAL);
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("classifier.batch.commit", "always")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("classifier.batch.commit must be after-batch or interval, got always");
    }

    @Test
    void environmentOverridesTheFileWhichOverridesTheDefaults() throws IOException {
        Path f = file("bootstrap.servers=file:9092\nmax.batch.size=8\ntopic.dead.letter=file-dlq\ndevice=cpu\n");

        AppSettings s = AppSettings.load(f, Map.of(
                "DEEBERT_BOOTSTRAP_SERVERS", "env:9093",
                "DEEBERT_TOPIC_DEAD_LETTER", "env-dlq",
                "PATH", "/usr/bin"));

        assertThat(s.bootstrapServers()).isEqualTo("env:9093");
        assertThat(s.topics().deadLetter()).isEqualTo("env-dlq");
        assertThat(s.maxBatchSize()).isEqualTo(8);
        assertThat(s.device()).isEqualTo(ClassifierOptions.DevicePreference.CPU);
        assertThat(s.streamsProperties().getProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)).isEqualTo("env:9093");
    }

    @Test
    void securitySettingsFromFileAndEnvironmentReachEveryClient() throws IOException {
        Path f = file("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nssl.truststore.location=/etc/ts.jks\n");

        AppSettings s = AppSettings.load(f, Map.of("DEEBERT_SASL_JAAS_CONFIG", "ScramLoginModule required;",
                "DEEBERT_SSL_TRUSTSTORE_PASSWORD", "secret"));

        for (Properties p : new Properties[] {s.clientProperties(), s.streamsProperties()}) {
            assertThat(p.getProperty("security.protocol")).isEqualTo("SASL_SSL");
            assertThat(p.getProperty("sasl.mechanism")).isEqualTo("SCRAM-SHA-512");
            assertThat(p.getProperty("sasl.jaas.config")).isEqualTo("ScramLoginModule required;");
            assertThat(p.getProperty("ssl.truststore.location")).isEqualTo("/etc/ts.jks");
            assertThat(p.getProperty("ssl.truststore.password")).isEqualTo("secret");
        }
    }

    @Test
    void kafkaPrefixedSettingsGoToStreamsWithoutThePrefix() throws IOException {
        AppSettings s = AppSettings.load(file("kafka.commit.interval.ms=250\n"), Map.of("DEEBERT_KAFKA_STATE_DIR", "/tmp/x"));

        Properties p = s.streamsProperties();
        assertThat(p.getProperty("commit.interval.ms")).isEqualTo("250");
        assertThat(p.getProperty("state.dir")).isEqualTo("/tmp/x");
        assertThat(s.clientProperties()).doesNotContainKey("commit.interval.ms");
    }

    @Test
    void streamsPropertiesCarryTheGuaranteeAndBoundPollingByLinger() {
        Properties p = AppSettings.load(null, Map.of("DEEBERT_LINGER_MS", "20")).streamsProperties();

        assertThat(p.getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
        assertThat(p.getProperty(StreamsConfig.POLL_MS_CONFIG)).isEqualTo("20");
        assertThat(p.getProperty(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("deebert-streams");
    }

    @Test
    void withoutAnInstanceNameMembershipIsDynamicAndTheSessionTimeoutIs15s() {
        AppSettings s = AppSettings.load(null, Map.of());

        assertThat(s.instanceName()).isEmpty();
        assertThat(s.streamsProperties()).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(s.streamsProperties().getProperty(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)).isEqualTo("15000");
    }

    @Test
    void anInstanceNameIsTheGroupInstanceIdThatStreamsSuffixesPerThread() {
        AppSettings s = AppSettings.load(null, Map.of("DEEBERT_INSTANCE_NAME", "deebert-streams-7c9f-x2kq",
                "DEEBERT_NUM_STREAM_THREADS", "2"));

        assertThat(s.instanceName()).contains("deebert-streams-7c9f-x2kq");
        StreamsConfig config = new StreamsConfig(s.streamsProperties());
        // What each stream thread's consumer joins the group with (thread indexes start at 1).
        assertThat(config.getMainConsumerConfigs("group", "client", 1).get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG))
                .isEqualTo("deebert-streams-7c9f-x2kq-1");
        assertThat(config.getMainConsumerConfigs("group", "client", 2).get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG))
                .isEqualTo("deebert-streams-7c9f-x2kq-2");
        // The classic protocol: the streams protocol (KIP-1071) has no static membership.
        assertThat(config.getString(StreamsConfig.GROUP_PROTOCOL_CONFIG)).isEqualToIgnoringCase("classic");
    }

    @Test
    void aBadOrDoublyGivenInstanceNameIsRejectedByName() {
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("instance.name", "pod/0")))
                .hasMessageContaining("instance.name (env DEEBERT_INSTANCE_NAME)").hasMessageContaining("pod/0");
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("instance.name", "x".repeat(241))))
                .hasMessageContaining("instance.name");
        assertThat(AppSettings.withDefaults(Map.of("instance.name", "x".repeat(240))).instanceName()).isPresent();
        assertThatThrownBy(() -> AppSettings.withDefaults(Map.of("instance.name", "pod-0",
                "kafka.group.instance.id", "pod-1")))
                .hasMessageContaining("instance.name").hasMessageContaining("kafka.group.instance.id");
    }

    @Test
    void malformedValuesAreRejectedNamingTheKey() {
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_MAX_BATCH_SIZE", "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("classifier.batch.max.size");
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_DEVICE", "tpu")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("device");
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_PRECISION", "int4")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("precision");
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_INTRA_OP_THREADS", "-1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intra.op.threads");
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_PROCESSING_GUARANTEE", "exactly_once")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("processing.guarantee");
    }

    @Test
    void inputFormatAndFieldsComeFromTheEnvironmentAndReachTheTopologySettings() {
        AppSettings defaults = AppSettings.load(null, Map.of());
        assertThat(defaults.input()).isEqualTo(InputSettings.TEXT_EVENT);
        assertThat(defaults.topologySettings().includeText()).isTrue();
        AppSettings json = AppSettings.load(null, Map.of("DEEBERT_INPUT_FORMAT", "json",
                "DEEBERT_INPUT_FIELD_TEXT", "post.body", "DEEBERT_INPUT_FIELD_TEXT_PAIR", "post.title"));
        assertThat(json.input().format()).isEqualTo(InputFormat.JSON);
        assertThat(json.input().mapping().text()).isEqualTo(FieldPath.parse("post.body"));
        assertThat(json.input().mapping().textPair()).isEqualTo(FieldPath.parse("post.title"));
        assertThat(json.topologySettings().includeText()).isFalse();
        assertThat(AppSettings.load(null, Map.of("DEEBERT_INPUT_FORMAT", "string", "DEEBERT_OUTPUT_INCLUDE_TEXT", "true"))
                .topologySettings().includeText()).isTrue();
        assertThatThrownBy(() -> AppSettings.load(null, Map.of("DEEBERT_INPUT_FORMAT", "avro")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("setting input.field.text (env DEEBERT_INPUT_FIELD_TEXT) is missing");
    }

    @Test
    void envNameFollowsTheDocumentedMapping() {
        assertThat(AppSettings.envName("bootstrap.servers")).isEqualTo("DEEBERT_BOOTSTRAP_SERVERS");
        assertThat(AppSettings.envName("topic.dead.letter")).isEqualTo("DEEBERT_TOPIC_DEAD_LETTER");
    }
}
