package org.deebert.streams.topology;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.deebert.streams.classifier.ExitSetting;

/**
 * The Kafka Streams topology of the service:
 * <pre>
 *   control topic ──► threshold-source ──► threshold-updater ──► [threshold-store] (global store)
 *                                                                       │ read
 *   input topic ──► text-events-source ──► classify ◄── [classify-buffer] (changelogged state store)
 *                                             │ ├──► classified-sink ──► output topic
 *                                             │ └──► classifier-dead-letter-sink ──► dead-letter topic
 *   bad input records ──(exception handlers)──────────────────────────► dead-letter topic
 * </pre>
 * The threshold lives in a global store so that every instance (and every task) applies the latest value
 * of the compacted control topic; see {@link ThresholdControlProcessor} and
 * {@link BatchingClassifyProcessor}. The Streams configuration must include {@link #streamsConfig(Topics)}
 * (or {@link #streamsConfig(Topics, StreamObserver)}).
 */
public final class ClassifierTopology {

    /** The global store: model name -> validated exit setting from the control topic. */
    public static final String THRESHOLD_STORE = "threshold-store";
    /** The changelogged batch buffer of the classify processor. */
    public static final String BUFFER_STORE = "classify-buffer";
    // Node names are fixed (not generated) so that they, and the changelog topic name, stay the same across versions.
    /** Source node of the input topic. */
    public static final String INPUT_SOURCE = "text-events-source";
    /** The classify processor ({@link BatchingClassifyProcessor}). */
    public static final String CLASSIFY = "classify";
    /** Sink node of the output topic. */
    public static final String OUTPUT_SINK = "classified-sink";
    /** Sink node for records the classifier failed on (the dead-letter topic). */
    public static final String DEAD_LETTER_SINK = "classifier-dead-letter-sink";
    /** Source node of the control topic (global). */
    public static final String CONTROL_SOURCE = "threshold-source";
    /** The global store's processor ({@link ThresholdControlProcessor}). */
    public static final String CONTROL_PROCESSOR = "threshold-updater";

    private ClassifierTopology() {
    }

    /**
     * @param settings    batching and validation settings
     * @param topics      topic names and serdes
     * @param classifiers lends a classifier to each stream thread; its model name keys the control topic
     * @return the topology
     */
    public static Topology build(TopologySettings settings, Topics topics, ClassifierPool classifiers) {
        String modelName = classifiers.modelName();
        Topology topology = new Topology();

        // Logging must be off for a global store: the control topic itself is its changelog.
        StoreBuilder<KeyValueStore<String, ExitSetting>> thresholdStore = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(THRESHOLD_STORE), Serdes.String(), new ExitSettingSerde())
                .withLoggingDisabled();
        topology.addGlobalStore(thresholdStore, CONTROL_SOURCE,
                topics.control().keySerde().deserializer(), topics.control().valueSerde().deserializer(),
                topics.control().name(), CONTROL_PROCESSOR,
                () -> new ThresholdControlProcessor(THRESHOLD_STORE, modelName, classifiers.numLayers()));

        // In memory plus changelog: the buffer is small, so restoring it is cheap and RocksDB buys nothing.
        // Caching is on: a record buffered and classified within one commit interval never reaches the changelog.
        StoreBuilder<KeyValueStore<Long, BufferedRecord>> bufferStore = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BUFFER_STORE), Serdes.Long(), new BufferedRecordSerde())
                .withCachingEnabled();

        topology.addSource(INPUT_SOURCE, topics.input().keySerde().deserializer(),
                new RawKeepingDeserializer<>(topics.input().valueSerde().deserializer()), topics.input().name());
        topology.addProcessor(CLASSIFY, () -> new BatchingClassifyProcessor(settings, classifiers,
                topics.input().valueSerde().deserializer(), BUFFER_STORE, THRESHOLD_STORE, OUTPUT_SINK, DEAD_LETTER_SINK),
                INPUT_SOURCE);
        topology.addStateStore(bufferStore, CLASSIFY);
        topology.addSink(OUTPUT_SINK, topics.output().name(), topics.output().keySerde().serializer(),
                topics.output().valueSerde().serializer(), CLASSIFY);
        topology.addSink(DEAD_LETTER_SINK, topics.deadLetter().name(), topics.deadLetter().keySerde().serializer(),
                topics.deadLetter().valueSerde().serializer(), CLASSIFY);
        return topology;
    }

    /**
     * The Streams settings this topology relies on: Kafka Streams' dead-letter queue (KIP-1034) on the
     * dead-letter topic, and our handlers, which log one line per bad record and write its dead-letter record
     * with the error-code header ({@link DeadLetterRecords}).
     *
     * @param topics the topics
     * @return settings to merge into the Streams configuration
     */
    public static Map<String, Object> streamsConfig(Topics topics) {
        return streamsConfig(topics, StreamObserver.NONE);
    }

    /**
     * As {@link #streamsConfig(Topics)}, plus the observer that the exception handlers and processors
     * report dead letters, batches and undecodable control records to (under {@value StreamObserver#CONFIG}).
     *
     * @param topics   the topics
     * @param observer receives the topology's observations (thread-safe)
     * @return settings to merge into the Streams configuration
     */
    public static Map<String, Object> streamsConfig(Topics topics, StreamObserver observer) {
        Map<String, Object> config = new HashMap<>();
        config.put(StreamObserver.CONFIG, observer);
        config.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, topics.deadLetter().name());
        config.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationExceptionHandler.class);
        config.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingExceptionHandler.class);
        // The control topic is read by the global thread, which cannot send dead-letter records.
        config.put(DeadLetterDeserializationExceptionHandler.NO_DEAD_LETTER_TOPICS_CONFIG, topics.control().name());
        return config;
    }
}
