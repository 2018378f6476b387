package org.deebert.streams.topology;

import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ExitSettingSerde;
import org.deebert.streams.deadletter.DeadLetterCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.deebert.streams.exit.ExitSetting;
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
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        KeyValueStore<Long, BufferedRecord> buffer = context.getStateStore(ClassifierTopology.BUFFER_STORE);
        // Given: two records of input partition 1 buffered before a crash (sequence numbers 7 and 8).
        buffer.put(7L, buffered("restored-1", 1, 10));
        buffer.put(8L, buffered("restored-2", 1, 11));

        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        BatchingClassifyProcessor processor = new BatchingClassifyProcessor(TopologySettings.DEFAULTS, pool,
                topics.input().valueSerde().deserializer(), ClassifierTopology.BUFFER_STORE,
                ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK, ClassifierTopology.DEAD_LETTER_SINK,
                ClassifierTopology.SHADOW_SINK);
        processor.init(context);

        // When: a new record arrives and the linger punctuator fires.
        TextEvent fresh = event("new");
        context.setRecordMetadata(topics.input().name(), 1, 12);
        processor.process(new Record<>(utf8("new"), new RawAndDecoded<>(serialize(fresh), fresh), 12L));
        assertThat(context.forwarded()).isEmpty();
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(0L);

        // Then: restored records first, in sequence order, then the new one; the buffer is empty.
        List<String> keys = context.forwarded(ClassifierTopology.OUTPUT_SINK).stream()
                .map(f -> new String((byte[]) f.record().key(), StandardCharsets.UTF_8)).toList();
        assertThat(keys).containsExactly("restored-1", "restored-2", "new");
        // Each carries its input partition to the output sink's partitioner, the restored ones included.
        List<InputPartitioned<?>> values = context.forwarded(ClassifierTopology.OUTPUT_SINK).stream()
                .<InputPartitioned<?>>map(f -> (InputPartitioned<?>) f.record().value()).toList();
        assertThat(values).extracting(InputPartitioned::inputPartition).containsExactly(1, 1, 1);
        assertThat(((ClassifiedEvent) values.get(0).value()).getBatchSize()).isEqualTo(3);
        assertThat(buffer.approximateNumEntries()).isZero();
        assertThat(context.forwarded(ClassifierTopology.DEAD_LETTER_SINK)).isEmpty();
        processor.close();
        pool.close();
    }

    @Test
    void aRecordWhoseClassificationKillsTheProcessTwiceIsDeadLetteredAndItsBatchMatesAreClassified() throws Exception {
        Path stateDir = java.nio.file.Files.createTempDirectory("deebert-journal-test");
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L, stateDir);
        KeyValueStore<Long, BufferedRecord> buffer = context.getStateStore(ClassifierTopology.BUFFER_STORE);
        // Given: four buffered records of partition 0, the third of which kills the process inside the classifier.
        for (int i = 0; i < 4; i++) {
            buffer.put((long) i, i == 2 ? bufferedWithText("r2", 0, 2, "this one will crash it") : buffered("r" + i, i));
        }
        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        Path journal = InFlightJournal.file(stateDir, context.applicationId(), 0);

        // When: the first process dies inside the call for the batch of four.
        BatchingClassifyProcessor first = newProcessor(pool);
        first.init(context);
        assertThatThrownBy(() -> lastPunctuator(context).punctuate(0L)).isInstanceOf(FakeClassifier.SimulatedDeath.class);
        assertThat(java.nio.file.Files.readAllLines(journal)).as("the journal a dead process leaves").hasSize(4);

        // Then: the restart classifies the four one at a time and dies again on r2, alone this time.
        BatchingClassifyProcessor second = newProcessor(pool);
        second.init(context);
        assertThatThrownBy(() -> lastPunctuator(context).punctuate(0L)).isInstanceOf(FakeClassifier.SimulatedDeath.class);
        assertThat(outputKeys(context)).containsExactly("r0", "r1");
        assertThat(java.nio.file.Files.readAllLines(journal)).containsExactly("2\t0\t2\t" + topics.input().name());

        // And: the next restart dead-letters r2 without classifying it and classifies r3 as usual.
        BatchingClassifyProcessor third = newProcessor(pool);
        third.init(context);
        lastPunctuator(context).punctuate(0L);
        assertThat(outputKeys(context)).containsExactly("r0", "r1", "r3");
        List<? extends Record<?, ?>> dead = context.forwarded(ClassifierTopology.DEAD_LETTER_SINK).stream()
                .map(MockProcessorContext.CapturedForward::record).toList();
        assertThat(dead).singleElement().satisfies(r -> {
            assertThat(new String((byte[]) r.key(), StandardCharsets.UTF_8)).isEqualTo("r2");
            assertThat(new String(r.headers().lastHeader(DeadLetterCode.HEADER).value(), StandardCharsets.UTF_8))
                    .isEqualTo(DeadLetterCode.POISON_RECORD.name());
        });
        assertThat(java.nio.file.Files.exists(journal)).as("no journal once every call returned").isFalse();
        assertThat(buffer.approximateNumEntries()).isZero();
        third.close();
        pool.close();
    }

    private BatchingClassifyProcessor newProcessor(ClassifierPool pool) {
        return new BatchingClassifyProcessor(TopologySettings.DEFAULTS, pool, topics.input().valueSerde().deserializer(),
                ClassifierTopology.BUFFER_STORE, ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK,
                ClassifierTopology.DEAD_LETTER_SINK, ClassifierTopology.SHADOW_SINK);
    }

    private static org.apache.kafka.streams.processor.Punctuator lastPunctuator(MockProcessorContext<Object, Object> context) {
        List<MockProcessorContext.CapturedPunctuator> all = context.scheduledPunctuators();
        return all.get(all.size() - 1).getPunctuator();
    }

    private static List<String> outputKeys(MockProcessorContext<Object, Object> context) {
        return context.forwarded(ClassifierTopology.OUTPUT_SINK).stream()
                .map(f -> new String((byte[]) f.record().key(), StandardCharsets.UTF_8)).toList();
    }

    private BufferedRecord bufferedWithText(String id, int partition, long offset, String text) {
        TextEvent e = TextEvent.newBuilder().setId(id).setText(text).setEventTime(Instant.EPOCH).build();
        return new BufferedRecord(utf8(id), serialize(e), offset, new RecordHeaders(), topics.input().name(), partition,
                offset);
    }

    private static TextEvent event(String id) {
        return TextEvent.newBuilder().setId(id).setText("text of " + id).setEventTime(Instant.EPOCH).build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] serialize(TextEvent e) {
        return topics.input().valueSerde().serializer().serialize(topics.input().name(), e);
    }

    private BufferedRecord buffered(String id, long offset) {
        return buffered(id, 0, offset);
    }

    private BufferedRecord buffered(String id, int partition, long offset) {
        return new BufferedRecord(utf8(id), serialize(event(id)), offset, new RecordHeaders(), topics.input().name(),
                partition, offset);
    }

    private MockProcessorContext<Object, Object> contextWithStores(long nowMs) {
        try {
            return contextWithStores(nowMs, java.nio.file.Files.createTempDirectory("deebert-processor-test"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A context whose Kafka Streams state.dir is {@code stateDir} (where the in-flight journal goes). */
    private MockProcessorContext<Object, Object> contextWithStores(long nowMs, Path stateDir) {
        java.util.Properties config = new java.util.Properties();
        config.put(org.apache.kafka.streams.StreamsConfig.APPLICATION_ID_CONFIG, "processor-test");
        config.put(org.apache.kafka.streams.StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        config.put(org.apache.kafka.streams.StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>(config,
                new org.apache.kafka.streams.processor.TaskId(0, 0), stateDir.resolve("processor-test").resolve("0_0").toFile());
        context.setCurrentSystemTimeMs(nowMs);
        KeyValueStore<Long, BufferedRecord> buffer = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ClassifierTopology.BUFFER_STORE), Serdes.Long(),
                        new BufferedRecordSerde())
                .withLoggingDisabled().build();
        buffer.init(context.getStateStoreContext(), buffer);
        context.addStateStore(buffer);
        KeyValueStore<String, ExitSettingInForce> thresholds = Stores
                .keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ClassifierTopology.THRESHOLD_STORE), Serdes.String(),
                        new ExitSettingSerde())
                .withLoggingDisabled().build();
        thresholds.init(context.getStateStoreContext(), thresholds);
        context.addStateStore(thresholds);
        return context;
    }

    private void processLive(BatchingClassifyProcessor processor, MockProcessorContext<Object, Object> context, String id,
            long offset) {
        TextEvent e = event(id);
        context.setRecordMetadata(topics.input().name(), 0, offset);
        processor.process(new Record<>(utf8(id), new RawAndDecoded<>(serialize(e), e), offset));
    }

    @Test
    void liveRecordsAreNotDecodedAgainAtClassificationButRestoredOnesAre() {
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        KeyValueStore<Long, BufferedRecord> buffer = context.getStateStore(ClassifierTopology.BUFFER_STORE);
        buffer.put(3L, buffered("restored", 3));
        AtomicInteger decodes = new AtomicInteger();
        Deserializer<TextEvent> inner = topics.input().valueSerde().deserializer();
        Deserializer<TextEvent> counting = (topic, bytes) -> {
            decodes.incrementAndGet();
            return inner.deserialize(topic, bytes);
        };
        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        BatchingClassifyProcessor processor = new BatchingClassifyProcessor(TopologySettings.DEFAULTS, pool, counting,
                ClassifierTopology.BUFFER_STORE, ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK,
                ClassifierTopology.DEAD_LETTER_SINK,
                ClassifierTopology.SHADOW_SINK);
        processor.init(context);

        processLive(processor, context, "live-1", 4);
        processLive(processor, context, "live-2", 5);
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(0L);

        assertThat(context.forwarded(ClassifierTopology.OUTPUT_SINK)).hasSize(3);
        assertThat(decodes.get()).as("decodes at classification: the restored record only").isEqualTo(1);
        processor.close();
        pool.close();
    }

    @Test
    void recordsArrivingRightAfterASlowBatchWaitForLingerInsteadOfLeavingAsAPartialBatch() {
        // The stream thread's cached wall clock does not move while a batch is classified: 1,000 ms throughout.
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        FakeClassifier slow = new FakeClassifier();
        slow.delayMs = 200;
        ClassifierPool pool = new ClassifierPool(() -> slow);
        TopologySettings settings = new TopologySettings(4, java.time.Duration.ofMillis(5), 100_000);
        BatchingClassifyProcessor processor = new BatchingClassifyProcessor(settings, pool,
                topics.input().valueSerde().deserializer(), ClassifierTopology.BUFFER_STORE,
                ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK, ClassifierTopology.DEAD_LETTER_SINK,
                ClassifierTopology.SHADOW_SINK);
        processor.init(context);
        for (int i = 0; i < 4; i++) {
            processLive(processor, context, "full-" + i, i); // a full batch: classified at once, takes 200 ms
        }
        processLive(processor, context, "next", 4); // arrives just after, by the real clock

        // A punctuation 20 ms after the cached time (so 180 ms before "next" really arrived) must not flush it.
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(1_020L);
        assertThat(slow.batchSizes).containsExactly(4);

        // Once linger has really passed since its arrival, it leaves.
        context.scheduledPunctuators().get(0).getPunctuator().punctuate(1_300L);
        assertThat(slow.batchSizes).containsExactly(4, 1);
        processor.close();
        pool.close();
    }

    @Test
    void processedAtIsWhenTheBatchFinishedAlthoughTheCachedClockStoodStill() {
        // The stream thread's cached wall clock stays at 1,000 ms while the batch is classified for 200 ms: the
        // output's processed_at must say when the classification finished, or the latency it shows hides it.
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        FakeClassifier slow = new FakeClassifier();
        slow.delayMs = 200;
        ClassifierPool pool = new ClassifierPool(() -> slow);
        BatchingClassifyProcessor processor = newProcessor(pool,
                new TopologySettings(2, java.time.Duration.ofMillis(5), 100_000));
        processor.init(context);
        for (int i = 0; i < 4; i++) {
            processLive(processor, context, "e-" + i, i); // two full batches of 2, 200 ms each, one cached time
        }
        List<Long> processedAt = context.forwarded(ClassifierTopology.OUTPUT_SINK).stream()
                .map(f -> ((InputPartitioned<?>) f.record().value()).value())
                .map(v -> ((ClassifiedEvent) v).getProcessedAt().toEpochMilli()).toList();
        assertThat(processedAt).hasSize(4);
        assertThat(processedAt.get(0)).isBetween(1_200L, 1_390L);
        assertThat(processedAt.get(1)).isEqualTo(processedAt.get(0));
        assertThat(processedAt.get(2)).isBetween(1_400L, 1_590L); // the second batch finished 200 ms later
        processor.close();
        pool.close();
    }

    @Test
    void aBacklogFillsBatchesWhileATrickleLeavesAfterLinger() {
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        FakeClassifier fake = new FakeClassifier();
        ClassifierPool pool = new ClassifierPool(() -> fake);
        TopologySettings settings = new TopologySettings(32, java.time.Duration.ofMillis(5), 100_000);
        BatchingClassifyProcessor processor = new BatchingClassifyProcessor(settings, pool,
                topics.input().valueSerde().deserializer(), ClassifierTopology.BUFFER_STORE,
                ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK, ClassifierTopology.DEAD_LETTER_SINK,
                ClassifierTopology.SHADOW_SINK);
        processor.init(context);
        var punctuator = context.scheduledPunctuators().get(0).getPunctuator();

        // A backlog: a record every ms. The oldest is past linger, but records keep coming: no partial batch...
        for (int i = 0; i < 10; i++) {
            context.setCurrentSystemTimeMs(1_000L + i);
            processLive(processor, context, "backlog-" + i, i);
        }
        punctuator.punctuate(1_010L);
        assertThat(fake.batchSizes).isEmpty();
        // ...until the oldest has waited MAX_WAIT_LINGERS x linger.
        context.setCurrentSystemTimeMs(1_049L);
        processLive(processor, context, "backlog-10", 10);
        punctuator.punctuate(1_000L + BatchingClassifyProcessor.MAX_WAIT_LINGERS * 5);
        assertThat(fake.batchSizes).containsExactly(11);

        // A trickle: one record, then quiet; it leaves at the first punctuation at least linger later.
        context.setCurrentSystemTimeMs(2_000L);
        processLive(processor, context, "lone", 11);
        punctuator.punctuate(2_004L);
        assertThat(fake.batchSizes).containsExactly(11);
        punctuator.punctuate(2_005L);
        assertThat(fake.batchSizes).containsExactly(11, 1);
        processor.close();
        pool.close();
    }

    @Test
    void aForwardedBatchAsksForACommitWithAfterBatch() {
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        BatchingClassifyProcessor processor = newProcessor(pool,
                new TopologySettings(2, java.time.Duration.ofMillis(5), 100_000)
                        .withBatchCommit(TopologySettings.BatchCommit.AFTER_BATCH));
        processor.init(context);

        // A record alone stays buffered: nothing forwarded, no commit asked for.
        processLive(processor, context, "a", 0);
        assertThat(context.committed()).isFalse();

        // The second fills the batch: it is classified and forwarded, and its outputs are committed at once.
        processLive(processor, context, "b", 1);
        assertThat(outputKeys(context)).containsExactly("a", "b");
        assertThat(context.committed()).isTrue();

        // A partial batch flushed by the punctuator asks too; a punctuation with nothing buffered does not.
        context.resetCommit();
        processLive(processor, context, "c", 2);
        lastPunctuator(context).punctuate(2_000L); // well past linger, whatever the flush before took
        assertThat(outputKeys(context)).containsExactly("a", "b", "c");
        assertThat(context.committed()).isTrue();
        context.resetCommit();
        lastPunctuator(context).punctuate(3_000L);
        assertThat(context.committed()).isFalse();
        processor.close();
        pool.close();
    }

    @Test
    void withIntervalAForwardedBatchLeavesTheCommitToTheCommitInterval() {
        MockProcessorContext<Object, Object> context = contextWithStores(1_000L);
        ClassifierPool pool = new ClassifierPool(FakeClassifier::new);
        BatchingClassifyProcessor processor = newProcessor(pool, new TopologySettings(2, java.time.Duration.ofMillis(5),
                100_000).withBatchCommit(TopologySettings.BatchCommit.INTERVAL));
        processor.init(context);

        processLive(processor, context, "a", 0);
        processLive(processor, context, "b", 1);
        processLive(processor, context, "c", 2);
        lastPunctuator(context).punctuate(2_000L);

        assertThat(outputKeys(context)).containsExactly("a", "b", "c");
        assertThat(context.committed()).isFalse();
        processor.close();
        pool.close();
    }

    private BatchingClassifyProcessor newProcessor(ClassifierPool pool, TopologySettings settings) {
        return new BatchingClassifyProcessor(settings, pool, topics.input().valueSerde().deserializer(),
                ClassifierTopology.BUFFER_STORE, ClassifierTopology.THRESHOLD_STORE, ClassifierTopology.OUTPUT_SINK,
                ClassifierTopology.DEAD_LETTER_SINK, ClassifierTopology.SHADOW_SINK);
    }
}
