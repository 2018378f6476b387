package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean restart (SIGTERM, then a new process with the same application id) must not wait for the
 * old member's session to time out. The instance runs with a long session timeout
 * ({@value #SESSION_TIMEOUT_MS} ms), so a member that does not leave the group on close would hold the
 * new instance in REBALANCING for about that long; one that leaves lets the new instance start at once.
 */
@Timeout(900)
class RestartE2ETest {

    private static final String SESSION_TIMEOUT_MS = "120000";
    /** Well below the session timeout: only reachable if the old member left the group on close. */
    private static final Duration RESTART_BOUND = Duration.ofSeconds(60);
    private static final Duration FIRST_RUN_TIMEOUT = Duration.ofSeconds(300);
    private static final int EVENTS_PER_RUN = 16;

    @TempDir
    Path tempDir;

    @Test
    void aCleanlyStoppedInstanceLeavesTheGroupSoItsSuccessorStartsWellWithinTheSessionTimeout() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(2 * EVENTS_PER_RUN);
        Map<String, TextEvent> first = events("run1/", emails.subList(0, EVENTS_PER_RUN));
        Map<String, TextEvent> second = events("run2/", emails.subList(EVENTS_PER_RUN, 2 * EVENTS_PER_RUN));

        try (ServiceTopics topics = new ServiceTopics("restart", SharedInfrastructure.broker(), SharedInfrastructure.registry(),
                2, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(
                    topics.serviceSettings(Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.put("kafka.session.timeout.ms", SESSION_TIMEOUT_MS);

            // Given: an instance that has produced output, stopped with SIGTERM.
            try (ServiceProcess run1 = ServiceProcess.start("run1", settings, tempDir, "768m")) {
                topics.produce(List.copyOf(first.values()));
                topics.output().awaitKeys(first.keySet(), FIRST_RUN_TIMEOUT);
                run1.terminate();
                assertThat(run1.isAlive()).isFalse();
            }

            // When: a new instance of the same application starts and new events arrive.
            try (ServiceProcess run2 = ServiceProcess.start("run2", settings, tempDir, "768m")) {
                topics.produce(List.copyOf(second.values()));
                long firstOutput = topics.output().awaitAnyKey(second.keySet(), Duration.ofMillis(
                        Long.parseLong(SESSION_TIMEOUT_MS) + FIRST_RUN_TIMEOUT.toMillis()));
                double seconds = (firstOutput - run2.startedNanos()) / 1e9;
                System.out.printf("RestartE2ETest: restart-to-first-output %.1f s (session timeout %d s)%n", seconds,
                        Long.parseLong(SESSION_TIMEOUT_MS) / 1000);

                // Then: its first output comes well within the old member's session timeout, and every
                // event of both runs is classified exactly once.
                assertThat(seconds).as("seconds from the new process's start to its first output; see %s", run2.describe())
                        .isLessThan(RESTART_BOUND.toSeconds());
                Map<String, TextEvent> both = new LinkedHashMap<>(first);
                both.putAll(second);
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out = topics.output().awaitKeys(both.keySet(), FIRST_RUN_TIMEOUT);
                assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(both.keySet());
                out.forEach((key, records) -> assertThat(records).as("records for %s", key).hasSize(1));
                run2.terminate();
            }
        }
    }

    private static Map<String, TextEvent> events(String prefix, List<Email> emails) {
        Map<String, TextEvent> events = new LinkedHashMap<>();
        for (Email e : emails) {
            events.put(prefix + e.id(), RunningClassifier.event(prefix + e.id(), e.text()));
        }
        return events;
    }
}
