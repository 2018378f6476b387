package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.deebert.streams.classifier.ExitSetting;
import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

/**
 * The classify processor alone, through {@link MockProcessorContext}: here a test can hand it a buffer
 * store that already holds records, as after a crash and a restore from the changelog, which
 * TopologyTestDriver cannot simulate. The mock does not fire punctuators; the test calls the captured one.
 */
class BatchingClassifyProcessorTest {

    private final Topics topics = Topics.create(TopicNames.DEFAULTS, new InMemorySchemaRegistryClient());

    @Test
    void recordsRestoredInTheBufferAreClassifiedFirstAndNewRecordsQueueBehindThem() {
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
        context.setCurrentSystemTimeMs(1_000L);
        KeyValueStore<Long, BufferedRecord> buffer = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ClassifierTopology.BUFFER_STORE), Serdes.Long(),
                        new BufferedRecordSerde())
                .withLoggingDisabled().build();
        buffer.init(context.getStateStoreContext(), buffer);
        context.addStateStore(buffer);
        KeyValueStore<String, ExitSetting> thresholds = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ClassifierTopology.THRESHOLD_STORE), Serdes.String(),
                        new ExitSettingSerde())
                .withLoggingDisabled().build();
        thresholds.init(context.getStateStoreContext(), thresholds);
        context.addStateStore(thresholds);
        // Given: two records buffered before a crash (sequence numbers 7 and 8).
        buffer.put(7L, buffered("restored-1", 10));
        buffer.put(8L, buffered("restored-2", 11));

        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        BatchingClassifyProcessor processor = new BatchingClassifyProcessor(TopologySettings.DEFAULTS, pool,
                topics.input().valueSerde().deserializer(), ClassifierTopology.BUFFER_STORE,
                ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK, ClassifierTopology.DEAD_LETTER_SINK);
        processor.init(context);

        // When: a new record arrives and the linger punctuator fires.
        TextEvent fresh = event("new");
        context.setRecordMetadata(topics.input().name(), 0, 12);
        processor.process(new Record<>("new", new RawAndDecoded<>(serialize(fresh), fresh), 12L));
        assertThat(context.forwarded()).isEmpty();
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(0L);

        // Then: restored records first, in sequence order, then the new one; the buffer is empty.
        List<String> keys = context.forwarded(ClassifierTopology.OUTPUT_SINK).stream()
                .map(f -> (String) f.record().key()).toList();
        assertThat(keys).containsExactly("restored-1", "restored-2", "new");
        assertThat(((ClassifiedEvent) context.forwarded().get(0).record().value()).getBatchSize()).isEqualTo(3);
        assertThat(buffer.approximateNumEntries()).isZero();
        assertThat(context.forwarded(ClassifierTopology.DEAD_LETTER_SINK)).isEmpty();
        processor.close();
        pool.close();
    }

    private static TextEvent event(String id) {
        return TextEvent.newBuilder().setId(id).setText("text of " + id).setEventTime(Instant.EPOCH).build();
    }

    private byte[] serialize(TextEvent e) {
        return topics.input().valueSerde().serializer().serialize(topics.input().name(), e);
    }

    private BufferedRecord buffered(String id, long offset) {
        return new BufferedRecord(id, serialize(event(id)), offset, new RecordHeaders(), topics.input().name(), 0, offset);
    }
}
