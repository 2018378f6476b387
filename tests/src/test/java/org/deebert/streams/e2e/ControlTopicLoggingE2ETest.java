package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the service logs about undecodable control records, on the real parts: the service as a separate
 * process with its own {@code logback.xml} (as production runs it), a real broker and the real registry.
 * The control topic is read by Kafka Streams' global thread while the service runs, and read again from the
 * beginning into the in-memory global store at every start (restoration); both paths must give one ERROR
 * line per undecodable record (topic, partition, offset, reason) and no stack trace.
 */
@Timeout(900)
class ControlTopicLoggingE2ETest {

    /** Longest wait for a service process to read the control topic (it loads the model first, on shared cores). */
    private static final Duration WAIT = Duration.ofSeconds(300);
    private static final String HANDLER_LINE = "Undecodable control record skipped";

    @TempDir
    Path tempDir;

    @Test
    void eachUndecodableControlRecordIsOneErrorLineWithoutStackTraceAtRunTimeAndAgainOnlyOnceAfterARestart()
            throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        String modelName = new ObjectMapper().readTree(references.modelDir().resolve("model_card.json").toFile())
                .get("name").asText();
        try (ServiceTopics topics = new ServiceTopics("ctl-log", SharedInfrastructure.broker(), SharedInfrastructure.registry(),
                1, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(topics.serviceSettings(
                    Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.put("metrics.log.interval.ms", "500"); // its "state RUNNING" line tells when the service runs
            Topics serdes = Topics.create(topics.names(), new ConfluentSchemaRegistryClient(SharedInfrastructure.registry().url()));
            String control = topics.names().control();
            byte[] valid = serdes.control().valueSerde().serializer().serialize(control, ThresholdControl.newBuilder()
                    .setThreshold(0.2).setPolicy(ExitPolicyName.ENTROPY).setModelName(modelName)
                    .setChangedBy("e2e-test").setReason("after the undecodable records").setChangedAt(Instant.now()).build());
            // Offsets 0, 1, 2: one record per reason; keys other than the model's, so that compaction keeps them.
            List<byte[]> undecodable = List.of(
                    "plain bytes, no registry frame".getBytes(StandardCharsets.UTF_8),
                    ByteBuffer.allocate(9).put((byte) 0).putInt(1_999_999_999).putInt(0).array(),
                    Arrays.copyOf(valid, 6));
            List<String> reasons = List.of("NOT_WIRE_FORMAT", "UNKNOWN_SCHEMA_ID", "UNDECODABLE_AVRO");

            // Given: a running service that reads the undecodable records, then a valid one, from the control topic.
            Path firstLog;
            try (ServiceProcess run1 = ServiceProcess.start("run1", settings, tempDir, "768m")) {
                awaitLogLine(run1, "state RUNNING "); // so the global thread reads them as they arrive
                try (KafkaProducer<String, byte[]> producer = producer()) {
                    for (int i = 0; i < undecodable.size(); i++) {
                        producer.send(new ProducerRecord<>(control, "not-a-model-" + i, undecodable.get(i))).get(60, TimeUnit.SECONDS);
                    }
                    producer.send(new ProducerRecord<>(control, modelName, valid)).get(60, TimeUnit.SECONDS);
                }
                // The valid record comes after the undecodable ones in the one partition: once it is applied, all were read.
                awaitLogLine(run1, "Exit setting for model " + modelName);
                run1.terminate();
                firstLog = run1.log();
            }

            // When: the service restarts, so its global store is restored from the control topic's beginning.
            Path secondLog;
            try (ServiceProcess run2 = ServiceProcess.start("run2", settings, tempDir, "768m")) {
                awaitLogLine(run2, "Exit setting for model " + modelName);
                run2.terminate();
                secondLog = run2.log();
            }

            // Then: in each run, one ERROR line per undecodable record, with its position and reason, and no stack trace.
            for (Path log : List.of(firstLog, secondLog)) {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                List<String> handler = lines.stream().filter(l -> l.contains(HANDLER_LINE)).toList();
                System.out.printf("ControlTopicLoggingE2ETest: %s: %d lines, %d \"%s\" lines, %d stack-trace lines%n",
                        log.getFileName(), lines.size(), handler.size(), HANDLER_LINE, stackTraceLines(lines));
                assertThat(handler).as("one line per undecodable record in %s", log).hasSize(undecodable.size());
                for (int offset = 0; offset < undecodable.size(); offset++) {
                    int o = offset;
                    assertThat(handler).as("the line of offset %d in %s", o, log).filteredOn(l -> l.contains(" ERROR ")
                            && l.contains("topic " + control + " partition 0 offset " + o + ": " + reasons.get(o))).hasSize(1);
                }
                assertThat(lines).as("Kafka Streams' own line per skipped record in %s", log)
                        .noneMatch(l -> l.contains("Skipping record due to deserialization error"));
                assertThat(stackTraceLines(lines)).as("stack-trace lines in %s", log).isZero();
            }
        }
    }

    private static long stackTraceLines(List<String> lines) {
        return lines.stream().filter(l -> l.startsWith("\tat ") || l.startsWith("Caused by: ")
                || l.startsWith("org.deebert.streams.registry.WireFormatException")).count();
    }

    private static KafkaProducer<String, byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfrastructure.broker().bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** Waits until a line of the process's log contains {@code text}. */
    private static void awaitLogLine(ServiceProcess service, String text) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!service.isAlive()) {
                fail("the service exited; " + service.describe());
            }
            if (Files.readAllLines(service.log(), StandardCharsets.UTF_8).stream().anyMatch(l -> l.contains(text))) {
                return;
            }
            Thread.sleep(200);
        }
        fail("no log line containing \"" + text + "\" within " + WAIT.toSeconds() + " s; " + service.describe()
                + "\n" + service.logTail(40));
    }
}
