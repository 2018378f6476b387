package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.GroupState;
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
 * Scale-out and failover: two service processes with one application id share the input topic's
 * partitions; one is killed with SIGKILL mid-stream (an open transaction, no commit, no leave-group)
 * and the other takes its partitions over. Under exactly_once_v2 every input id must still appear
 * exactly once on the output topic, read with read_committed.
 */
@Timeout(900)
class ScaleOutE2ETest {

    /** Four partitions = four tasks, so both instances get work. */
    private static final int INPUT_PARTITIONS = 4;
    private static final int EVENTS = 240;
    private static final int BEFORE_KILL = 120;
    /** Output records that must be committed before the kill: the instances are really processing. */
    private static final int OUTPUT_BEFORE_KILL = 20;
    /** Two JVMs loading TensorFlow on two shared cores: starting up takes a while. */
    private static final Duration GROUP_TIMEOUT = Duration.ofSeconds(240);
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(360);

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();

    @TempDir
    Path tempDir;

    @Test
    void killingOneOfTwoInstancesMidStreamLosesAndDuplicatesNothing() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(EVENTS);
        Map<String, TextEvent> events = new LinkedHashMap<>();
        for (Email e : emails) {
            events.put(e.id(), RunningClassifier.event(e.id(), e.text()));
        }
        assertThat(events).as("distinct ids").hasSize(EVENTS);
        List<TextEvent> all = List.copyOf(events.values());

        try (ServiceTopics topics = new ServiceTopics("scale-out", broker, SharedInfrastructure.registry(), INPUT_PARTITIONS,
                Map.of())) {
            // Given: two instances of one application, each with its own state directory. B starts once A
            // runs (a rolling scale-out). Simultaneous starts race on schema registration; the client
            // handles that (SchemaRegistryInteropTest), but if the schemas' content is new to the local
            // Apicurio registry, its in-memory store can stop answering under that race (docs/scaling.md).
            ServiceProcess a = start(topics, "a", references);
            ServiceProcess b = null;
            try {
                awaitMembersWithPartitions(topics, 1, a);
                b = start(topics, "b", references);
                awaitMembersWithPartitions(topics, 2, a, b);

                // When: half the emails arrive; once some results are committed, instance A is killed
                // with SIGKILL (the rest of the emails are not even produced yet: it dies mid-stream).
                topics.produce(all.subList(0, BEFORE_KILL));
                int committedAtKill = awaitOutputs(topics, OUTPUT_BEFORE_KILL, a, b);
                a.kill9();
                assertThat(a.isAlive()).isFalse();
                topics.produce(all.subList(BEFORE_KILL, EVENTS));

                // Then: B takes over A's partitions; every id comes out exactly once, nothing is dead-lettered.
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out =
                        topics.output().awaitKeys(events.keySet(), OUTPUT_TIMEOUT);
                assertThat(b.isAlive()).as("%s survives", b.describe()).isTrue();
                assertThat(out.keySet()).as("output keys").containsExactlyInAnyOrderElementsOf(events.keySet());
                for (Map.Entry<String, List<ConsumerRecord<byte[], byte[]>>> e : out.entrySet()) {
                    assertThat(e.getValue()).as("committed output records for %s", e.getKey()).hasSize(1);
                    assertThat(topics.decode(e.getValue().get(0).value()).getId()).isEqualTo(e.getKey());
                }
                assertThat(topics.deadLetters().readAvailable()).as("dead letters").isEmpty();
                System.out.printf("ScaleOutE2ETest: %d committed outputs when A was killed; all %d ids exactly once%n",
                        committedAtKill, EVENTS);
            } finally {
                a.close();
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    private ServiceProcess start(ServiceTopics topics, String name, ReferenceEmails references) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(
                topics.serviceSettings(Files.createDirectories(tempDir.resolve("state-" + name)), references.modelDir()));
        settings.put("processing.guarantee", "exactly_once_v2");
        // After the SIGKILL, the dead member's partitions stay assigned to it until its session times out
        // (15 s by the service's default) and only then move to the survivor. 10 s (broker minimum 6 s) keeps the test
        // short; the outcome (exactly once) does not depend on it.
        settings.put("kafka.session.timeout.ms", "10000");
        // Two TensorFlow instances on two shared cores: one op thread each instead of each wanting all cores.
        settings.put("intra.op.threads", "1");
        settings.put("inter.op.threads", "1");
        settings.put("metrics.log.interval.ms", "5000");
        return ServiceProcess.start(name, settings, tempDir, "768m");
    }

    /** Waits until the group is stable with {@code members} members, each owning input partitions. */
    private void awaitMembersWithPartitions(ServiceTopics topics, int members, ServiceProcess... processes) {
        Admin admin = broker.admin();
        long deadline = System.nanoTime() + GROUP_TIMEOUT.toNanos();
        String last = "no description";
        while (System.nanoTime() < deadline) {
            for (ServiceProcess p : processes) {
                assertThat(p.isAlive()).as("%s is alive", p.describe()).isTrue();
            }
            try {
                ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(topics.applicationId()))
                        .all().get(10, TimeUnit.SECONDS).get(topics.applicationId());
                Collection<MemberDescription> current = group.members();
                last = group.groupState() + " with " + current.size() + " members";
                boolean eachHasInput = current.stream().allMatch(m -> m.assignment().topicPartitions().stream()
                        .anyMatch(tp -> tp.topic().equals(topics.names().input())));
                if (group.groupState() == GroupState.STABLE && current.size() == members && eachHasInput) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            pause(500);
        }
        fail("group " + topics.applicationId() + " did not become stable with " + members + " members owning input partitions within "
                + GROUP_TIMEOUT.toSeconds() + " s (last: " + last + "); see " + describe(processes));
    }

    private int awaitOutputs(ServiceTopics topics, int atLeast, ServiceProcess... processes) {
        long deadline = System.nanoTime() + OUTPUT_TIMEOUT.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            seen = topics.output().readAvailable().size();
            if (seen >= atLeast) {
                return seen;
            }
        }
        return fail("only " + seen + " committed outputs within " + OUTPUT_TIMEOUT.toSeconds() + " s; see " + describe(processes));
    }

    private static String describe(ServiceProcess... processes) {
        StringBuilder s = new StringBuilder();
        for (ServiceProcess p : processes) {
            s.append(s.isEmpty() ? "" : ", ").append(p.describe());
        }
        return s.toString();
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
