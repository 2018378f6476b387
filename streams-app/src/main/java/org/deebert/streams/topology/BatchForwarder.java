package org.deebert.streams.topology;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.deebert.streams.classifier.Classification;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ThresholdReader;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.deadletter.DeadLetterRecords;
import org.deebert.streams.deadletter.PoisonRecordException;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classify processor's second half ({@link BatchingClassifyProcessor} buffers and flushes): classifies one
 * batch of buffered records under the exit setting in force and forwards what comes of each record, in input
 * order. A result goes to the output sink with the input record's key bytes, timestamp and forwarded headers
 * ({@link HeaderForwarding}), wrapped with the input record's partition ({@link InputPartitioned}); a shadow
 * sample's trace also goes to the shadow-sample sink, keyed by model name. A classifier failure is retried one
 * record at a time, and a record that still fails goes to the dead-letter sink (CLASSIFIER_FAILURE). Records of a
 * classifier call that never returned ({@link InFlightJournal}) are classified alone, or dead-lettered
 * (POISON_RECORD) after a second death. Every record handled is taken out of the buffer through {@code done}.
 * One per processor instance, on its stream thread.
 */
final class BatchForwarder {

    /** The processor's logger: its lines keep the classify processor's name. */
    private static final Logger LOG = LoggerFactory.getLogger(BatchingClassifyProcessor.class);

    private final ProcessorContext<Object, Object> context;
    private final TopologySettings settings;
    private final ClassifierPool pool;
    private final ClassifierPool.Lease lease;
    private final ThresholdReader thresholds;
    private final ClassifiedEventMapper mapper;
    private final ClassifierMetrics metrics;
    private final InFlightJournal journal;
    private final StreamObserver observer;
    private final String outputChild;
    private final String deadLetterChild;
    private final String shadowChild;
    private final Consumer<Long> done;
    private final LongSupplier wallClockMs;

    /**
     * @param context         the processor's context, which forwards to the sinks
     * @param settings        batch size, linger, text limit, header forwarding
     * @param pool            the classifier pool (model name, depth, text pairs)
     * @param lease           the stream thread's classifier
     * @param thresholds      the exit setting in force
     * @param mapper          builds the ClassifiedEvent of a result
     * @param metrics         per-batch metrics
     * @param journal         the task's in-flight journal
     * @param observer        the stream's observer
     * @param outputChild     name of the output sink node
     * @param deadLetterChild name of the dead-letter sink node
     * @param shadowChild     name of the shadow-sample sink node
     * @param done            takes a record out of the buffer, by buffer key, once it is forwarded or dead-lettered
     * @param wallClockMs     the processor's wall clock, ms since the epoch: Kafka Streams' cached time plus what the
     *                        processor's flushes took since it moved (the cached time stands still while a batch is
     *                        classified), so {@code processed_at} is when the batch finished
     */
    BatchForwarder(ProcessorContext<Object, Object> context, TopologySettings settings, ClassifierPool pool,
                   ClassifierPool.Lease lease, ThresholdReader thresholds, ClassifiedEventMapper mapper,
                   ClassifierMetrics metrics, InFlightJournal journal, StreamObserver observer, String outputChild,
                   String deadLetterChild, String shadowChild, Consumer<Long> done, LongSupplier wallClockMs) {
        this.context = context;
        this.settings = settings;
        this.pool = pool;
        this.lease = lease;
        this.thresholds = thresholds;
        this.mapper = mapper;
        this.metrics = metrics;
        this.journal = journal;
        this.observer = observer;
        this.outputChild = outputChild;
        this.deadLetterChild = deadLetterChild;
        this.shadowChild = shadowChild;
        this.done = done;
        this.wallClockMs = wallClockMs;
    }

    /**
     * Classifies and forwards decoded buffered records, oldest first.
     *
     * @param batch  buffer entries, in buffer order
     * @param events their decoded events, as many
     */
    void classifyAll(List<KeyValue<Long, BufferedRecord>> batch, List<TextEvent> events) {
        if (!journal.hasSuspects()) {
            if (!batch.isEmpty()) {
                classifyAndForward(batch, events);
            }
            return;
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
        long processedAt = wallClockMs.getAsLong();
        long[] exitCounts = new long[pool.numLayers()];
        int sampled = 0;
        for (int i = 0; i < batch.size(); i++) {
            BufferedRecord in = batch.get(i).value;
            Classification c = results.get(i);
            ClassifiedEvent out = mapper.map(events.get(i), in, c, inForce, processedAt, latencyMs, batch.size());
            context.forward(new Record<>(in.key(), new InputPartitioned<>(out, in.partition()), in.timestamp(),
                    outputHeaders(in)), outputChild);
            done.accept(batch.get(i).key);
            if (c.exitLayer() >= 1 && c.exitLayer() <= exitCounts.length) {
                exitCounts[c.exitLayer() - 1]++;
            }
            observer.eventClassified(Math.max(0, processedAt - in.timestamp()) / 1e3);
            observer.eventLabeled(c.label());
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

    /**
     * Forwards a buffered record's raw bytes to the dead-letter sink with the standard headers
     * ({@link DeadLetterHeaders}), logs it once ({@link DeadLetterRecords#logOnce}) and takes it out of the buffer.
     */
    void deadLetter(KeyValue<Long, BufferedRecord> entry, DeadLetterCode code, Exception e) {
        BufferedRecord in = entry.value;
        DeadLetterRecords.logOnce(LOG, "Dead-lettered", code, in.topic(), in.partition(), in.offset(), e);
        context.forward(new Record<>(in.key(), in.rawValue(), in.timestamp(), DeadLetterHeaders.forFailure(in.headers(), in.topic(), in.partition(), in.offset(), code, e)),
                deadLetterChild);
        done.accept(entry.key);
        if (code == DeadLetterCode.CLASSIFIER_FAILURE) {
            metrics.recordFailure();
        }
        observer.deadLettered(code);
    }

}
