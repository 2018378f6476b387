package org.deebert.streams.app;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.PrecisionChoice;
import org.deebert.streams.classifier.PrecisionSelfCheck;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.model.StartingSetting;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.RegistryConnection;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.topology.HeaderForwarding;
import org.deebert.streams.topology.Topics;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.TopologySettings;

/**
 * The service's configuration, read once at startup from a properties file (see
 * {@code deebert-streams.properties} on the classpath for every key, its default and meaning), with
 * environment variables overriding file values.
 *
 * <p><b>Environment mapping.</b> A key's variable is {@code DEEBERT_} + the key in upper case with
 * {@code .} and {@code -} replaced by {@code _}: {@code DEEBERT_BOOTSTRAP_SERVERS} overrides
 * {@code bootstrap.servers}, {@code DEEBERT_TOPIC_DEAD_LETTER} overrides {@code topic.dead.letter},
 * {@code DEEBERT_CLASSIFIER_BATCH_MAX_SIZE} overrides {@code classifier.batch.max.size}. Pass-through keys (whose names are
 * Kafka's, made only of dots) map back mechanically: {@code DEEBERT_SSL_TRUSTSTORE_LOCATION} sets
 * {@code ssl.truststore.location}, {@code DEEBERT_SASL_JAAS_CONFIG} sets {@code sasl.jaas.config},
 * {@code DEEBERT_KAFKA_NUM_STREAM_THREADS} sets {@code kafka.num.stream.threads}.
 *
 * <p><b>Pass-through.</b> {@code security.protocol}, {@code ssl.*} and {@code sasl.*} go unchanged to
 * every Kafka client (Streams, admin, producer); {@code kafka.X} goes to the Kafka Streams config as
 * {@code X} (e.g. {@code kafka.state.dir}).
 *
 * <p><b>Validation.</b> An unknown key (in the file or the overrides) or an unknown {@code DEEBERT_*} variable
 * fails with the nearest known name, when one is within two edits; so do a key and {@code kafka.<key>} both set
 * for {@code application.id}, {@code bootstrap.servers}, {@code processing.guarantee} and
 * {@code num.stream.threads}. The deprecated {@code max.batch.size} and {@code linger.ms} still work as
 * {@code classifier.batch.max.size} and {@code classifier.batch.linger.ms}, with a WARN. Pass-through keys are
 * not checked here (Kafka logs a WARN for a name it does not know).
 *
 * <p>{@link SettingsSources} merges the sources, {@link SettingsParser} turns keys into this record.
 *
 * @param applicationId       Kafka Streams application.id (consumer group, internal topic prefix)
 * @param instanceName        {@code instance.name}: this instance's stable name, unique within the application
 *                            (e.g. the Kubernetes pod name); when present it is the consumer group's
 *                            {@code group.instance.id} (static membership, see {@link #streamsProperties()});
 *                            empty = dynamic membership
 * @param bootstrapServers    Kafka bootstrap servers
 * @param schemaRegistryUrl   base URL of the Confluent-compatible Schema Registry API
 * @param registryConnection  {@code schema.registry.url} with its credentials ({@code basic.auth.credentials.source},
 *                            {@code basic.auth.user.info}) and TLS context ({@code schema.registry.ssl.*}); its
 *                            {@code toString} shows no password
 * @param serializerSettings  {@code auto.register.schemas}, {@code use.latest.version},
 *                            {@code key.subject.name.strategy}, {@code value.subject.name.strategy}: how the service's
 *                            serializers and its start-up registration find schema ids
 * @param topics              the six topic names ({@code topic.*}; the shadow-sample topic after the application id,
 *                            see {@link Topics})
 * @param modelDir            the exported model directory
 * @param device              where TensorFlow runs
 * @param intraOpThreads      TensorFlow intra-op threads per classifier; 0 = TensorFlow's default (all cores)
 * @param interOpThreads      TensorFlow inter-op threads per classifier; 0 = TensorFlow's default (all cores)
 * @param precision           {@code precision}: float32 (exact parity with Python), bfloat16 (faster on CPUs with
 *                            AVX512-BF16/AMX; see {@link ClassifierOptions.Precision}) or auto (bfloat16 after a
 *                            start-up self-check, {@link PrecisionSelfCheck}), with the {@code precision.auto.*} settings
 * @param maxBatchSize        {@code classifier.batch.max.size}: most events per classifier call
 * @param buckets             {@code classifier.batch.buckets}: {@code length} (default) or {@code none}, how a
 *                            classifier call's events are split into padded chunks ({@link ClassifierOptions.Buckets})
 * @param linger              {@code classifier.batch.linger.ms}: quiet time after which a partial batch leaves (it waits at most 10 x linger)
 * @param batchCommit         {@code classifier.batch.commit}: {@code after-batch} (a commit is asked for after
 *                            every flush) or {@code interval} (default; only every {@code commit.interval.ms})
 * @param maxTextChars        longest accepted text in UTF-16 chars
 * @param headerForwarding    which input headers an output record carries: {@code headers.forward} ({@code all},
 *                            the default: every header but ours and Kafka Streams' {@code __streams.errors.*};
 *                            {@code none}; or a comma-separated allow-list of header names) and
 *                            {@code headers.forward.max} (most headers per output record, default 64; more are
 *                            dropped and logged at DEBUG)
 * @param input               {@code input.format}, the {@code input.field.*} mapping and {@code output.include.text}
 *                            (see {@link InputSettings#parse})
 * @param processingGuarantee {@code exactly_once_v2} (default) or {@code at_least_once}
 * @param numStreamThreads    stream threads (each loads one copy of the model)
 * @param createTopics        whether {@code run} creates missing topics at startup
 * @param topicPartitions     partitions of topics it creates
 * @param replicationFactor   replication factor of topics it creates
 * @param controlMinCompactionLag {@code topic.control.min.compaction.lag.ms}: the control topic's
 *                            {@code min.compaction.lag.ms} when it creates it, so that a record stays on the topic
 *                            (and in {@code control history}) at least this long; 7 days by default
 * @param metricsLogInterval  how often {@code run} logs the exit histogram and events/s; zero = never
 * @param httpPort            port of the HTTP endpoint ({@code /metrics}, {@code /health/*}) on {@code http.host};
 *                            0 = any free port (tests)
 * @param httpHost            address the HTTP endpoint binds to
 * @param telemetryInterval   how often each instance writes a telemetry record; zero = never
 * @param exitSetting         {@code exit.setting}: the model card's setting in force before any control message,
 *                            {@code recommended} (default) or {@code calibrated:<policy>}
 * @param supervision         what is fatal and what is checked how often ({@code topics.check.interval.ms},
 *                            {@code stream.thread.replacements.*}, {@code schema.registry.check.interval.ms})
 * @param clientPassThrough   {@code security.protocol}, {@code ssl.*}, {@code sasl.*} settings for every client
 * @param streamsPassThrough  {@code kafka.*} settings, prefix removed, for Kafka Streams only
 */
