package org.deebert.streams.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The service as production runs it: a separate JVM started with
 * {@code java -cp <service classpath> org.deebert.streams.app.Cli run --config FILE}, so that tests can
 * kill it with SIGKILL (nothing in the JVM runs: no shutdown hook, no commit, no leave-group) or stop it
 * with SIGTERM (the shutdown hook closes Kafka Streams cleanly). Its stdout and stderr go to a log file
 * that failure messages name.
 *
 * <p>The classpath is {@code streams-app/target/classes} plus {@code streams-app/target/classpath.txt},
 * which {@code mvn package} writes (CI runs {@code mvn install -DskipTests} before {@code mvn test}).
 */
public final class ServiceProcess implements AutoCloseable {

    /** Main class of the service. */
    public static final String MAIN_CLASS = "org.deebert.streams.app.Cli";
    /** How long {@link #terminate()} waits for the JVM to exit after SIGTERM. */
    public static final Duration TERMINATE_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final Process process;
    private final Path log;
    private final long startedNanos;

    private ServiceProcess(String name, Process process, Path log, long startedNanos) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.startedNanos = startedNanos;
    }

    /**
     * Writes {@code settings} to {@code <dir>/<name>.properties} and starts {@code run --config} on it.
     *
     * @param name     names the settings file, the log file and failure messages
     * @param settings the service's settings (keys of deebert-streams.properties; unset keys keep their defaults)
     * @param dir      where the settings and the log go
     * @param maxHeap  the JVM's -Xmx, e.g. {@code 768m} (the model's weights live off-heap in TensorFlow)
     * @return the started process (not yet RUNNING: wait for its output)
     * @throws IllegalStateException if the service's classpath is not built
     */
    public static ServiceProcess start(String name, Map<String, String> settings, Path dir, String maxHeap) {
        Path config = dir.resolve(name + ".properties");
        Path log = dir.resolve(name + ".log");
        Properties p = new Properties();
        p.putAll(settings);
        try (Writer out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            p.store(out, "settings of service process " + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + maxHeap);
        // As the container images and Kubernetes manifests run it: an OutOfMemoryError ends the process.
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-cp");
        command.add(classpath());
        command.add(MAIN_CLASS);
        command.addAll(List.of("run", "--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(SharedInfrastructure.repoRoot().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // As deploy/*.sh run it: no DJL telemetry call-home, no TensorFlow info chatter.
        builder.environment().put("OPT_OUT_TRACKING", "true");
        builder.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
        long started = System.nanoTime();
        try {
            return new ServiceProcess(name, builder.start(), log, started);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start service process " + name, e);
        }
    }

    /**
     * @return {@code streams-app/target/classes} and the jars listed in {@code streams-app/target/classpath.txt}
     * @throws IllegalStateException if either is missing (the message says how to build them)
     */
    public static String classpath() {
        Path target = SharedInfrastructure.repoRoot().resolve("streams-app/target");
        Path classes = target.resolve("classes");
        Path listed = target.resolve("classpath.txt");
        if (!Files.isDirectory(classes) || !Files.isRegularFile(listed)) {
            throw new IllegalStateException("the service's classpath is not built (" + listed + " is missing); run"
                    + " `mvn -B package -DskipTests` (or `mvn install -DskipTests`) in the repository root first");
        }
        try {
            return classes + java.io.File.pathSeparator + Files.readString(listed, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return System.nanoTime() just before the process was started */
    public long startedNanos() {
        return startedNanos;
    }

    /** @return the operating system's process id */
    public long pid() {
        return process.pid();
    }

    /** @return whether the process is still running */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return the file holding the process's stdout and stderr */
    public Path log() {
        return log;
    }

    /**
     * @return "service NAME (pid, log FILE)" for failure messages, plus the log's last lines and the exit
     *     code once the process has ended (the log lives in a temporary directory JUnit deletes)
     */
    public String describe() {
        String s = "service " + name + " (pid " + process.pid() + ", log " + log + ")";
        return process.isAlive() ? s : s + " exited with " + process.exitValue() + "; last log lines:\n" + logTail(40);
    }

    /**
     * @param lines how many lines
     * @return the last lines of the process's log (empty if it cannot be read)
     */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /**
     * SIGKILL (on Linux {@link Process#destroyForcibly()} sends it): the JVM stops at once, with an open
     * transaction and without leaving its consumer group. Waits (bounded) until the process is gone.
     */
    public void kill9() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /**
     * SIGTERM (on Linux {@link Process#destroy()} sends it): the service's shutdown hook closes Kafka
     * Streams, which commits and leaves the group.
     *
     * @return the exit code
     * @throws IllegalStateException if the process has not exited within {@link #TERMINATE_TIMEOUT}
     *     (it is then killed)
     */
    public int terminate() {
        process.destroy();
        if (!awaitExit(TERMINATE_TIMEOUT)) {
            process.destroyForcibly();
            throw new IllegalStateException(describe() + " did not exit within " + TERMINATE_TIMEOUT.toSeconds()
                    + " s of SIGTERM; killed it");
        }
        return process.exitValue();
    }

    /**
     * Waits (bounded) for the process to end on its own.
     *
     * @param timeout how long to wait
     * @return its exit code, or empty if it still runs after {@code timeout}
     */
    public java.util.OptionalInt awaitExitCode(Duration timeout) {
        return awaitExit(timeout) ? java.util.OptionalInt.of(process.exitValue()) : java.util.OptionalInt.empty();
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + describe(), e);
        }
    }

    /** Kills the process if it still runs (a test that failed half-way must not leave it behind). */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill9();
        }
    }
}
