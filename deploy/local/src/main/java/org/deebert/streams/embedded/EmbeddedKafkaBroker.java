package org.deebert.streams.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
 *
 * <p>By default the client listener is PLAINTEXT and nothing is authorized. {@link #EmbeddedKafkaBroker(Map, SaslSsl)}
 * gives a secured broker instead: see {@link SaslSsl}.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** How long {@link #start()} waits for the broker to report itself in the cluster metadata. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /**
     * {@code min.compaction.lag.ms} of the compacted topics {@link #createTopic} makes, 7 days: the service's
     * default {@code topic.control.min.compaction.lag.ms}, so a local control topic keeps its history as a
     * service-created one does.
     */
    public static final long COMPACTED_MIN_LAG_MS = 604_800_000L;

    /** How long admin operations such as {@link #createTopic} wait for the controller. */
    public static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    /**
     * A secured client listener: SASL_SSL with SCRAM-SHA-512 only, TLS from the given PKCS12 stores,
     * ACLs enforced by KRaft's {@code StandardAuthorizer} (no ACL = denied), and {@code superUser} as the
     * only super user (the broker's own inter-broker connections and {@link #admin()} use it).
     * {@code users} and the super user get SCRAM credentials at storage-format time, so they can log in
     * from the broker's first second (no wait for credentials created through the admin API to arrive).
     * The controller listener, which only this broker itself uses, is SASL_PLAINTEXT with PLAIN and
     * the super user's static credentials: KRaft controllers cannot authenticate SCRAM.
     *
     * <p>The keystore's certificate must name {@code 127.0.0.1} (IP subject alternative name): clients
     * keep hostname verification on.
     *
     * @param keyStore          PKCS12 keystore with the broker's key and certificate
     * @param trustStore        PKCS12 truststore that trusts that certificate (clients and the broker use it)
     * @param storePassword     password of both stores and of the key
     * @param superUser         SCRAM user name of the super user, e.g. {@code admin}
     * @param superUserPassword its password
     * @param users             other SCRAM users, name to password; ACLs decide what they may do
     */
    public record SaslSsl(Path keyStore, Path trustStore, String storePassword, String superUser, String superUserPassword,
            Map<String, String> users) {

        /** The only SASL mechanism the secured listener enables. */
        public static final String MECHANISM = "SCRAM-SHA-512";

        /** Copies {@code users}. */
        public SaslSsl {
            users = Map.copyOf(users);
        }

        /**
         * Client settings that log in as one user over SASL_SSL (what the service reads from its
         * {@code security.protocol}, {@code sasl.*} and {@code ssl.*} settings).
         *
         * @param user     a SCRAM user
         * @param password its password
         * @return security.protocol, sasl.mechanism, sasl.jaas.config and the truststore settings
         */
        public Map<String, String> clientSettings(String user, String password) {
            Map<String, String> c = new LinkedHashMap<>();
            c.put("security.protocol", "SASL_SSL");
            c.put("sasl.mechanism", MECHANISM);
            c.put("sasl.jaas.config", jaas("org.apache.kafka.common.security.scram.ScramLoginModule", user, password, ""));
            c.put("ssl.truststore.type", "PKCS12");
            c.put("ssl.truststore.location", trustStore.toString());
            c.put("ssl.truststore.password", storePassword);
            return c;
        }

        private static String jaas(String module, String user, String password, String extra) {
            return module + " required username=\"" + user + "\" password=\"" + password + "\"" + extra + ";";
        }
    }

    private final Map<String, String> overrides;
    private final SaslSsl security;
    private Path logDir;
    private KafkaRaftServer server;
    private Admin admin;
    private int brokerPort;
    /** The configuration the running server was started with; {@link #restart} starts the new one with it. */
    private Properties serverProperties;

    /** A broker with the default settings described in the class comment. */
    public EmbeddedKafkaBroker() {
        this(Map.of());
    }

    /**
     * @param overrides broker settings applied on top of the defaults (e.g. {@code auto.create.topics.enable});
     *     listener and directory settings are chosen by this class and should not be overridden
     */
    public EmbeddedKafkaBroker(Map<String, String> overrides) {
        this(overrides, null);
    }

    /**
     * @param overrides broker settings applied on top of the defaults, as for {@link #EmbeddedKafkaBroker(Map)}
     * @param security  a SASL_SSL client listener with ACLs (see {@link SaslSsl}), or null for PLAINTEXT
     */
    public EmbeddedKafkaBroker(Map<String, String> overrides, SaslSsl security) {
        this.overrides = Map.copyOf(overrides);
        this.security = security;
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
            serverProperties = props;
            startServer();
            Map<String, Object> adminConfig = new HashMap<>();
            adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            if (security != null) {
                adminConfig.putAll(security.clientSettings(security.superUser(), security.superUserPassword()));
            }
            admin = Admin.create(adminConfig);
            awaitBrokerRegistered();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("Kafka broker started at {} (log dir {})", bootstrapServers(), logDir);
        return this;
    }

    private void startServer() {
        server = new KafkaRaftServer(KafkaConfig.fromProps(serverProperties, false), Time.SYSTEM);
        server.startup();
    }

    /**
     * Stops the broker cleanly, waits {@code downtime} with no broker listening, and starts a new broker
     * process (a new {@link KafkaRaftServer} in this JVM) with the same configuration, as an operator's
     * rolling restart of a one-node cluster does. It keeps:
     * <ul>
     *   <li>the log directory, unformatted again: the cluster id, the metadata log (topics, their ids and
     *       configs, SCRAM credentials, ACLs) and every partition's records, committed offsets and
     *       transaction state;</li>
     *   <li>the client and controller listener ports, so {@link #bootstrapServers()} and clients created
     *       before the restart stay valid (they reconnect on their own);</li>
     *   <li>the {@link #admin()} client, which reconnects too.</li>
     * </ul>
     * Returns once the new broker serves metadata, like {@link #start()}.
     *
     * @param downtime how long to wait between the old broker's end and the new one's start (zero for none);
     *     clients see connection refused in that time
     * @return this
     * @throws IllegalStateException if not started, or the new broker is not up within {@link #STARTUP_TIMEOUT}
     *     (then everything is closed as by {@link #close()})
     */
    public synchronized EmbeddedKafkaBroker restart(Duration downtime) {
        if (server == null) {
            throw new IllegalStateException("broker not started");
        }
        server.shutdown();
        server.awaitShutdown();
        server = null;
        LOG.info("Kafka broker at {} stopped for a restart; down for {}", bootstrapServers(), downtime);
        try {
            Thread.sleep(downtime.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while the Kafka broker was down for a restart", e);
        }
        try {
            startServer();
            awaitBrokerRegistered();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("Kafka broker restarted at {} (log dir {})", bootstrapServers(), logDir);
        return this;
    }

    /**
     * {@link #restart(Duration)} without downtime.
     *
     * @return this
     */
    public EmbeddedKafkaBroker restart() {
        return restart(Duration.ZERO);
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
        if (security != null) {
            secure(p, controllerPort);
        }
        p.putAll(overrides);
        return p;
    }

    /** Replaces the PLAINTEXT listeners by the secured ones described in {@link SaslSsl}. */
    private void secure(Properties p, int controllerPort) {
        String listener = "SASL_SSL";
        String prefix = "listener.name." + listener.toLowerCase(Locale.ROOT) + ".";
        String controllerPrefix = "listener.name." + CONTROLLER_LISTENER.toLowerCase(Locale.ROOT) + ".";
        p.put("listeners", listener + "://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", listener + "://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", listener + ":SASL_SSL," + CONTROLLER_LISTENER + ":SASL_PLAINTEXT");
        p.put("inter.broker.listener.name", listener);
        p.put("sasl.mechanism.inter.broker.protocol", SaslSsl.MECHANISM);
        p.put(prefix + "sasl.enabled.mechanisms", SaslSsl.MECHANISM);
        // The broker's own client side of the inter-broker listener (e.g. transaction markers it sends itself).
        p.put(prefix + SaslSsl.MECHANISM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
                SaslSsl.jaas("org.apache.kafka.common.security.scram.ScramLoginModule", security.superUser(),
                        security.superUserPassword(), ""));
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.location", security.keyStore().toString());
        p.put("ssl.keystore.password", security.storePassword());
        p.put("ssl.key.password", security.storePassword());
        p.put("ssl.truststore.type", "PKCS12");
        p.put("ssl.truststore.location", security.trustStore().toString());
        p.put("ssl.truststore.password", security.storePassword());
        // Controller listener: PLAIN with one static user (the super user), for this node's broker side only.
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put(controllerPrefix + "sasl.enabled.mechanisms", "PLAIN");
        p.put(controllerPrefix + "plain.sasl.jaas.config", SaslSsl.jaas("org.apache.kafka.common.security.plain.PlainLoginModule",
                security.superUser(), security.superUserPassword(),
                " user_" + security.superUser() + "=\"" + security.superUserPassword() + "\""));
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + security.superUser());
        p.put("allow.everyone.if.no.acl.found", "false");
    }

    /** {@code --add-scram} arguments of kafka-storage format: every user's SCRAM-SHA-512 credential. */
    private List<String> scramArguments() {
        List<String> args = new ArrayList<>();
        if (security == null) {
            return args;
        }
        Map<String, String> all = new LinkedHashMap<>();
        all.put(security.superUser(), security.superUserPassword());
        all.putAll(security.users());
        all.forEach((user, password) -> args.add(SaslSsl.MECHANISM + "=[name=" + user + ",password=" + password + "]"));
        return args;
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
                    .setScramArguments(scramArguments())
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

    /** @return the security settings of a secured broker, or null for a PLAINTEXT one */
    public SaslSsl security() {
        return security;
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
     * @param compacted  true for {@code cleanup.policy=compact} with {@code min.compaction.lag.ms} of
     *                   {@link #COMPACTED_MIN_LAG_MS} (the control topic, created as the service creates it)
     * @throws IllegalStateException if the broker is not started, or the topic cannot be created within
     *     {@link #ADMIN_TIMEOUT} (including when it already exists)
     */
    public void createTopic(String name, int partitions, boolean compacted) {
        NewTopic topic = new NewTopic(name, partitions, (short) 1);
        if (compacted) {
            topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(COMPACTED_MIN_LAG_MS)));
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
     * @return an admin client for this broker, owned by it (do not close it); on a secured broker it is
     *     logged in as the super user (create ACLs with it)
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
        serverProperties = null;
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
