package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker restart while the service classifies: the (one-node) cluster is stopped cleanly mid-stream, stays
 * down for {@link #DOWNTIME} so the service's clients really lose it (open transaction, fetches and commits
 * failing with connection refused), and comes back on the same ports and log directory
 * ({@link EmbeddedKafkaBroker#restart(Duration)}). The service must ride it out without exiting (Kafka
 * Streams retries; the topic watch treats an unreachable cluster as not fatal), and under exactly_once_v2
 * every input id must appear exactly once on the output topic, read with read_committed.
 *
 * <p>The test has its own broker: restarting the shared one would cut off the other tests in this JVM.
 */
@Timeout(900)
class BrokerRestartE2ETest {

    private static final int EVENTS = 300;
    private static final int BEFORE_RESTART = 150;
    private static final int INPUT_PARTITIONS = 2;
    /** Committed outputs before the restart: the service is really classifying when the broker goes. */
    private static final int OUTPUT_BEFORE_RESTART = 20;
    private static final Duration DOWNTIME = Duration.ofSeconds(5);
    /** JVM start, TensorFlow and model load and the first join on two shared cores. */
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(300);
    /** From the broker's return until every id is on the output topic. */
    private static final Duration AFTER_RESTART_TIMEOUT = Duration.ofSeconds(180);

    @TempDir
    Path tempDir;

    @Test
    void aBrokerRestartMidStreamLosesAndDuplicatesNothingAndTheServiceSurvives() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        Map<String, TextEvent> events = new LinkedHashMap<>();
        for (Email e : references.spread(EVENTS)) {
            events.put(e.id(), RunningClassifier.event(e.id(), e.text()));
        }
        assertThat(events).as("distinct ids").hasSize(EVENTS);
        List<TextEvent> all = List.copyOf(events.values());

        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker().start();
                ServiceTopics topics = new ServiceTopics("broker-restart", broker, SharedInfrastructure.registry(),
                        INPUT_PARTITIONS, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(topics.serviceSettings(
                    Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.put("processing.guarantee", "exactly_once_v2");
            settings.put("metrics.log.interval.ms", "5000");
            try (ServiceProcess service = ServiceProcess.start("service", settings, tempDir, "768m")) {
                // Given: the service is classifying the first half of the emails.
                topics.produce(all.subList(0, BEFORE_RESTART));
                int committedAtStop = awaitOutputs(topics, service);

                // When: the broker stops cleanly, stays down, and comes back on the same ports and log directory.
                Map<TopicPartition, Long> endAtStop = endOffsets(broker, topics.names().output());
                long restartStarted = System.nanoTime();
                broker.restart(DOWNTIME);
                long restarted = System.nanoTime();
                assertThat(service.isAlive()).as("%s survives the broker's downtime", service.describe()).isTrue();
                topics.produce(all.subList(BEFORE_RESTART, EVENTS));

                // Then: output resumes, every id comes out exactly once, nothing is dead-lettered, the service runs on.
                long firstNew = awaitRecordFrom(broker, endAtStop, service);
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out =
                        topics.output().awaitKeys(events.keySet(), AFTER_RESTART_TIMEOUT);
                long complete = System.nanoTime();
                long lost = events.keySet().stream().filter(k -> !out.containsKey(k)).count();
                long duplicated = out.values().stream().mapToLong(r -> r.size() - 1L).sum();
                int deadLetters = topics.deadLetters().readAvailable().size();
                // Evidence that the service's clients really lost the broker (Kafka's NetworkClient warnings).
                long refused;
                try (var lines = Files.lines(service.log())) {
                    refused = lines.filter(l -> l.contains("could not be established")).count();
                }
                System.out.printf("BrokerRestartE2ETest: %d events, %d committed outputs when the broker stopped, down %.1f s"
                        + " (%d failed connection attempts in the service's log); restart-to-first-new-output %.1f s,"
                        + " restart-to-all %.1f s; %d lost, %d duplicated, %d unexpected keys, %d dead letters%n", EVENTS,
                        committedAtStop, (restarted - restartStarted) / 1e9, refused, (firstNew - restarted) / 1e9,
                        (complete - restarted) / 1e9, lost, duplicated,
                        out.keySet().stream().filter(k -> !events.containsKey(k)).count(), deadLetters);

                assertThat(service.isAlive()).as("%s survives the broker restart", service.describe()).isTrue();
                assertThat(out.keySet()).as("output keys").containsExactlyInAnyOrderElementsOf(events.keySet());
                for (Map.Entry<String, List<ConsumerRecord<byte[], byte[]>>> e : out.entrySet()) {
                    assertThat(e.getValue()).as("committed output records for %s", e.getKey()).hasSize(1);
                    assertThat(topics.decode(e.getValue().get(0).value()).getId()).isEqualTo(e.getKey());
                }
                assertThat(deadLetters).as("dead letters").isZero();
                service.terminate();
            }
        }
    }

    private static int awaitOutputs(ServiceTopics topics, ServiceProcess service) {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            assertThat(service.isAlive()).as("%s is alive", service.describe()).isTrue();
            seen = topics.output().readAvailable().size();
            if (seen >= OUTPUT_BEFORE_RESTART) {
                return seen;
            }
        }
        return fail("only " + seen + " committed outputs within " + STARTUP_TIMEOUT.toSeconds() + " s; see "
                + service.describe());
    }

    /** @return the output topic's log end offsets now: records at or past them are written later */
    private static Map<TopicPartition, Long> endOffsets(EmbeddedKafkaBroker broker, String topic) throws Exception {
        List<TopicPartition> partitions = broker.admin().describeTopics(List.of(topic)).allTopicNames().get()
                .get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        return broker.admin().listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                .all().get().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /**
     * @return System.nanoTime() when a committed output record written after {@code from} (the end offsets when
     *     the broker stopped) was first read
     */
    private static long awaitRecordFrom(EmbeddedKafkaBroker broker, Map<TopicPartition, Long> from, ServiceProcess service) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(from.keySet());
            from.forEach(consumer::seek);
            long deadline = System.nanoTime() + AFTER_RESTART_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    return System.nanoTime();
                }
            }
        }
        return fail("no new committed output within " + AFTER_RESTART_TIMEOUT.toSeconds() + " s of the broker's restart; see "
                + service.describe());
    }
}
