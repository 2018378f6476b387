package org.deebert.streams.topology;

import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ShadowSample;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;

/**
 * The service's {@link ClassifierTopology} in a {@link TopologyTestDriver}, for topology tests: the default topic
 * names ({@link TopicNames#DEFAULTS}, shadow-sample topic after the application id) with serdes on an in-memory
 * Schema Registry, the topology's own Streams settings ({@link ClassifierTopology#streamsConfig(Topics)}), and the
 * test topics a test pipes into or reads from. Keys are read and written as UTF-8 strings unless a method says
 * bytes. Wall-clock time moves only when a test advances it ({@link TopologyTestDriver#advanceWallClockTime}).
 *
 * <p>Create one per test and {@link #close()} it after the test (it closes the driver and the classifier pool it
 * was given). A test may close it and {@link #start} it again, e.g. with other settings, on the same topics.
 */
final class TopologyHarness implements AutoCloseable {

    private final String applicationId;
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final Topics topics;
    private ClassifierPool pool;
    private TopologyTestDriver driver;

    /** @param applicationId the Streams application id (also names the shadow-sample topic) */
    TopologyHarness(String applicationId) {
        this(applicationId, InputSettings.TEXT_EVENT);
    }

    /**
     * @param applicationId the Streams application id (also names the shadow-sample topic)
     * @param input         the input topic's format and field mapping
     */
    TopologyHarness(String applicationId, InputSettings input) {
        this.applicationId = applicationId;
        this.topics = Topics.create(TopicNames.DEFAULTS.forApplication(applicationId), registry, input);
    }

    /**
     * Builds the topology and starts the driver.
     *
     * @param settings            batching and validation settings
     * @param classifiers         the classifier pool (closed by {@link #close()})
     * @param processingGuarantee {@code exactly_once_v2} or {@code at_least_once}
     * @param wallClockStart      the driver's initial wall-clock time, or null for the real time now
     * @return the driver
     * @throws IllegalStateException if started and not closed since
     */
    TopologyTestDriver start(TopologySettings settings, ClassifierPool classifiers, String processingGuarantee,
                             Instant wallClockStart) {
        if (driver != null) {
            throw new IllegalStateException("already started");
        }
        pool = classifiers;
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee);
        props.putAll(ClassifierTopology.streamsConfig(topics));
        driver = wallClockStart == null
                ? new TopologyTestDriver(ClassifierTopology.build(settings, topics, classifiers), props)
                : new TopologyTestDriver(ClassifierTopology.build(settings, topics, classifiers), props, wallClockStart);
        return driver;
    }

    /** @return the in-memory registry behind the topics' serdes */
    InMemorySchemaRegistryClient registry() {
        return registry;
    }

    /** @return the topics with their serdes */
    Topics topics() {
        return topics;
    }

    /** @return the started driver */
    TopologyTestDriver driver() {
        return driver;
    }

    /** @return the input topic: string keys, TextEvents in the wire format */
    TestInputTopic<String, TextEvent> input() {
        return driver.createInputTopic(topics.input().name(), new StringSerializer(),
                topics.input().valueSerde().serializer());
    }

    /** @return the input topic: string keys, value bytes as given */
    TestInputTopic<String, byte[]> rawInput() {
        return driver.createInputTopic(topics.input().name(), new StringSerializer(), new ByteArraySerializer());
    }

    /** @return the input topic: key and value bytes as given */
    TestInputTopic<byte[], byte[]> bytesKeyedInput() {
        return driver.createInputTopic(topics.input().name(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** @return the control topic as the operator writes it */
    TestInputTopic<String, ThresholdControl> control() {
        return driver.createInputTopic(topics.control().name(), new StringSerializer(),
                topics.control().valueSerde().serializer());
    }

    /** @return the shadow-sample topic: value bytes as given */
    TestInputTopic<String, byte[]> rawShadowSamples() {
        return driver.createInputTopic(topics.shadowSamples().name(), new StringSerializer(), new ByteArraySerializer());
    }

    /** @return what the topology writes to the output topic */
    TestOutputTopic<String, ClassifiedEvent> output() {
        return driver.createOutputTopic(topics.output().name(), new StringDeserializer(),
                topics.output().valueSerde().deserializer());
    }

    /** @return what the topology writes to the dead-letter topic, key and value bytes */
    TestOutputTopic<byte[], byte[]> deadLetters() {
        return driver.createOutputTopic(topics.deadLetter().name(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    /** @return what the topology writes to the shadow-sample topic */
    TestOutputTopic<String, ShadowSample> shadowSamples() {
        return driver.createOutputTopic(topics.shadowSamples().name(), new StringDeserializer(),
                topics.shadowSamples().valueSerde().deserializer());
    }

    /** @return what the topology writes to the control topic (the budget controller's decisions), not what tests pipe in */
    TestOutputTopic<String, ThresholdControl> controlDecisions() {
        return driver.createOutputTopic(topics.control().name(), new StringDeserializer(),
                topics.control().valueSerde().deserializer());
    }

    /** Closes the driver, then the classifier pool; idempotent. */
    @Override
    public void close() {
        if (driver != null) {
            driver.close();
            driver = null;
        }
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
