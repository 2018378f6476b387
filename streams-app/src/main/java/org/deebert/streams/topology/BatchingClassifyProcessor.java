package org.deebert.streams.topology;

import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ThresholdReader;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.deadletter.DeadLetterRecords;
import org.deebert.streams.deadletter.InvalidTextEventException;
import org.deebert.streams.deadletter.PoisonRecordException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
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
import org.deebert.streams.classifier.Classification;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.registry.WireFormatException;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classify processor: validates each TextEvent, buffers it, and classifies the buffer as one batch
 * when it holds {@code maxBatchSize} events or when the wall-clock punctuator (every {@code linger}) finds a
 * partial batch due (see {@code partialBatchIsDue}). Each result is forwarded to the output sink with the input
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
 * <p><b>Decoded once.</b> Each event is decoded on arrival (to validate it); the decoded event is kept in
 * memory beside its buffer entry and classified from there. Only records restored into the buffer after a
 * crash or a rebalance are decoded again from their raw bytes.
 *
 * <p><b>Arrival time.</b> Kafka Streams' {@code currentSystemTimeMs()} is cached once per processing loop,
 * so after a batch that took 250 ms to classify, records processed in the same loop would look 250 ms old
 * and the next punctuation would flush them as a partial batch although the input holds plenty more
 * (measured: mean batch ~14-20 of 32 on a pre-filled topic). The arrival time therefore adds the wall
 * time this processor itself spent classifying since the cached time last moved.
 *
 * <p><b>Errors.</b> An invalid event (no id, empty or too long text, no value, a text_pair missing for a
 * sentence-pair model or present for a single-text one) throws an
 * {@link InvalidTextEventException} from {@link #process} before anything is forwarded, so Kafka
 * Streams' processing exception handler dead-letters the source record's raw bytes. A classifier failure
 * happens later, inside a batch, where Kafka Streams no longer knows the source record: the batch is then
 * retried one event at a time, and an event that still fails is forwarded to the dead-letter sink with
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
    private ThresholdReader thresholds;
    private ClassifierPool.Lease lease;
    private ClassifierMetrics metrics;
    private InFlightJournal journal;
    private StreamObserver observer = StreamObserver.NONE;
    private Cancellable punctuator;
    private long nextSequence;
    private int buffered;
    /** Wall-clock ms when the oldest buffered record arrived; Long.MIN_VALUE for records restored after a crash. */
    private long oldestBufferedAtMs;
    /** Wall-clock ms when the newest buffered record arrived. */
    private long newestBufferedAtMs;
    /** Decoded events of the records this instance buffered, by buffer key (restored records are absent). */
    private final Map<Long, TextEvent> decoded = new HashMap<>();
    /** The last value seen of the context's cached wall-clock time (ms). */
    private long cachedSystemTimeMs = Long.MIN_VALUE;
    /** Wall-clock ms spent in flushes since the cached time last moved (see "Arrival time" above). */
    private long flushedMsSinceCachedTime;

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
        this.mapper = new ClassifiedEventMapper(pool.modelName(), pool.modelVersion());
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        buffer = context.getStateStore(bufferStoreName);
        thresholds = new ThresholdReader(context.getStateStore(thresholdStoreName), pool.modelName(), pool.startingSetting());
        lease = pool.acquire();
        metrics = new ClassifierMetrics(context.metrics(), Thread.currentThread().getName(), context.taskId().toString(),
                pool.numLayers());
        observer = StreamObserver.from(context.appConfigs());
        // Under state.dir, beside (not inside) Kafka Streams' own directories, which it may wipe after a crash.
        Object stateDir = context.appConfigs().get(StreamsConfig.STATE_DIR_CONFIG);
        journal = InFlightJournal.open(InFlightJournal.file(stateDir != null ? Path.of(stateDir.toString())
                : context.stateDir().toPath().getParent().getParent(), context.applicationId(), context.taskId().partition()));
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
        validator.validate(value == null ? null : value.decoded());
        RecordMetadata source = context.recordMetadata().orElse(null);
        newestBufferedAtMs = nowMs();
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

    /** Classifies everything buffered, in batches of at most maxBatchSize, oldest first. */
    private void flushAll() {
        long start = System.nanoTime();
        try {
            while (buffered > 0) {
                if (!flushOneBatch()) {
                    return;
                }
            }
        } finally {
            nowMs(); // resets the count first if the cached time moved since the last record
            flushedMsSinceCachedTime += (System.nanoTime() - start) / 1_000_000;
        }
    }

    /** @return the stream thread's cached wall-clock time plus what this processor's flushes took since it moved */
    private long nowMs() {
        long cached = context.currentSystemTimeMs();
        if (cached != cachedSystemTimeMs) {
            cachedSystemTimeMs = cached;
            flushedMsSinceCachedTime = 0;
        }
        return cached + flushedMsSinceCachedTime;
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
                events.add(textEvents.deserialize(entry.value.topic(), entry.value.headers(), entry.value.rawValue()));
                batch.add(entry);
            } catch (WireFormatException e) {
                if (e.getReason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
                    LOG.warn("Schema Registry unavailable: {} buffered records wait for the next punctuation", buffered);
                    return false;
                }
                // It decoded when it arrived; only a changed registry can make it fail now.
                deadLetter(entry, DeadLetterCode.of(e.getReason()), e);
            }
        }
        if (!journal.hasSuspects()) {
            if (!batch.isEmpty()) {
                classifyAndForward(batch, events);
            }
            return true;
        }
        // Records of a classifier call that never returned: alone, or dead-lettered after a second death (see
        // InFlightJournal). Input order is kept: the records before a suspect leave as one batch first.
        List<KeyValue<Long, BufferedRecord>> run = new ArrayList<>();
        List<TextEvent> runEvents = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            InFlightJournal.Coordinates where = coordinates(batch.get(i).value);
            int strikes = where == null ? 0 : journal.strikes(where);
            if (strikes == 0) {
                run.add(batch.get(i));
                runEvents.add(events.get(i));
                continue;
            }
            if (!run.isEmpty()) {
                classifyAndForward(run, runEvents);
                run = new ArrayList<>();
                runEvents = new ArrayList<>();
            }
            if (strikes >= InFlightJournal.POISON_STRIKES) {
                journal.forget(where);
                deadLetter(batch.get(i), DeadLetterCode.POISON_RECORD, new PoisonRecordException(strikes));
            } else {
                classifyAndForward(List.of(batch.get(i)), List.of(events.get(i)));
            }
        }
        if (!run.isEmpty()) {
            classifyAndForward(run, runEvents);
        }
        return true;
    }

    /** @return where the record was read from, or null when unknown (then it is not journaled) */
    private static InFlightJournal.Coordinates coordinates(BufferedRecord r) {
        return r.topic() == null || r.partition() < 0 || r.offset() < 0 ? null
                : new InFlightJournal.Coordinates(r.topic(), r.partition(), r.offset());
    }

    private void classifyAndForward(List<KeyValue<Long, BufferedRecord>> batch, List<TextEvent> events) {
        ExitSettingInForce inForce = thresholds.current();
        List<String> texts = new ArrayList<>(events.size());
        // Validation on arrival guarantees every event has a text_pair exactly when the model reads pairs.
        List<String> textPairs = pool.textPair() ? new ArrayList<>(events.size()) : null;
        for (TextEvent e : events) {
            texts.add(e.getText());
            if (textPairs != null) {
                textPairs.add(e.getTextPair());
            }
        }
        // Under an accuracy budget a sampled share of events runs every layer (the shadow), chosen from the event
        // id so that a batch retried after a crash samples the same rows.
        boolean[] shadow = null;
        if (inForce.budget() != null) {
            shadow = new boolean[events.size()];
            for (int i = 0; i < shadow.length; i++) {
                shadow[i] = inForce.budget().samples(events.get(i).getId());
            }
        }
        TextClassifier classifier = lease.classifier();
        List<InFlightJournal.Coordinates> inFlight = new ArrayList<>(batch.size());
        for (KeyValue<Long, BufferedRecord> entry : batch) {
            InFlightJournal.Coordinates where = coordinates(entry.value);
            if (where != null) {
                inFlight.add(where);
            }
        }
        // Written before the call and deleted after it returns or throws: only a death inside the call leaves it.
        journal.begin(inFlight);
        long start = System.nanoTime();
        List<Classification> results;
        try {
            results = classifier.classify(new ClassifyRequest(texts, textPairs, inForce.setting(), shadow));
            if (results.size() != texts.size()) {
                throw new IllegalStateException("classifier returned " + results.size() + " results for " + texts.size() + " texts");
            }
            journal.end(inFlight);
        } catch (RuntimeException e) {
            journal.end(inFlight);
            if (batch.size() == 1) {
                deadLetter(batch.get(0), DeadLetterCode.CLASSIFIER_FAILURE, e);
                return;
            }
            // INFO, not WARN: each event that fails again alone gets its own WARN line as it is dead-lettered.
            LOG.info("Classifier failed on a batch of {} ({}); retrying one event at a time", batch.size(),
                    e.getClass().getName());
            for (int i = 0; i < batch.size(); i++) {
                classifyAndForward(List.of(batch.get(i)), List.of(events.get(i)));
            }
            return;
        }
        double latencyMs = (System.nanoTime() - start) / 1e6;
        long processedAt = context.currentSystemTimeMs();
        long[] exitCounts = new long[pool.numLayers()];
        int sampled = 0;
        for (int i = 0; i < batch.size(); i++) {
            BufferedRecord in = batch.get(i).value;
            Classification c = results.get(i);
            ClassifiedEvent out = mapper.map(events.get(i), c, inForce, processedAt, latencyMs, batch.size());
            context.forward(new Record<>(in.key(), new InputPartitioned<>(out, in.partition()), in.timestamp(),
                    outputHeaders(in)), outputChild);
            buffer.delete(batch.get(i).key);
            decoded.remove(batch.get(i).key);
            buffered--;
            if (c.exitLayer() >= 1 && c.exitLayer() <= exitCounts.length) {
                exitCounts[c.exitLayer() - 1]++;
            }
            observer.eventClassified(Math.max(0, processedAt - in.timestamp()) / 1e3);
            if (c.shadow() != null) {
                // Keyed by model name: all of a model's samples go to one partition, hence to one controller.
                context.forward(new Record<>(pool.modelName(), ShadowSamples.toSample(pool.modelName(), processedAt,
                        c.shadow()), processedAt), shadowChild);
                sampled++;
            }
        }
        if (sampled > 0) {
            observer.shadowSampled(sampled);
        }
        metrics.recordBatch(exitCounts, batch.size(), latencyMs, inForce.setting().threshold());
        observer.batchClassified(batch.size(), latencyMs / 1e3);
    }

    /** @return the headers the output record of {@code in} carries; logs a cut at DEBUG, once per record */
    private Headers outputHeaders(BufferedRecord in) {
        HeaderForwarding.Result forwarded = settings.headerForwarding().forOutput(in.headers());
        if (forwarded.dropped() > 0) {
            // DEBUG: a producer's choice, not a fault of this service; the count is what an operator needs.
            LOG.debug("Dropped {} headers beyond headers.forward.max={} of the record {}-{} offset {}",
                    forwarded.dropped(), settings.headerForwarding().max(), in.topic(), in.partition(), in.offset());
        }
        return forwarded.headers();
    }

    private void deadLetter(KeyValue<Long, BufferedRecord> entry, DeadLetterCode code, Exception e) {
        BufferedRecord in = entry.value;
        DeadLetterRecords.logOnce(LOG, "Dead-lettered", code, in.topic(), in.partition(), in.offset(), e);
        context.forward(new Record<>(in.key(), in.rawValue(), in.timestamp(), DeadLetterHeaders.forFailure(in.headers(), in.topic(), in.partition(), in.offset(), code, e)),
                deadLetterChild);
        buffer.delete(entry.key);
        decoded.remove(entry.key);
        buffered--;
        if (code == DeadLetterCode.CLASSIFIER_FAILURE) {
            metrics.recordFailure();
        }
        observer.deadLettered(code);
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
