package org.deebert.streams.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.PrecisionChoice;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.model.StartingSetting;
import org.deebert.streams.registry.RegistryConnection;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.topology.HeaderForwarding;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.TopologySettings;

/**
 * Which keys make which {@link AppSettings}: reads the merged properties ({@link SettingsSources}) key by key
 * ({@link SettingReader}) and checks the values that have a fixed set of choices or a format.
 */
final class SettingsParser {

    /** What Kafka accepts in a {@code group.instance.id} (the characters of a topic name). */
    private static final Pattern INSTANCE_NAME = Pattern.compile("[a-zA-Z0-9._-]+");

    private SettingsParser() {
    }

    /**
     * @param p merged properties
     * @return the settings
     * @throws IllegalArgumentException if a value is missing or malformed (the message names the key)
     */
    static AppSettings parse(Properties p) {
        SettingReader r = new SettingReader(p);
        Map<String, String> client = new TreeMap<>();
        Map<String, String> streams = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            String value = p.getProperty(key).trim();
            if (SettingsSources.isClientPassThrough(key) && !value.isEmpty()) {
                client.put(key, value);
            } else if (key.startsWith(AppSettings.STREAMS_PREFIX) && !value.isEmpty()) {
                streams.put(key.substring(AppSettings.STREAMS_PREFIX.length()), value);
            }
        }
        String guarantee = r.required("processing.guarantee");
        if (!guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2) && !guarantee.equals(StreamsConfig.AT_LEAST_ONCE)) {
            throw new IllegalArgumentException("processing.guarantee must be exactly_once_v2 or at_least_once, got " + guarantee);
        }
        ClassifierOptions.DevicePreference device;
        try {
            device = ClassifierOptions.DevicePreference.valueOf(r.required("device").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("device must be auto, cpu or gpu, got " + r.raw("device"));
        }
        PrecisionChoice precision = precision(r);
        ClassifierOptions.Buckets buckets;
        try {
            buckets = ClassifierOptions.Buckets.valueOf(r.required("classifier.batch.buckets").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("classifier.batch.buckets must be length or none, got "
                    + r.raw("classifier.batch.buckets"));
        }
        TopologySettings.BatchCommit batchCommit = switch (r.required("classifier.batch.commit").toLowerCase(Locale.ROOT)) {
            case "after-batch" -> TopologySettings.BatchCommit.AFTER_BATCH;
            case "interval" -> TopologySettings.BatchCommit.INTERVAL;
            default -> throw new IllegalArgumentException("classifier.batch.commit must be after-batch or interval, got "
                    + r.raw("classifier.batch.commit"));
        };
        String applicationId = r.required("application.id");
        Optional<String> instanceName = instanceName(r, streams);
        String bootstrapServers = r.required("bootstrap.servers");
        String registryUrl = r.required("schema.registry.url");
        RegistryConnection registryConnection = RegistrySettings.connection(r, registryUrl);
        SerializerSettings serializerSettings = RegistrySettings.serializer(r);
        String input = r.required("topic.input");
        String output = r.required("topic.output");
        String control = r.required("topic.control");
        String deadLetter = r.required("topic.dead.letter");
        Path modelDir = Path.of(r.required("model.dir"));
        int intraOpThreads = (int) r.nonNegativeLong("intra.op.threads");
        int interOpThreads = (int) r.nonNegativeLong("inter.op.threads");
        int maxBatchSize = r.positiveInt("classifier.batch.max.size");
        Duration linger = Duration.ofMillis(r.positiveInt("classifier.batch.linger.ms"));
        int maxTextChars = r.positiveInt("max.text.chars");
        HeaderForwarding headers = headerForwarding(r);
        InputSettings inputSettings = InputSettings.parse(p::getProperty, AppSettings::envName);
        int numStreamThreads = r.positiveInt("num.stream.threads");
        boolean createTopics = r.bool("topics.create");
        int partitions = r.positiveInt("topics.partitions");
        short replicationFactor = (short) r.positiveInt("topics.replication.factor");
        Duration controlMinCompactionLag = Duration.ofMillis(r.nonNegativeLong("topic.control.min.compaction.lag.ms"));
        Duration metricsLogInterval = Duration.ofMillis(r.nonNegativeLong("metrics.log.interval.ms"));
        int httpPort = r.port("http.port");
        String httpHost = r.required("http.host");
        String telemetry = r.required("topic.telemetry");
        Duration telemetryInterval = Duration.ofMillis(r.nonNegativeLong("telemetry.interval.ms"));
        StartingSetting exitSetting = exitSetting(r);
        Supervision supervision = new Supervision(Duration.ofMillis(r.nonNegativeLong("topics.check.interval.ms")),
                r.positiveInt("stream.thread.replacements.max"),
                Duration.ofMillis(r.positiveInt("stream.thread.replacements.window.ms")),
                Duration.ofMillis(r.positiveInt("schema.registry.check.interval.ms")));
        return new AppSettings(applicationId, instanceName, bootstrapServers, registryUrl, registryConnection,
                serializerSettings,
                new TopicNames(input, output, control, deadLetter, telemetry,
                        TopicNames.shadowSamplesTopic(applicationId)),
                modelDir, device, intraOpThreads, interOpThreads, precision, maxBatchSize, buckets, linger, batchCommit, maxTextChars,
                headers,
                inputSettings, guarantee, numStreamThreads, createTopics, partitions, replicationFactor, controlMinCompactionLag,
                metricsLogInterval, httpPort,
                httpHost, telemetryInterval, exitSetting, supervision, client, streams);
    }

    private static PrecisionChoice precision(SettingReader r) {
        PrecisionChoice.Mode mode;
        try {
            mode = PrecisionChoice.Mode.valueOf(r.required("precision").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("precision must be float32, bfloat16 or auto, got " + r.raw("precision"));
        }
        int examples = r.positiveInt("precision.auto.check.examples");
        String share = r.required("precision.auto.min.agreement");
        double minAgreement;
        try {
            minAgreement = Double.parseDouble(share);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("precision.auto.min.agreement must be a share in (0, 1], got " + share);
        }
        String file = r.optional("precision.auto.check.file", "");
        return new PrecisionChoice(mode, examples, minAgreement, file.isEmpty() ? null : Path.of(file));
    }

    private static Optional<String> instanceName(SettingReader r, Map<String, String> streamsPassThrough) {
        String name = r.optional("instance.name", "");
        if (name.isEmpty()) {
            return Optional.empty();
        }
        String where = "setting instance.name (env " + AppSettings.envName("instance.name") + ")";
        if (!INSTANCE_NAME.matcher(name).matches() || name.length() > AppSettings.INSTANCE_NAME_MAX_CHARS) {
            throw new IllegalArgumentException(where + " must be 1-" + AppSettings.INSTANCE_NAME_MAX_CHARS
                    + " characters of a-z, A-Z, 0-9, '.', '_' or '-', got " + name);
        }
        // Two sources for one group.instance.id would leave it unclear which one is in force.
        if (streamsPassThrough.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
            throw new IllegalArgumentException(where + " and kafka." + ConsumerConfig.GROUP_INSTANCE_ID_CONFIG
                    + " are both set; set instance.name only");
        }
        return Optional.of(name);
    }

    private static StartingSetting exitSetting(SettingReader r) {
        try {
            return StartingSetting.parse(r.required("exit.setting"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting exit.setting (env " + AppSettings.envName("exit.setting") + "): "
                    + e.getMessage(), e);
        }
    }

    private static HeaderForwarding headerForwarding(SettingReader r) {
        long max = r.nonNegativeLong("headers.forward.max");
        if (max > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("setting headers.forward.max is too large, got " + max);
        }
        try {
            return HeaderForwarding.parse(r.required("headers.forward"), (int) max);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting headers.forward (env " + AppSettings.envName("headers.forward")
                    + "): " + e.getMessage(), e);
        }
    }
}
