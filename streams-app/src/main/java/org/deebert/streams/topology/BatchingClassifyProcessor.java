package org.deebert.streams.topology;

import org.deebert.streams.control.ThresholdReader;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.deadletter.DeadLetterRecords;
import org.deebert.streams.deadletter.InvalidTextEventException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.deebert.streams.input.InputFieldException;
import org.deebert.streams.input.RecordFallbacks;
import org.deebert.streams.registry.WireFormatException;
import org.deebert.streams.schema.TextEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classify processor: validates each TextEvent, buffers it, and classifies the buffer as one batch
 * when it holds {@code maxBatchSize} events or when the wall-clock punctuator (every {@code linger}) finds a
 * partial batch due (see {@code partialBatchIsDue}); {@link BatchForwarder} classifies each batch and forwards
 * what comes of each record. Each result is forwarded to the output sink with the input
 * record's key bytes, timestamp and forwarded headers ({@link HeaderForwarding}: never our own or Kafka Streams'
 * error headers, at most {@code headers.forward.max}), in input order, wrapped with the input record's partition
 * ({@link InputPartitioned}) so that the sink's {@link InputPartitionPartitioner} writes it to the same partition
 * number: at emission time, in a punctuator, the context's record metadata is no longer the input's.
 *
 * <p><b>Why the buffer is a state store.</b> Under exactly-once, a commit atomically covers the input
 * offsets consumed and everything written since the last commit. A record held only in a Java list
 * would have its offset committed before its result exists, and a crash would lose it. The buffer is a
 * changelogged key-value state store instead: buffering a record writes to the changelog in the same
 * transaction as its offset, and classifying it deletes the entry in the transaction that writes its
 * result. After a crash the store is restored and the buffered records are classified then. Keys are a
 * per-task sequence number, so iteration order is arrival order (one task = one input partition).
 *
 * <p><b>Commit after a batch.</b> With {@code classifier.batch.commit=after-batch} (the default) a flush that
 * forwarded anything asks Kafka Streams to commit ({@code ProcessorContext.commit()}), so that under exactly-once
 * its outputs become visible as soon as the transaction commits instead of at the next
 * {@code commit.interval.ms}; the interval still applies as the upper bound. With {@code interval} only the
 * interval commits: fewer, larger transactions for clusters that count them, at up to one interval more latency.
 *
 * <p><b>Decoded once.</b> Each event is decoded on arrival (to validate it); the decoded event is kept in
 * memory beside its buffer entry and classified from there. Only records restored into the buffer after a
 * crash or a rebalance are decoded again from their raw bytes.
 *
 * <p><b>Arrival time.</b> Arrival and {@code processed_at} come from a {@link FlushClock}: with Kafka Streams' cached
 * loop time alone, records right after a slow batch looked old and left as partial batches (measured: mean batch
 * ~14-20 of 32 on a pre-filled topic).
 *
 * <p><b>Errors.</b> An invalid event (no id, empty or too long text, no value, a text_pair missing for a
 * sentence-pair model or present for a single-text one) throws an
 * {@link InvalidTextEventException} from {@link #process} before anything is forwarded, so Kafka
 * Streams' processing exception handler dead-letters the source record's raw bytes. A classifier failure
 * happens later, inside a batch, where Kafka Streams no longer knows the source record: the batch is then
 * retried one event at a time ({@link BatchForwarder}), and an event that still fails is forwarded to the
 * dead-letter sink with
 * its raw key and value bytes and the standard headers ({@link DeadLetterHeaders}), code CLASSIFIER_FAILURE,
 * logged as one WARN line ({@link DeadLetterRecords#logOnce}).
 */
public final class BatchingClassifyProcessor implements Processor<byte[], RawAndDecoded<TextEvent>, Object, Object> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchingClassifyProcessor.class);

    private final TopologySettings settings;
    private final ClassifierPool pool;
    private final Deserializer<TextEvent> textEvents;
    private final String bufferStoreName;
    private final String thresholdStoreName;
    private final String outputChild;
    private final String deadLetterChild;
    private final String shadowChild;
    private final TextEventValidator validator;
    private final ClassifiedEventMapper mapper;

    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Long, BufferedRecord> buffer;
    private ClassifierPool.Lease lease;
    private ClassifierMetrics metrics;
    private BatchForwarder forwarder;
    private Cancellable punctuator;
    private long nextSequence;
    private int buffered;
    /** Wall-clock ms when the oldest buffered record arrived; Long.MIN_VALUE for records restored after a crash. */
    private long oldestBufferedAtMs;
    /** Wall-clock ms when the newest buffered record arrived. */
    private long newestBufferedAtMs;
    /** Decoded events of the records this instance buffered, by buffer key (restored records are absent). */
    private final Map<Long, TextEvent> decoded = new HashMap<>();
    /** The cached wall-clock time plus this processor's flush time (see "Arrival time" above). */
    private FlushClock clock;
    /** Records taken out of the buffer (forwarded or dead-lettered) since init: tells a flush that forwarded something. */
    private long removed;

    /**
     * @param settings           batch size, linger, text limit
     * @param pool               lends the classifier
     * @param textEvents         decodes the buffered raw values again at classification time
     * @param bufferStoreName    the changelogged buffer store connected to this processor
     * @param thresholdStoreName the threshold global store
     * @param outputChild        name of the output sink node
     * @param deadLetterChild    name of the dead-letter sink node
     * @param shadowChild        name of the shadow-sample sink node (samples of an accuracy budget)
     */
    public BatchingClassifyProcessor(TopologySettings settings, ClassifierPool pool, Deserializer<TextEvent> textEvents,
                                     String bufferStoreName, String thresholdStoreName, String outputChild,
                                     String deadLetterChild, String shadowChild) {
        this.settings = settings;
        this.pool = pool;
        this.textEvents = textEvents;
        this.bufferStoreName = bufferStoreName;
        this.thresholdStoreName = thresholdStoreName;
        this.outputChild = outputChild;
        this.deadLetterChild = deadLetterChild;
        this.shadowChild = shadowChild;
        this.validator = new TextEventValidator(settings.maxTextChars(), pool.textPair());
        this.mapper = new ClassifiedEventMapper(pool.modelName(), pool.modelVersion(), settings.includeText());
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        clock = new FlushClock(context::currentSystemTimeMs);
        buffer = context.getStateStore(bufferStoreName);
        ThresholdReader thresholds = new ThresholdReader(context.getStateStore(thresholdStoreName), pool.modelName(),
                pool.startingSetting());
        lease = pool.acquire();
        metrics = new ClassifierMetrics(context.metrics(), Thread.currentThread().getName(), context.taskId().toString(),
                pool.numLayers());
        StreamObserver observer = StreamObserver.from(context.appConfigs());
        // Under state.dir, beside (not inside) Kafka Streams' own directories, which it may wipe after a crash.
        Object stateDir = context.appConfigs().get(StreamsConfig.STATE_DIR_CONFIG);
        InFlightJournal journal = InFlightJournal.open(InFlightJournal.file(stateDir != null ? Path.of(stateDir.toString())
                : context.stateDir().toPath().getParent().getParent(), context.applicationId(), context.taskId().partition()));
        forwarder = new BatchForwarder(context, settings, pool, lease, thresholds, mapper, metrics, journal, observer,
                outputChild, deadLetterChild, shadowChild, this::removeFromBuffer, clock::nowMs);
        // After a restart the restored buffer may hold records buffered before the crash: count them and
        // continue the sequence after the last one, so new records sort after them.
        long last = -1;
        try (KeyValueIterator<Long, BufferedRecord> it = buffer.all()) {
            while (it.hasNext()) {
                last = it.next().key;
                buffered++;
            }
        }
        nextSequence = last + 1;
        if (buffered > 0) {
            LOG.info("Task {}: {} records restored in the batch buffer", context.taskId(), buffered);
            oldestBufferedAtMs = Long.MIN_VALUE; // they have waited long enough: classify them at the first punctuation
        }
        // A partial batch leaves once its oldest record has waited at least linger AND the input has gone quiet
        // (no record buffered during the last linger), or once the oldest has waited MAX_WAIT_LINGERS x linger.
        // Flushing whatever is buffered at every tick gave batches of one under load (a batch takes far longer
        // than linger, and Kafka Streams halves its records-per-loop whenever a punctuator runs); flushing on age
        // alone still cut a backlog into partial batches (mean 24-26 of 32 on a pre-filled topic), because after
        // each halving the stream thread buffers only a few records per loop. Under a trickle nothing changes:
        // a record waits between linger and 2 x linger.
        punctuator = context.schedule(settings.linger(), PunctuationType.WALL_CLOCK_TIME, now -> {
            if (buffered > 0 && partialBatchIsDue(now)) {
                flushAll();
            }
        });
    }

    /** Longest wait of a partial batch while records keep arriving, in multiples of linger. */
    static final int MAX_WAIT_LINGERS = 10;

    private boolean partialBatchIsDue(long nowMs) {
        long linger = settings.linger().toMillis();
        if (oldestBufferedAtMs == Long.MIN_VALUE) {
            return true; // restored after a crash: they have waited long enough
        }
        long waited = nowMs - oldestBufferedAtMs;
        boolean quiet = nowMs - newestBufferedAtMs >= linger;
        return (waited >= linger && quiet) || waited >= MAX_WAIT_LINGERS * linger;
    }

    /**
     * Validates and buffers one input record; classifies the buffer when it is full.
     *
     * @throws InvalidTextEventException when the event must go to the dead-letter topic
     */
    @Override
    public void process(Record<byte[], RawAndDecoded<TextEvent>> record) {
        RawAndDecoded<TextEvent> value = record.value();
        RecordMetadata source = context.recordMetadata().orElse(null);
        if (value != null) {
            // Formats other than text-event may leave the id and event time to the record (key, coordinates, timestamp).
            RecordFallbacks.complete(value.decoded(), record.key(), source == null ? null : source.topic(),
                    source == null ? -1 : source.partition(), source == null ? -1 : source.offset(), record.timestamp());
        }
        validator.validate(value == null ? null : value.decoded());
        newestBufferedAtMs = clock.nowMs();
        if (buffered == 0) {
            oldestBufferedAtMs = newestBufferedAtMs;
        }
        decoded.put(nextSequence, value.decoded());
        buffer.put(nextSequence++, new BufferedRecord(record.key(), value.raw(), record.timestamp(), record.headers(),
                source == null ? null : source.topic(), source == null ? -1 : source.partition(),
                source == null ? -1 : source.offset()));
        buffered++;
        if (buffered >= settings.maxBatchSize()) {
            flushAll();
        }
    }

    /**
     * Classifies everything buffered, in batches of at most maxBatchSize, oldest first; with
     * {@link TopologySettings.BatchCommit#AFTER_BATCH}, then asks for a commit when a record left the buffer.
     */
    private void flushAll() {
        long removedBefore = removed;
        clock.flushStarted();
        try {
            while (buffered > 0) {
                if (!flushOneBatch()) {
                    break; // the registry is unavailable; what did leave is still committed below
                }
            }
        } finally {
            clock.flushEnded();
        }
        // Under exactly-once the outputs just forwarded are invisible to read_committed consumers until the next
        // commit, which Kafka Streams otherwise makes only once commit.interval.ms (100 ms) has passed: on a quiet
        // input that wait is most of a record's latency. commit() is a request: Kafka Streams commits after the
        // current loop iteration, so the outputs, the buffer deletions and the input offsets stay in one
        // transaction. Nothing left the buffer (registry unavailable): nothing new to commit.
        if (removed > removedBefore && settings.batchCommit() == TopologySettings.BatchCommit.AFTER_BATCH) {
            context.commit();
        }
    }

    /** @return false when nothing could be done now (the registry is unavailable); the buffer is kept */
    private boolean flushOneBatch() {
        List<KeyValue<Long, BufferedRecord>> entries = new ArrayList<>(Math.min(buffered, settings.maxBatchSize()));
        try (KeyValueIterator<Long, BufferedRecord> it = buffer.all()) {
            while (it.hasNext() && entries.size() < settings.maxBatchSize()) {
                entries.add(it.next());
            }
        }
        if (entries.isEmpty()) {
            buffered = 0;
            return false;
        }
        List<KeyValue<Long, BufferedRecord>> batch = new ArrayList<>(entries.size());
        List<TextEvent> events = new ArrayList<>(entries.size());
        for (KeyValue<Long, BufferedRecord> entry : entries) {
            TextEvent known = decoded.get(entry.key);
            if (known != null) {
                events.add(known);
                batch.add(entry);
                continue;
            }
            try {
                BufferedRecord r = entry.value;
                events.add(RecordFallbacks.complete(textEvents.deserialize(r.topic(), r.headers(), r.rawValue()),
                        r.key(), r.topic(), r.partition(), r.offset(), r.timestamp()));
                batch.add(entry);
            } catch (WireFormatException e) {
                if (e.getReason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
                    LOG.warn("Schema Registry unavailable: {} buffered records wait for the next punctuation", buffered);
                    return false;
                }
                // It decoded when it arrived; only a changed registry can make it fail now.
                forwarder.deadLetter(entry, DeadLetterCode.of(e.getReason()), e);
            } catch (InputFieldException e) {
                // Decoding is deterministic for json and string; an avro writer schema re-fetched from a changed
                // registry can make a mapped field disappear.
                forwarder.deadLetter(entry, DeadLetterCode.of(e.reason()), e);
            }
        }
        forwarder.classifyAll(batch, events);
        return true;
    }

    /** Takes a forwarded or dead-lettered record out of the buffer (store and decoded copy). */
    private void removeFromBuffer(Long key) {
        buffer.delete(key);
        decoded.remove(key);
        buffered--;
        removed++;
    }

    @Override
    public void close() {
        // Buffered records stay in the store (and its changelog): whoever owns the task next classifies them.
        if (punctuator != null) {
            punctuator.cancel();
        }
        decoded.clear();
        if (metrics != null) {
            metrics.close();
        }
        if (lease != null) {
            pool.release(lease);
            lease = null;
        }
    }
}