public record AppSettings(
        String applicationId,
        Optional<String> instanceName,
        String bootstrapServers,
        String schemaRegistryUrl,
        RegistryConnection registryConnection,
        SerializerSettings serializerSettings,
        TopicNames topics,
        Path modelDir,
        ClassifierOptions.DevicePreference device,
        int intraOpThreads,
        int interOpThreads,
        PrecisionChoice precision,
        int maxBatchSize,
        ClassifierOptions.Buckets buckets,
        Duration linger,
        TopologySettings.BatchCommit batchCommit,
        int maxTextChars,
        HeaderForwarding headerForwarding,
        InputSettings input,
        String processingGuarantee,
        int numStreamThreads,
        boolean createTopics,
        int topicPartitions,
        short replicationFactor,
        Duration controlMinCompactionLag,
        Duration metricsLogInterval,
        int httpPort,
        String httpHost,
        Duration telemetryInterval,
        StartingSetting exitSetting,
        Supervision supervision,
        Map<String, String> clientPassThrough,
        Map<String, String> streamsPassThrough) {

    /** Prefix of every environment variable read. */
    public static final String ENV_PREFIX = "DEEBERT_";
    /** Keys under this prefix go to Kafka Streams with the prefix removed. */
    public static final String STREAMS_PREFIX = "kafka.";
    /** The defaults file on the classpath. */
    public static final String DEFAULTS_RESOURCE = "/deebert-streams.properties";
    /**
     * Longest {@code instance.name}, in characters: Kafka accepts a {@code group.instance.id} of up to 249
     * characters, and Kafka Streams appends {@code -<stream thread index>} to it for each thread's consumer.
     */
    public static final int INSTANCE_NAME_MAX_CHARS = 240;

    public AppSettings {
        clientPassThrough = Map.copyOf(clientPassThrough);
        streamsPassThrough = Map.copyOf(streamsPassThrough);
    }

    /**
     * Reads the classpath defaults, then {@code file} (when not null), then the environment.
     *
     * @param file a properties file, or null for defaults plus environment only
     * @param env  the environment, usually {@code System.getenv()}
     * @return the settings
     * @throws UncheckedIOException     if a file cannot be read
     * @throws InvalidSettingException  if a key or {@code DEEBERT_*} variable is unknown, two keys set the same
     *                                  thing, or a value is missing or malformed (the message names the key)
     */
    public static AppSettings load(Path file, Map<String, String> env) {
        return parsed(SettingsSources.load(file, env));
    }

    /**
     * The classpath defaults with {@code overrides} on top, without reading the environment: for
     * self-contained runs (the demo, tests, benchmarks) that must not pick up {@code DEEBERT_*}
     * variables meant for {@code run} against real clusters.
     *
     * @param overrides settings by key (e.g. {@code bootstrap.servers})
     * @return the settings
     * @throws InvalidSettingException if a key is unknown, two keys set the same thing, or a value is malformed
     *                                 (the message names the key)
     */
    public static AppSettings withDefaults(Map<String, String> overrides) {
        return parsed(SettingsSources.withDefaults(overrides));
    }

    /** @return the environment variable that overrides {@code key}, e.g. DEEBERT_BOOTSTRAP_SERVERS */
    public static String envName(String key) {
        return SettingsSources.envName(key);
    }

    /**
     * @param p merged properties: every key, defaults included (the classpath defaults are not added)
     * @return the settings
     * @throws InvalidSettingException if a key is unknown or a value is missing or malformed (the message names the
     *                                 key)
     */
    public static AppSettings fromProperties(Properties p) {
        return parsed(SettingsSources.checkedComplete(p));
    }

    private static AppSettings parsed(Properties p) {
        try {
            return SettingsParser.parse(p);
        } catch (InvalidSettingException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // Every parse error names its key: one line for the operator, exit 2 from the command line.
            throw new InvalidSettingException(e.getMessage(), e);
        }
    }

    /** @return a new client of the Schema Registry with this connection's credentials and TLS context */
    public ConfluentSchemaRegistryClient schemaRegistryClient() {
        return new ConfluentSchemaRegistryClient(registryConnection);
    }

    /** @return batching, commit, validation, header-forwarding and output-text settings of the topology */
    public TopologySettings topologySettings() {
        return new TopologySettings(maxBatchSize, linger, maxTextChars, headerForwarding, input.includeText(),
                batchCommit);
    }

    /**
     * @return how the classifier loads: device preference, threads, precision (float32 for auto, until
     *     {@link PrecisionSelfCheck#choose} decides), chunks no larger than a batch and how a batch is split into them
     */
    public ClassifierOptions classifierOptions() {
        return new ClassifierOptions(device, maxBatchSize, intraOpThreads, interOpThreads, precision.initial(), buckets);
    }

    /** @return settings for a plain Kafka client (admin, producer): bootstrap servers plus security */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.putAll(clientPassThrough);
        return p;
    }

    /**
     * The Kafka Streams configuration (without the topology's own error-handling settings, see
     * {@code ClassifierTopology.streamsConfig}).
     *
     * <p>With an {@code instance.name}, {@code group.instance.id} is that name, and Kafka Streams gives each
     * stream thread's consumer {@code <instance.name>-<thread index>} (1-based): static group membership. A
     * member that restarts under the same name after a crash takes back its place and its partitions at once,
     * instead of waiting until the group coordinator expires the dead member ({@code kafka.session.timeout.ms}).
     *
     * @return a new Properties object
     */
    public Properties streamsProperties() {
        Properties p = clientProperties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        instanceName.ifPresent(name -> p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, name));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(numStreamThreads));
        // A stream thread checks wall-clock punctuators only between polls, and an idle poll blocks for
        // poll.ms (default 100 ms): bound it by classifier.batch.linger.ms so a partial batch leaves within about linger.
        p.put(StreamsConfig.POLL_MS_CONFIG, Long.toString(linger.toMillis()));
        p.putAll(streamsPassThrough);
        return p;
    }
}
