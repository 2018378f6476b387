package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarts of one instance (same {@code instance.name}, same state directory) on one set of topics, as an
 * orchestrator restarts a pod: first a clean stop (SIGTERM), then a crash (SIGKILL). The instance runs with a
 * long session timeout ({@value #SESSION_TIMEOUT_MS} ms), far above both bounds below, so neither restart can
 * be fast by waiting the old member out:
 * <ul>
 *   <li>after SIGTERM the old member must have left the group (static members too), so a successor, under
 *       any name, is assigned the tasks at once;</li>
 *   <li>after SIGKILL the old member is still in the group; the successor with the same
 *       {@code group.instance.id} takes its place without waiting for the session to expire.</li>
 * </ul>
 * Every event of the three runs must be classified exactly once (read_committed).
 */
@Timeout(900)
class RestartE2ETest {

    private static final String SESSION_TIMEOUT_MS = "120000";
    /** Well below the session timeout: only reachable if the old member left the group on close. */
    private static final Duration RESTART_BOUND = Duration.ofSeconds(60);
    /**
     * Restart to first new output after SIGKILL: about 15 s is the target (JVM start, model load, join); a
     * bound of 20 s leaves room for a loaded machine and is still far below the session timeout.
     */
    private static final Duration CRASH_RESTART_BOUND = Duration.ofSeconds(20);
    private static final Duration FIRST_RUN_TIMEOUT = Duration.ofSeconds(300);
    private static final int EVENTS_PER_RUN = 8;
    private static final String INSTANCE_NAME = "restart-e2e-0";
    /** The service processes' Java heap (the model's weights live off-heap in TensorFlow). */
    private static final String HEAP = "512m";

    @TempDir
    Path tempDir;

    @Test
    void aRestartedInstanceResumesWithoutWaitingOutTheSessionAfterSigtermAndAfterKill9() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(3 * EVENTS_PER_RUN);
        Map<String, TextEvent> first = RunningClassifier.events("run1/", emails.subList(0, EVENTS_PER_RUN));
        Map<String, TextEvent> second = RunningClassifier.events("run2/", emails.subList(EVENTS_PER_RUN, 2 * EVENTS_PER_RUN));
        Map<String, TextEvent> third = RunningClassifier.events("run3/", emails.subList(2 * EVENTS_PER_RUN, 3 * EVENTS_PER_RUN));

        try (ServiceTopics topics = new ServiceTopics("restart", SharedInfrastructure.broker(), SharedInfrastructure.registry(),
                2, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(
                    topics.serviceSettings(Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.put("kafka.session.timeout.ms", SESSION_TIMEOUT_MS);
            settings.put("instance.name", INSTANCE_NAME);

            // Given: an instance that has produced output, stopped with SIGTERM.
            try (ServiceProcess run1 = ServiceProcess.start("run1", settings, tempDir, HEAP)) {
                topics.produce(List.copyOf(first.values()));
                topics.output().awaitKeys(first.keySet(), FIRST_RUN_TIMEOUT);
                run1.terminate();
                assertThat(run1.isAlive()).isFalse();
            }
            // Then: it has left the group although it is a static member; had it stayed, a successor under
            // another name (a replacement pod) would sit in REBALANCING for the whole session timeout.
            assertThat(members(topics.applicationId())).as("group members after SIGTERM").isEmpty();

            // When: a new instance of the same application starts and new events arrive.
            try (ServiceProcess run2 = ServiceProcess.start("run2", settings, tempDir, HEAP)) {
                topics.produce(List.copyOf(second.values()));
                long firstOutput = topics.output().awaitAnyKey(second.keySet(), Duration.ofMillis(
                        Long.parseLong(SESSION_TIMEOUT_MS) + FIRST_RUN_TIMEOUT.toMillis()));
                double seconds = (firstOutput - run2.startedNanos()) / 1e9;
                System.out.printf("RestartE2ETest: SIGTERM restart-to-first-output %.1f s (session timeout %d s)%n", seconds,
                        Long.parseLong(SESSION_TIMEOUT_MS) / 1000);

                // Then: its first output comes well within the old member's session timeout.
                assertThat(seconds).as("seconds from the new process's start to its first output; see %s", run2.describe())
                        .isLessThan(RESTART_BOUND.toSeconds());
                topics.output().awaitKeys(second.keySet(), FIRST_RUN_TIMEOUT);
                // It is a static member: Kafka Streams suffixes instance.name with the stream thread's index.
                assertThat(members(topics.applicationId())).extracting(m -> m.groupInstanceId().orElse(null))
                        .containsExactly(INSTANCE_NAME + "-1");

                // Given: the instance is killed with SIGKILL: no commit, no leave-group.
                run2.kill9();
            }

            // When: it is restarted under the same instance name and new events arrive.
            try (ServiceProcess run3 = ServiceProcess.start("run3", settings, tempDir, HEAP)) {
                topics.produce(List.copyOf(third.values()));
                long firstOutput = topics.output().awaitAnyKey(third.keySet(), Duration.ofMillis(
                        Long.parseLong(SESSION_TIMEOUT_MS) + FIRST_RUN_TIMEOUT.toMillis()));
                double seconds = (firstOutput - run3.startedNanos()) / 1e9;
                System.out.printf("RestartE2ETest: kill -9 restart-to-first-new-output %.1f s (session timeout %d s)%n",
                        seconds, Long.parseLong(SESSION_TIMEOUT_MS) / 1000);

                // Then: its first new output comes without waiting for the killed member's session to expire,
                // and every event of the three runs is classified exactly once.
                assertThat(seconds).as("seconds from the restarted process's start to its first new output; see %s",
                        run3.describe()).isLessThan(CRASH_RESTART_BOUND.toSeconds());
                Map<String, TextEvent> all = new LinkedHashMap<>(first);
                all.putAll(second);
                all.putAll(third);
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out = topics.output().awaitKeys(all.keySet(), FIRST_RUN_TIMEOUT);
                assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(all.keySet());
                out.forEach((key, records) -> assertThat(records).as("records for %s", key).hasSize(1));
                run3.terminate();
            }
        }
    }

    /** @return the members of the application's consumer group, as the group coordinator sees them now */
    private static Collection<MemberDescription> members(String applicationId) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfrastructure.broker().bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            return admin.describeConsumerGroups(List.of(applicationId)).all().get(30, TimeUnit.SECONDS)
                    .get(applicationId).members();
        }
    }

}
