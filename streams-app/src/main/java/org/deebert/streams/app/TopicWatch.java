package org.deebert.streams.app;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks at a fixed interval that the topics the service reads and writes still exist, each with the topic id
 * it had at the first check. Why: when the output or dead-letter topic is deleted, Kafka Streams' producer only
 * warns and retries (UNKNOWN_TOPIC_OR_PARTITION) while the process stays up, answers its health probes and
 * classifies nothing. A deleted topic, or one deleted and re-created (a new topic id: the records and
 * offsets the service relied on are gone), is therefore reported as fatal, and {@code run} exits non-zero.
 * A check that cannot reach the cluster is not fatal (a broker restart must not kill the service): it logs
 * one WARN line and tries again at the next interval.
 */
final class TopicWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicWatch.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private final Admin admin;
    private final List<String> topics;
    private final Consumer<String> fatal;
    private final Map<String, Uuid> idsAtStart = new HashMap<>();
    private final ScheduledExecutorService executor;
    private volatile boolean unreachable;

    private TopicWatch(Admin admin, List<String> topics, Consumer<String> fatal) {
        this.admin = admin;
        this.topics = List.copyOf(topics);
        this.fatal = fatal;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deebert-topic-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts checking; the first check (which records the topic ids) runs at once.
     *
     * @param clientProperties bootstrap servers and security settings of an admin client
     * @param topics           the topics to watch
     * @param interval         time between checks (positive)
     * @param fatal            told the reason once a topic is gone or re-created; then the checks stop
     * @return the running watch; close it to stop
     */
    static TopicWatch start(Properties clientProperties, List<String> topics, Duration interval, Consumer<String> fatal) {
        TopicWatch watch = new TopicWatch(Admin.create(clientProperties), topics, fatal);
        watch.executor.scheduleWithFixedDelay(() -> {
            try {
                watch.checkOnce();
            } catch (RuntimeException e) {
                // An exception would cancel the schedule silently; the next check tries again.
                watch.warnUnreachable("topics", e);
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return watch;
    }

    /** One check; package-private for tests. Returns the fatal reason, or null. */
    String checkOnce() {
        Map<String, KafkaFuture<TopicDescription>> answers = admin.describeTopics(topics).topicNameValues();
        for (String topic : topics) {
            TopicDescription description;
            try {
                description = answers.get(topic).get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    return report("topic " + topic + " no longer exists");
                }
                warnUnreachable(topic, e.getCause());
                return null;
            } catch (TimeoutException e) {
                warnUnreachable(topic, e);
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            Uuid first = idsAtStart.putIfAbsent(topic, description.topicId());
            if (first != null && !first.equals(description.topicId())) {
                return report("topic " + topic + " was deleted and re-created (topic id " + first + " is now "
                        + description.topicId() + ")");
            }
        }
        if (unreachable) {
            LOG.info("Topic check reaches the cluster again");
            unreachable = false;
        }
        return null;
    }

    private String report(String reason) {
        LOG.error("Fatal: {}; the service cannot deliver its records", reason);
        fatal.accept(reason);
        executor.shutdown();
        return reason;
    }

    private void warnUnreachable(String topic, Throwable cause) {
        if (!unreachable) {
            LOG.warn("Topic check could not describe {} ({}); retrying at the next interval", topic, cause.toString());
            unreachable = true;
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
