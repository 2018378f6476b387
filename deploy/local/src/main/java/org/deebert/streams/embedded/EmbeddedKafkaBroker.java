package org.deebert.streams.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Apache Kafka cluster in this JVM: one KRaft process acting as broker and controller,
 * listening on free ports of 127.0.0.1 only, with its logs in a temporary directory that
 * {@link #close()} deletes. For the one-command demo and the end-to-end tests; a production cluster is
 * a separate multi-broker deployment (see deploy/README.md).
 *
 * <p>Internal topics (consumer offsets, transaction state, share-group state) get replication factor
 * 1 and min.insync.replicas 1: with the defaults of 3 a one-node cluster can never create them, and
 * Kafka Streams then hangs in REBALANCING and exactly_once_v2 producers cannot initialise.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = new EmbeddedKafkaBroker().start()) {
 *     kafka.createTopic("text-events", 3, false);
 *     String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** How long {@link #start()} waits for the broker to report itself in the cluster metadata. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /** How long admin operations such as {@link #createTopic} wait for the controller. */
    public static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final Map<String, String> overrides;
    private Path logDir;
    private KafkaRaftServer server;
    private Admin admin;
    private int brokerPort;

    /** A broker with the default settings described in the class comment. */
    public EmbeddedKafkaBroker() {
        this(Map.of());
    }

    /**
     * @param overrides broker settings applied on top of the defaults (e.g. {@code auto.create.topics.enable});
     *     listener and directory settings are chosen by this class and should not be overridden
     */
    public EmbeddedKafkaBroker(Map<String, String> overrides) {
        this.overrides = Map.copyOf(overrides);
    }

    /**
     * Formats a fresh log directory, starts the broker and waits until it serves metadata.
     *
     * @return this
     * @throws IllegalStateException if already started, or the broker is not up within {@link #STARTUP_TIMEOUT}
     * @throws UncheckedIOException if the temporary directory cannot be created or formatted
     */
    public synchronized EmbeddedKafkaBroker start() {
        if (server != null) {
            throw new IllegalStateException("broker already started at " + bootstrapServers());
        }
        brokerPort = FreePorts.next();
        int controllerPort = FreePorts.next();
        try {
            logDir = Files.createTempDirectory("deebert-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the broker's log directory", e);
        }
        Properties props = brokerProperties(controllerPort);
        try {
            format(props);
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
            awaitBrokerRegistered();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("Kafka broker started at {} (log dir {})", bootstrapServers(), logDir);
        return this;
    }

    private Properties brokerProperties(int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // One node: internal topics can only have one replica (see the class comment).
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("min.insync.replicas", "1");
        // No one else will join: do not wait for more group members before the first assignment.
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.streams.initial.rebalance.delay.ms", "0");
        // The log cleaner (compacted topics) reserves 128 MiB by default; test data needs far less.
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(4 * 1024 * 1024));
        p.putAll(overrides);
        return p;
    }

    private void format(Properties props) {
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        } catch (Exception e) {
            throw new UncheckedIOException(new IOException("cannot format the broker's log directory " + logDir, e));
        }
    }

    private void awaitBrokerRegistered() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                // The broker is still registering with its controller: ask again until the deadline.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the Kafka broker", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the Kafka broker", e);
            }
        }
        throw new IllegalStateException("Kafka broker did not come up within " + STARTUP_TIMEOUT);
    }

    /**
     * @return the {@code bootstrap.servers} value for clients, {@code 127.0.0.1:<port>}
     * @throws IllegalStateException if not started
     */
    public synchronized String bootstrapServers() {
        if (brokerPort == 0) {
            throw new IllegalStateException("broker not started");
        }
        return "127.0.0.1:" + brokerPort;
    }

    /**
     * Creates a topic with one replica and waits until the controller has accepted it.
     *
     * @param name       topic name
     * @param partitions number of partitions, at least 1
     * @param compacted  true for {@code cleanup.policy=compact} (changelog-like topics such as the control topic)
     * @throws IllegalStateException if the broker is not started, or the topic cannot be created within
     *     {@link #ADMIN_TIMEOUT} (including when it already exists)
     */
    public void createTopic(String name, int partitions, boolean compacted) {
        NewTopic topic = new NewTopic(name, partitions, (short) 1);
        if (compacted) {
            topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        }
        try {
            admin().createTopics(List.of(topic)).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        }
    }

    /**
     * @return an admin client for this broker, owned by it (do not close it)
     * @throws IllegalStateException if not started
     */
    public synchronized Admin admin() {
        if (admin == null) {
            throw new IllegalStateException("broker not started");
        }
        return admin;
    }

    /** Stops the broker and deletes its log directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
        if (logDir != null) {
            deleteRecursively(logDir);
            logDir = null;
        }
        brokerPort = 0;
    }

    private static void deleteRecursively(Path root) {
        try {
            Utils.delete(root.toFile()); // Kafka's own recursive delete
        } catch (IOException e) {
            // A leftover temp directory is harmless; failing close() would hide the test's real outcome.
            LOG.warn("could not delete {}: {}", root, e.toString());
        }
    }
}
