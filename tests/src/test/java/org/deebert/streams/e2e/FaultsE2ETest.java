package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.topology.InFlightJournal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the packaged service, run as production runs it: a separate JVM with the
 * heap the container image and Kubernetes manifests give it ({@value #SHIPPED_HEAP}, 25 % of a 2 GiB pod) and
 * {@code -XX:+ExitOnOutOfMemoryError}.
 * <ol>
 *   <li>Tiny records whose Avro body claims a huge string length or map block count would exhaust that heap
 *       and kill the JVM (exit code 3), and every restart would meet the same record again. Each must now go to the
 *       dead-letter topic as {@code LENGTH_EXCEEDS_RECORD}, byte-identical, while the good events around them are
 *       classified and the process keeps running.</li>
 *   <li>A record whose classification killed the process twice, the second time alone, is listed with two strikes
 *       in the in-flight journal that the dead process left in {@code state.dir}: the restarted service must
 *       dead-letter it as {@code POISON_RECORD} without classifying it, instead of dying on it again.</li>
 *   <li>Deleting the output topic under the running service would otherwise stall it silently with health UP. It must
 *       now exit non-zero, so that an orchestrator restarts it.</li>
 * </ol>
 */
@Timeout(600)
class FaultsE2ETest {

    static final String SHIPPED_HEAP = "512m";
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(300);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(90);

    /** TextEvent bodies of 8-24 bytes, each claiming gigabytes or hundreds of millions of map entries. */
    private static final Map<String, String> HOSTILE_BODIES = new LinkedHashMap<>();

    static {
        // A reproduction as reported: attributes map block count 2^30.
        HOSTILE_BODIES.put("hostile/map-2^30", "02780c706f69736f6e000200008080808008026b0276");
        HOSTILE_BODIES.put("hostile/map-2^28", "02780c706f69736f6e000200008080808002026b027600");
        HOSTILE_BODIES.put("hostile/map-minus-2^30", "02780c706f69736f6e00020000ffffffff0708026b027600");
        HOSTILE_BODIES.put("hostile/text-2147483639", "0278eeffffff0f7461696c");
        HOSTILE_BODIES.put("hostile/id-1GB", "8080808008616263");
    }

    @TempDir
    Path tempDir;

    @Test
    void hostileLengthsAreDeadLetteredOnTheShippedHeapAndADeletedOutputTopicEndsTheProcess() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(8);
        Map<String, TextEvent> before = RunningClassifier.events("good-before/", emails.subList(0, 4));
        Map<String, TextEvent> after = RunningClassifier.events("good-after/", emails.subList(4, 8));

        try (ServiceTopics topics = new ServiceTopics("faults", SharedInfrastructure.broker(), SharedInfrastructure.registry(),
                1, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(
                    topics.serviceSettings(Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.put("topics.check.interval.ms", "2000");
            int schemaId = topics.inputSchemaId();
            // The journal a process leaves when it died twice classifying the input's offset 0 (the second time alone).
            Path journal = InFlightJournal.file(Path.of(settings.get("kafka.state.dir")), topics.applicationId(), 0);
            Files.createDirectories(journal.getParent());
            Files.writeString(journal, "2\t0\t0\t" + topics.names().input() + "\n");
            TextEvent poison = RunningClassifier.event("poison/journaled", emails.get(0).text());

            try (ServiceProcess service = ServiceProcess.start("faults", settings, tempDir, SHIPPED_HEAP)) {
                // Given the journaled record at offset 0, good events, every hostile record, more good events.
                topics.produce(List.of(poison));
                topics.produce(List.copyOf(before.values()));
                Map<String, byte[]> hostile = new LinkedHashMap<>();
                HOSTILE_BODIES.forEach((key, hex) -> {
                    byte[] value = ConfluentWireFormat.frame(schemaId, HexFormat.of().parseHex(hex));
                    assertThat(value.length).as("%s is a tiny record", key).isLessThan(48);
                    hostile.put(key, value);
                    topics.produceRaw(key, value);
                });
                topics.produce(List.copyOf(after.values()));

                // Then: the good events are classified, each hostile record is dead-lettered once, byte-identical,
                // with its own code, and the process still runs.
                Map<String, TextEvent> good = new LinkedHashMap<>(before);
                good.putAll(after);
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out = topics.output().awaitKeys(good.keySet(), OUTPUT_TIMEOUT);
                assertThat(out.keySet()).as("classified; see %s", service.describe()).containsAll(good.keySet());
                Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = topics.deadLetters().awaitKeys(hostile.keySet(),
                        Duration.ofSeconds(60));
                hostile.forEach((key, value) -> {
                    assertThat(dead.get(key)).as("dead letters for %s", key).hasSize(1);
                    ConsumerRecord<byte[], byte[]> record = dead.get(key).get(0);
                    assertThat(record.value()).as("%s byte-identical", key).isEqualTo(value);
                    Header code = record.headers().lastHeader(DeadLetterCode.HEADER);
                    assertThat(new String(code.value(), StandardCharsets.UTF_8)).as("code of %s", key)
                            .isEqualTo(DeadLetterCode.LENGTH_EXCEEDS_RECORD.name());
                });
                ConsumerRecord<byte[], byte[]> journaled = topics.deadLetters().awaitKeys(Set.of(poison.getId()),
                        Duration.ofSeconds(30)).get(poison.getId()).get(0);
                assertThat(new String(journaled.headers().lastHeader(DeadLetterCode.HEADER).value(), StandardCharsets.UTF_8))
                        .isEqualTo(DeadLetterCode.POISON_RECORD.name());
                assertThat(out).as("the journaled record is not classified").doesNotContainKey(poison.getId());
                assertThat(Files.exists(journal)).as("journal gone once calls return").isFalse();
                assertThat(service.isAlive()).as("alive after the hostile records; see %s", service.describe()).isTrue();
                assertThat(service.logTail(400)).as("no record text in the log").doesNotContain("poison");

                // When: the output topic is deleted under the running service.
                SharedInfrastructure.broker().admin().deleteTopics(List.of(topics.names().output())).all()
                        .get(30, TimeUnit.SECONDS);

                // Then: it exits on its own, non-zero, and says why.
                long deleted = System.nanoTime();
                OptionalInt code = service.awaitExitCode(EXIT_TIMEOUT);
                System.out.printf("FaultsE2ETest: output topic deleted -> process exited with %s after %.1f s%n", code,
                        (System.nanoTime() - deleted) / 1e9);
                assertThat(code).as("exit code within %d s of the output topic's deletion; see %s",
                        EXIT_TIMEOUT.toSeconds(), service.describe()).isPresent();
                assertThat(code.getAsInt()).as("exit code; see %s", service.describe()).isNotZero();
                assertThat(service.logTail(200)).contains("topic " + topics.names().output());
            }
        }
    }

}
