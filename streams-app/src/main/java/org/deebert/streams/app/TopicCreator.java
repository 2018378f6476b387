package org.deebert.streams.app;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.deebert.streams.topology.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the service's topics ({@link Topics}) that do not exist yet: the input, output, dead-letter and telemetry
 * topics and the compacted control topic (with {@code min.compaction.lag.ms}, so that a decision stays readable by
 * {@code control history} for at least that long) when {@code topics.create} asks for it, the internal
 * shadow-sample topic always.
 */
final class TopicCreator {

    private static final Logger LOG = LoggerFactory.getLogger(TopicCreator.class);

    private TopicCreator() {
    }

    /**
     * @param clientProperties bootstrap servers and security settings
     * @param topics           the topics (the telemetry topic is created like the input topic: its records expire)
     * @param partitions       partitions of each topic but the control topic (which has one)
     * @param replicationFactor replication factor of each topic
     * @param controlMinCompactionLag the control topic's {@code min.compaction.lag.ms}, at least 0 ms
     * @throws IllegalStateException if the cluster cannot be reached or refuses to create a topic
     * @throws InterruptedException  if interrupted while waiting for the cluster
     */
    static void createMissing(Properties clientProperties, Topics topics, int partitions,
                              short replicationFactor, Duration controlMinCompactionLag) throws InterruptedException {
        try (Admin admin = Admin.create(clientProperties)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (String name : List.of(topics.input().name(), topics.output().name(), topics.deadLetter().name(),
                    topics.telemetry().name())) {
                if (!existing.contains(name)) {
                    missing.add(new NewTopic(name, partitions, replicationFactor));
                }
            }
            if (!existing.contains(topics.control().name())) {
                // Compacted: the latest threshold per model is kept forever; one partition keeps all models' history in order.
                // The lag keeps every decision for at least that long, however many follow: `control history`.
                missing.add(new NewTopic(topics.control().name(), 1, replicationFactor)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                                TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
                                Long.toString(controlMinCompactionLag.toMillis()))));
            }
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { // another instance won the race: fine
                    throw new IllegalStateException("cannot create topics " + missing, e.getCause());
                }
            }
            LOG.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list topics", e.getCause());
        }
    }

    /**
     * Creates the service's internal shadow-sample topic ({@link Topics#shadowSamples()}) when it is
     * missing, whatever {@code topics.create} says: like Kafka Streams' own internal topics it belongs to the
     * application, and the topology reads it. One partition: a model's samples all go to one controller.
     *
     * @param clientProperties  admin client settings
     * @param name              the topic
     * @param replicationFactor its replication factor ({@code -1} = the broker's default)
     * @throws IllegalStateException if the topic cannot be listed or created
     * @throws InterruptedException  if interrupted while waiting for the broker
     */
    static void createShadowTopic(Properties clientProperties, String name, short replicationFactor)
            throws InterruptedException {
        try (Admin admin = Admin.create(clientProperties)) {
            if (admin.listTopics().names().get().contains(name)) {
                return;
            }
            try {
                admin.createTopics(List.of(new NewTopic(name, 1, replicationFactor))).all().get();
                LOG.info("Created the shadow-sample topic {}", name);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { // another instance won the race: fine
                    throw new IllegalStateException("cannot create the shadow-sample topic " + name, e.getCause());
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list topics", e.getCause());
        }
    }
}
