package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.e2e.support.CommittedTopicReader;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped distribution as an operator uses it: the {@code mvn package} tar.gz unpacked, its launcher
 * {@code bin/deebert-streams run --config FILE} started as a separate process with only a Java runtime
 * (JAVA_HOME) and the committed model, against the shared broker and registry. Real emails go in; each
 * must come out exactly once (read_committed) with the reference label; SIGTERM must close it cleanly.
 */
@Timeout(300)
class DistributionE2ETest {

    /** System property (set by tests/pom.xml) naming the distribution tar.gz. */
    static final String ARCHIVE_PROPERTY = "deebert.dist.archive";
    /** Events sent through the child process. */
    private static final int EVENTS = 6;
    /** Longest wait for the outputs: JVM start, model load, first rebalance and classification on shared cores. */
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(150);
    /** Longest wait for a clean close after SIGTERM (Streams closes, the consumer group is left). */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();
    private final SchemaRegistryServer registry = SharedInfrastructure.registry();

    @TempDir
    Path tempDir;

    @Test
    void theUnpackedDistributionClassifiesEachEventExactlyOnceAndStopsCleanlyOnSigterm() throws Exception {
        // Given: the distribution unpacked as an operator would, holding no broker jar.
        long t0 = System.nanoTime();
        Path archive = archive();
        List<String> entries = unpack(archive, tempDir.resolve("dist"));
        report("unpacked %d entries of %s", entries.size(), archive.getFileName());
        assertThat(entries).as("entries of %s", archive)
                .noneMatch(name -> name.matches(".*/kafka_2\\.13-[^/]*\\.jar"))
                .noneMatch(name -> name.matches(".*-tests?\\.jar"))
                .anyMatch(name -> name.matches("deebert-streams-[^/]+/lib/deebert-streams-app-[^/]+\\.jar"))
                .anyMatch(name -> name.matches("deebert-streams-[^/]+/config/deebert-streams\\.properties"))
                .anyMatch(name -> name.matches("deebert-streams-[^/]+/config/logback\\.xml"));
        Path home = onlyChild(tempDir.resolve("dist"));
        Path launcher = home.resolve("bin/deebert-streams");
        assertThat(Files.isExecutable(launcher)).as("%s is executable", launcher).isTrue();

        // And: fresh topics (topics.create=false, as in production) and a settings file for them.
        ReferenceEmails references = ReferenceEmails.load();
        String unique = "dist-" + UUID.randomUUID().toString().substring(0, 8);
        TopicNames names = new TopicNames(unique + "-in", unique + "-out", unique + "-control", unique + "-dlq",
                unique + "-telemetry", TopicNames.shadowSamplesTopic(unique));
        broker.createTopic(names.input(), 2, false);
        broker.createTopic(names.output(), 2, false);
        broker.createTopic(names.control(), 1, true);
        broker.createTopic(names.deadLetter(), 1, false);
        broker.createTopic(names.telemetry(), 1, false);
        Path config = writeConfig(unique, names, references.modelDir());

        // When: the launcher runs the service in its own JVM, started from an unrelated working directory.
        Path log = tempDir.resolve("deebert-streams.log");
        long started = System.nanoTime();
        Process process = start(launcher, config, log);
        try (CommittedTopicReader output = new CommittedTopicReader(broker.bootstrapServers(), names.output())) {
            Map<String, Email> byKey = new LinkedHashMap<>();
            for (Email email : references.spread(EVENTS)) {
                byKey.put(email.id(), email);
            }
            Topics topics = Topics.create(names, new ConfluentSchemaRegistryClient(registry.url()));
            produce(topics, names, byKey.values());

            // Then: one committed result per event, none missing, no duplicates, labelled as the reference says.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = awaitOutputs(output, byKey.keySet(), process, log);
            report("%d outputs %.1f s after the launcher started; peak RSS of the service %s",
                    byKey.size(), (System.nanoTime() - started) / 1e9, peakRss(process));
            assertThat(out.keySet()).as("output keys").containsExactlyInAnyOrderElementsOf(byKey.keySet());
            String modelName = new ObjectMapper().readTree(references.modelDir().resolve("model_card.json").toFile())
                    .get("name").asText();
            List<String> excused = new ArrayList<>();
            for (Map.Entry<String, Email> e : byKey.entrySet()) {
                assertThat(out.get(e.getKey())).as("records for %s", e.getKey()).hasSize(1);
                ClassifiedEvent result = topics.output().valueSerde().deserializer()
                        .deserialize(names.output(), out.get(e.getKey()).get(0).value());
                Email email = e.getValue();
                assertThat(result.getId()).isEqualTo(email.id());
                assertThat(result.getText()).isEqualTo(email.text());
                assertThat(result.getModelName()).isEqualTo(modelName);
                assertThat(result.getNumLayers()).isEqualTo(email.numLayers());
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                // The setting each event records: the card's, per predicted label when the card's is label-conditional.
                int expectedLayer = email.exitLayer(result.getThreshold(), result.getLabelThresholds());
                if (result.getExitLayer() != expectedLayer
                        && email.nearBoundary(result.getThreshold(), result.getLabelThresholds())) {
                    excused.add(email.id());
                    continue;
                }
                assertThat(result.getExitLayer()).as("exit layer of %s", email.id()).isEqualTo(expectedLayer);
                assertThat(result.getLabelIndex()).as("label of %s", email.id()).isEqualTo(email.labelIndex(expectedLayer));
            }
            assertThat(excused).as("results at a float-rounding boundary of S").hasSizeLessThanOrEqualTo(1);

            // And: the probes the container recipes and the Kubernetes manifests use answer on the port the
            // service logged (http.port=0: any free port), and /metrics counts the events by exit layer.
            int port = httpPort(log);
            assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);
            assertThat(get(port, "/health/ready").statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = get(port, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("deebert_exits_total{").contains("deebert_events_classified_total");
        } finally {
            // And: SIGTERM (Process.destroy) closes it: exit 0, or 143 when the JVM reports the signal.
            long stopping = System.nanoTime();
            process.destroy();
            boolean exited = process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            report("exit %s %.1f s after SIGTERM; %.1f s since the test started", exited ? process.exitValue() : "(none)",
                    (System.nanoTime() - stopping) / 1e9, (System.nanoTime() - t0) / 1e9);
            if (!exited) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                fail("the service did not exit within " + STOP_TIMEOUT.toSeconds() + " s of SIGTERM; log tail:\n" + tail(log));
            }
        }
        assertThat(process.exitValue()).as("exit code after SIGTERM; log tail:\n%s", tail(log)).isIn(0, 143);
        String logText = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(logText).as("the service's log (config/logback.xml, stdout)").contains("Shutting down");
        assertThat(logText).as("the service's log").doesNotContain(" ERROR ");
    }

