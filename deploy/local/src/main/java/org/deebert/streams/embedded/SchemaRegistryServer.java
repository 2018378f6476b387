package org.deebert.streams.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible Schema Registry (Apicurio Registry 2.4, in-memory storage) running as a child
 * JVM on 127.0.0.1, for the local demo and the end-to-end tests. It runs the Quarkus app built by
 * {@code mvn -pl deploy/schema-registry package}. Everything registered is lost when it stops. Like a
 * Confluent Schema Registry, it rejects a schema that is not BACKWARD compatible with the subject's
 * latest version (HTTP 409).
 *
 * <pre>{@code
 * try (SchemaRegistryServer registry = new SchemaRegistryServer(repoRoot)) {
 *     registry.start();
 *     var client = new ConfluentSchemaRegistryClient(registry.url());
 * }
 * }</pre>
 */
public final class SchemaRegistryServer implements AutoCloseable {

    /** How long {@link #start()} waits for the registry to answer. Cold JVM start is 2-5 s, slower on busy hosts. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);
    private static final Path MODULE = Path.of("deploy", "schema-registry");

    private final Path runnerJar;
    private final Path logDir;
    private Path logFile;
    private Process process;
    private Thread shutdownHook;
    private int port;

    /**
     * @param repoRootOrJar the repository root (the runner jar is looked up under
     *     {@code deploy/schema-registry/target}) or the runner jar itself
     * @throws IllegalStateException if no runner jar is there, telling how to build it
     */
    public SchemaRegistryServer(Path repoRootOrJar) {
        this.runnerJar = Files.isRegularFile(repoRootOrJar) ? repoRootOrJar : locateRunnerJar(repoRootOrJar);
        this.logDir = runnerJar.toAbsolutePath().getParent();
    }

    /**
     * Finds the registry app built by {@code deploy/schema-registry}: Quarkus' fast-jar layout
     * ({@code target/quarkus-app/quarkus-run.jar}) or a legacy/uber {@code target/*-runner.jar}.
     *
     * @param repoRoot the repository root
     * @return the jar to run with {@code java -jar}
     * @throws IllegalStateException if neither exists
     */
    public static Path locateRunnerJar(Path repoRoot) {
        Path target = repoRoot.resolve(MODULE).resolve("target");
        Path fastJar = target.resolve("quarkus-app").resolve("quarkus-run.jar");
        if (Files.isRegularFile(fastJar)) {
            return fastJar;
        }
        if (Files.isDirectory(target)) {
            try (Stream<Path> files = Files.list(target)) {
                Optional<Path> runner = files.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst();
                if (runner.isPresent()) {
                    return runner.get();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + target, e);
            }
        }
        throw new IllegalStateException("Schema Registry app not built: no " + fastJar + " and no *-runner.jar in "
                + target + ". Build it once with: mvn -pl deploy/schema-registry package -DskipTests");
    }

    /**
     * Starts the registry on a free loopback port and waits until its Confluent API answers.
     *
     * @return this
     * @throws IllegalStateException if it is already started, exits early, or does not answer within
     *     {@link #STARTUP_TIMEOUT} (the message names the log file)
     * @throws UncheckedIOException if the child process cannot be launched
     */
    public synchronized SchemaRegistryServer start() {
        if (process != null) {
            throw new IllegalStateException("schema registry already started on port " + port);
        }
        return launch(FreePorts.next());
    }

    /**
     * Stops the registry and starts a new one on the same port. Its storage is in memory, so the new one has
     * forgotten every schema and assigns ids from the start again: what a registry restored from an old
     * backup or migrated does to its clients.
     *
     * @return this
     * @throws IllegalStateException if it was not started, or the new one does not become ready
     */
    public synchronized SchemaRegistryServer restartEmpty() {
        if (process == null) {
            throw new IllegalStateException("schema registry not started");
        }
        int samePort = port;
        stopProcess();
        return launch(samePort);
    }

    private SchemaRegistryServer launch(int chosenPort) {
        port = chosenPort;
        // One file per port: several test JVMs may run registries from the same build at once.
        logFile = logDir.resolve("schema-registry-" + port + ".log");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m",
                // Apicurio's default is NONE; Confluent Schema Registry's is BACKWARD, and the service relies on it.
                "-Dregistry.rules.global.compatibility=BACKWARD",
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.http.port=" + port,
                "-jar", runnerJar.toAbsolutePath().toString());
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + runnerJar, e);
        }
        // Without the hook an aborted test JVM would leave an orphaned registry holding the port.
        Process child = process;
        shutdownHook = new Thread(child::destroy, "schema-registry-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        awaitReady();
        LOG.info("schema registry ready at {} (log: {})", url(), logFile);
        return this;
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(url() + "/subjects"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                int exit = process.exitValue();
                stopProcess();
                throw new IllegalStateException("schema registry exited with status " + exit + " during startup; see " + logFile);
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet: keep polling until the deadline.
            } catch (InterruptedException e) {
                interrupted(e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                interrupted(e);
            }
        }
        stopProcess();
        throw new IllegalStateException("schema registry did not answer within " + STARTUP_TIMEOUT + "; see " + logFile);
    }

    private void interrupted(InterruptedException e) {
        Thread.currentThread().interrupt();
        stopProcess();
        throw new IllegalStateException("interrupted while waiting for the schema registry", e);
    }

    /**
     * @return the Confluent-compatible API root, {@code http://127.0.0.1:<port>/apis/ccompat/v7}
     * @throws IllegalStateException if not started
     */
    public synchronized String url() {
        return baseUrl() + "/apis/ccompat/v7";
    }

    /**
     * @return Apicurio's own API root, {@code http://127.0.0.1:<port>/apis/registry/v2} (for Apicurio's serdes)
     * @throws IllegalStateException if not started
     */
    public synchronized String apicurioApiUrl() {
        return baseUrl() + "/apis/registry/v2";
    }

    /** @return the file the registry's stdout and stderr go to ({@code schema-registry-<port>.log} beside the jar); null before {@link #start()} */
    public synchronized Path logFile() {
        return logFile;
    }

    private String baseUrl() {
        if (process == null) {
            throw new IllegalStateException("schema registry not started");
        }
        return "http://127.0.0.1:" + port;
    }

    /** Stops the registry (SIGTERM, then a kill after 10 s). Idempotent. */
    @Override
    public synchronized void close() {
        stopProcess();
    }

    private void stopProcess() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running or has run, nothing to remove.
        }
        process = null;
        shutdownHook = null;
    }
}
