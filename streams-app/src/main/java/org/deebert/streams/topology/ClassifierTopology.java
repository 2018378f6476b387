package org.deebert.streams.topology;

import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ExitSettingSerde;
import org.deebert.streams.deadletter.DeadLetterRecords;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.deebert.streams.schema.ShadowSample;

/**
 * The Kafka Streams topology of the service, with the package that does each step:
 * <pre>
 *   control topic ──► threshold-source ──► threshold-updater ──► [threshold-store] (global store)
 *                                          (control/ validates)      │ read (control.ExitSettingInForce)
 *   input topic ──► text-events-source ──► classify ◄── [classify-buffer] (changelogged state store)
 *                  (input/ decodes text-event, avro, json or string into a TextEvent)
 *                                             │  (BatchingClassifyProcessor buffers; BatchForwarder runs
 *                                             │   classifier/ EarlyExitClassifier with exit/ ExitRule)
 *                                             │ ├──► classified-sink ──► output topic
 *                                             │ ├──► classifier-dead-letter-sink ──► dead-letter topic (deadletter/)
 *                                             │ └──► shadow-sample-sink ──► shadow-sample topic (1 partition)
 *   bad input records ──(exception handlers)──────────────────────────► dead-letter topic (deadletter/)
 *
 *   shadow-sample topic ──► shadow-sample-source ──► budget-controller ◄── [budget-controller-window]
 *                                                     (budget/ ThresholdChooser decides)
 *                                                          │ (reads threshold-store)
 *                                                          └──► controller-decision-sink ──► control topic
 *                                                               (control.ControlMessages builds)
 *   every instance, outside the topology: observability/ ExitTelemetryPublisher ──► telemetry topic
 * </pre>
 * {@link Topics} names all six topics with their serdes.
 * The output sink writes each result to the partition number its input record came from
 * ({@link InputPartitionPartitioner}; the classify processor forwards {@link InputPartitioned} values). The
 * dead-letter sink places records by the key's hash, like the dead letters Kafka Streams' exception handlers
 * write (they cannot choose a partition), so that both kinds of dead letter are placed alike; a dead letter
 * names its source partition in {@code __streams.errors.partition}.
 * The threshold lives in a global store so that every instance (and every task) applies the latest value
 * of the compacted control topic; see {@link ThresholdControlProcessor} and
 * {@link BatchingClassifyProcessor}. Under an accuracy budget the classify processor sends shadow samples to the
 * service's internal shadow-sample topic ({@link Topics#shadowSamples()}), which the {@link BudgetControllerProcessor} of
 * one instance reads and answers with new thresholds on the control topic. The Streams configuration must include {@link #streamsConfig(Topics)}
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
    /** Sink node of the shadow-sample topic (child of {@link #CLASSIFY}). */
    public static final String SHADOW_SINK = "shadow-sample-sink";
    /** Source node of the shadow-sample topic. */
    public static final String SHADOW_SOURCE = "shadow-sample-source";
    /** The budget controller ({@link BudgetControllerProcessor}). */
    public static final String CONTROLLER = "budget-controller";
    /** The controller's changelogged window of shadow samples. */
    public static final String CONTROLLER_WINDOW_STORE = "budget-controller-window";
    /** Sink node of the controller's decisions (the control topic). */
    public static final String CONTROL_SINK = "controller-decision-sink";
    private ClassifierTopology() {
    }

    /**
     * The topology with the application id as the budget controller's instance id (tests, tools).
     *
     * @see #build(TopologySettings, Topics, ClassifierPool, String)
     */
    public static Topology build(TopologySettings settings, Topics topics, ClassifierPool classifiers) {
        return build(settings, topics, classifiers, null);
    }

    /**
     * @param settings    batching and validation settings
     * @param topics      topic names and serdes; the shadow-sample topic ({@link Topics#shadowSamples()}) must exist
     * @param classifiers lends a classifier to each stream thread; its model name keys the control topic
     * @param instanceId  this instance's id, which the budget controller names in the reasons of its decisions;
     *                    null for the application id
     * @return the topology
     */
    public static Topology build(TopologySettings settings, Topics topics, ClassifierPool classifiers,
                                 String instanceId) {
        String modelName = classifiers.modelName();
        Topology topology = new Topology();

        // Logging must be off for a global store: the control topic itself is its changelog.
        StoreBuilder<KeyValueStore<String, ExitSettingInForce>> thresholdStore = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(THRESHOLD_STORE), Serdes.String(), new ExitSettingSerde())
                .withLoggingDisabled();
        topology.addGlobalStore(thresholdStore, CONTROL_SOURCE,
                topics.control().keySerde().deserializer(), topics.control().valueSerde().deserializer(),
                topics.control().name(), CONTROL_PROCESSOR,
                () -> new ThresholdControlProcessor(THRESHOLD_STORE, modelName, classifiers.numLayers(),
                        classifiers.labels()));

        // In memory plus changelog: the buffer is small, so restoring it is cheap and RocksDB buys nothing.
        // Caching is on: a record buffered and classified within one commit interval never reaches the changelog.
        StoreBuilder<KeyValueStore<Long, BufferedRecord>> bufferStore = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BUFFER_STORE), Serdes.Long(), new BufferedRecordSerde())
                .withCachingEnabled();

        topology.addSource(INPUT_SOURCE, topics.input().keySerde().deserializer(),
                new RawKeepingDeserializer<>(topics.input().valueSerde().deserializer()), topics.input().name());
        topology.addProcessor(CLASSIFY, () -> new BatchingClassifyProcessor(settings, classifiers,
                topics.input().valueSerde().deserializer(), BUFFER_STORE, THRESHOLD_STORE, OUTPUT_SINK, DEAD_LETTER_SINK,
                SHADOW_SINK), INPUT_SOURCE);
        topology.addStateStore(bufferStore, CLASSIFY);
        topology.addSink(OUTPUT_SINK, topics.output().name(), topics.output().keySerde().serializer(),
                InputPartitioned.serializer(topics.output().valueSerde().serializer()),
                new InputPartitionPartitioner<>(), CLASSIFY);
        topology.addSink(DEAD_LETTER_SINK, topics.deadLetter().name(), topics.deadLetter().keySerde().serializer(),
                topics.deadLetter().valueSerde().serializer(), CLASSIFY);

        Topic<String, ShadowSample> shadow = topics.shadowSamples();
        topology.addSink(SHADOW_SINK, shadow.name(), shadow.keySerde().serializer(), shadow.valueSerde().serializer(),
                CLASSIFY);
        topology.addSource(SHADOW_SOURCE, shadow.keySerde().deserializer(), shadow.valueSerde().deserializer(),
                shadow.name());
        topology.addProcessor(CONTROLLER, () -> new BudgetControllerProcessor(CONTROLLER_WINDOW_STORE, THRESHOLD_STORE,
                modelName, classifiers.labels(), classifiers.startingSetting(), CONTROL_SINK, instanceId), SHADOW_SOURCE);
        // Changelogged, so the instance that takes the task over after a crash starts from the same window.
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CONTROLLER_WINDOW_STORE),
                Serdes.Long(), shadow.valueSerde()), CONTROLLER);
        topology.addSink(CONTROL_SINK, topics.control().name(), topics.control().keySerde().serializer(),
                topics.control().valueSerde().serializer(), CONTROLLER);
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