    private static final Pattern HTTP_PORT_LINE = Pattern.compile("HTTP endpoint on [^ ]+:(\\d+) ");

    /** @return the HTTP port the service logged at start-up */
    private static int httpPort(Path log) throws IOException {
        Matcher m = HTTP_PORT_LINE.matcher(Files.readString(log, StandardCharsets.UTF_8));
        assertThat(m.find()).as("the service logs its HTTP port; log tail:\n%s", tail(log)).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static Path archive() {
        String property = System.getProperty(ARCHIVE_PROPERTY);
        if (property == null || property.isBlank()) {
            return fail("system property " + ARCHIVE_PROPERTY + " is not set; run the tests through Maven (tests/pom.xml sets it)");
        }
        Path archive = Path.of(property).toAbsolutePath().normalize();
        if (!Files.isRegularFile(archive)) {
            return fail("no distribution at " + archive + "; build it first with `mvn -B package -DskipTests` (or"
                    + " `mvn -B install -DskipTests`) in the repository root");
        }
        return archive;
    }

    /** Unpacks a tar.gz keeping the owner's execute bit; refuses entries that leave {@code target}. */
    private static List<String> unpack(Path archive, Path target) throws IOException {
        List<String> names = new ArrayList<>();
        Files.createDirectories(target);
        try (InputStream file = new BufferedInputStream(Files.newInputStream(archive));
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(file))) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                names.add(entry.getName());
                Path path = target.resolve(entry.getName()).normalize();
                if (!path.startsWith(target)) {
                    throw new IOException("archive entry outside the target directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    continue;
                }
                if (!entry.isFile()) {
                    throw new IOException("unexpected archive entry (not a file or directory): " + entry.getName());
                }
                Files.createDirectories(path.getParent());
                Files.copy(tar, path);
                Set<PosixFilePermission> permissions = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
                if ((entry.getMode() & 0100) != 0) {
                    permissions.add(PosixFilePermission.OWNER_EXECUTE);
                }
                Files.setPosixFilePermissions(path, permissions);
            }
        }
        return names;
    }

    private static Path onlyChild(Path dir) throws IOException {
        try (var children = Files.list(dir)) {
            List<Path> all = children.toList();
            assertThat(all).as("top-level entries of the distribution").hasSize(1);
            return all.get(0);
        }
    }

    private Path writeConfig(String unique, TopicNames names, Path modelDir) throws IOException {
        Properties p = new Properties();
        p.setProperty("application.id", unique);
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", registry.url());
        p.setProperty("topic.input", names.input());
        p.setProperty("topic.output", names.output());
        p.setProperty("topic.control", names.control());
        p.setProperty("topic.dead.letter", names.deadLetter());
        p.setProperty("topic.telemetry", names.telemetry());
        p.setProperty("topics.create", "false");
        p.setProperty("model.dir", modelDir.toAbsolutePath().toString());
        p.setProperty("http.host", "127.0.0.1");
        p.setProperty("http.port", "0");
        p.setProperty("kafka.state.dir", Files.createDirectories(tempDir.resolve("state")).toString());
        Path file = tempDir.resolve("deebert-streams.properties");
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(out, "DistributionE2ETest");
        }
        return file;
    }

    /**
     * Starts the launcher as an operator would: JAVA_HOME = this JVM's runtime, no DEEBERT_* variables
     * from the caller's environment (they would override the file), no OPT_OUT_TRACKING (the launcher
     * must set it), stdout and stderr to {@code log}.
     */
    private Process start(Path launcher, Path config, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "run", "--config", config.toString())
                .directory(Files.createDirectories(tempDir.resolve("cwd")).toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.startsWith("DEEBERT_"));
        env.remove("OPT_OUT_TRACKING");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("JAVA_OPTS", "-Xmx768m -XX:+ExitOnOutOfMemoryError");
        return builder.start();
    }

    private void produce(Topics topics, TopicNames names, Iterable<Email> emails) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (Email email : emails) {
                byte[] value = topics.input().valueSerde().serializer()
                        .serialize(names.input(), RunningClassifier.event(email.id(), email.text()));
                producer.send(new ProducerRecord<>(names.input(), email.id(), value)).get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** Reads the output until every key is there, failing early (with the log) if the service dies. */
    private static Map<String, List<ConsumerRecord<byte[], byte[]>>> awaitOutputs(CommittedTopicReader output,
            Set<String> keys, Process process, Path log) throws IOException {
        long deadline = System.nanoTime() + OUTPUT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("the service exited with " + process.exitValue() + " before all outputs arrived; log tail:\n" + tail(log));
            }
            // Each call reads for about a second and returns everything seen so far.
            if (output.readAvailable().keySet().containsAll(keys)) {
                // One more read, so that a duplicate committed just after the last key would be seen too.
                return output.readAvailable();
            }
        }
        return fail("not every event came out within " + OUTPUT_TIMEOUT.toSeconds() + " s; log tail:\n" + tail(log));
    }

    /** Progress on stdout (surefire shows it): where the time goes on a shared machine. */
    private static void report(String format, Object... args) {
        System.out.println("DistributionE2ETest: " + String.format(format, args));
    }

    /** @return the process's peak resident set (Linux VmHWM: the launcher exec'd the JVM, same pid), or "n/a" */
    private static String peakRss(Process process) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return line.substring("VmHWM:".length()).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or the process is gone: the number is informative only.
        }
        return "n/a";
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
