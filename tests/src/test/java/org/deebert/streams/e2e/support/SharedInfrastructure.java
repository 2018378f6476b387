package org.deebert.streams.e2e.support;

import java.nio.file.Path;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;

/**
 * One Kafka broker and one Schema Registry per test JVM, shared by all end-to-end tests. Each is
 * started on first use (a broker start costs seconds, a registry start several) and stopped by a JVM
 * shutdown hook. Tests sharing them must use unique topic names, subjects and application ids.
 */
public final class SharedInfrastructure {

    /** System property (set by tests/pom.xml) holding the repository root. */
    public static final String REPO_ROOT_PROPERTY = "deebert.repo.root";

    private static EmbeddedKafkaBroker broker;
    private static SchemaRegistryServer registry;

    private SharedInfrastructure() {
    }

    /**
     * @return the repository root, from the {@value #REPO_ROOT_PROPERTY} system property
     * @throws IllegalStateException if the property is not set (tests run outside Maven must pass it)
     */
    public static Path repoRoot() {
        String root = System.getProperty(REPO_ROOT_PROPERTY);
        if (root == null || root.isBlank()) {
            throw new IllegalStateException("system property " + REPO_ROOT_PROPERTY
                    + " is not set; run the tests through Maven or pass -D" + REPO_ROOT_PROPERTY + "=<repo>");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /**
     * @return the shared, started broker
     * @throws IllegalStateException if it cannot start
     */
    public static synchronized EmbeddedKafkaBroker broker() {
        if (broker == null) {
            EmbeddedKafkaBroker started = new EmbeddedKafkaBroker().start();
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "shared-kafka-broker-shutdown"));
            broker = started;
        }
        return broker;
    }

    /**
     * @return the shared, started Schema Registry
     * @throws IllegalStateException if its app is not built (the message says how to build it) or it
     *     cannot start
     */
    public static synchronized SchemaRegistryServer registry() {
        if (registry == null) {
            SchemaRegistryServer started = new SchemaRegistryServer(repoRoot()).start();
            // SchemaRegistryServer registers its own hook to kill the child; this one also removes it cleanly.
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "shared-schema-registry-shutdown"));
            registry = started;
        }
        return registry;
    }
}
