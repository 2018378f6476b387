package org.deebert.streams.topology;

import java.time.Duration;

/**
 * How the classify processor batches and validates.
 *
 * @param maxBatchSize most events per classifier call; a full buffer is classified at once (>= 1)
 * @param linger       the period of the wall-clock punctuator, and the quiet time after which a partial
 *                     batch leaves; while events keep arriving it waits at most 10 x linger (> 0, ms)
 * @param maxTextChars longest text accepted, in UTF-16 chars; longer ones are dead-lettered (>= 1)
 * @param headerForwarding which input headers an output record carries ({@code headers.forward},
 *                         {@code headers.forward.max})
 * @param includeText  whether an output record carries its input's text and text pair ({@code output.include.text});
 *                     when false both are null
 * @param batchCommit  when a batch's outputs are committed ({@code classifier.batch.commit}, see {@link BatchCommit})
 */
public record TopologySettings(int maxBatchSize, Duration linger, int maxTextChars, HeaderForwarding headerForwarding,
                               boolean includeText, BatchCommit batchCommit) {

    /**
     * When the outputs of a classified batch are committed, hence visible to read_committed consumers under
     * exactly-once (under at-least-once they are visible once sent; the commit then only moves the input offsets).
     */
    public enum BatchCommit {
        /**
         * Right after the flush that forwarded them (the default): the processor asks Kafka Streams to commit
         * ({@code ProcessorContext.commit()}), which it does after the current loop iteration, and the commit
         * interval still bounds the wait. A batch's outputs then wait for one commit instead of up to one
         * {@code commit.interval.ms} (100 ms under exactly-once). Costs one transaction per flush: at saturation a
         * flush of 32 takes longer than the interval anyway, so commits hardly become more frequent, but at mid load
         * (flushes of 1-5 events) the stream thread commits several times as often as every 100 ms; each commit took
         * it 2-4 ms on a local broker (measured in docs/performance.md, "Latency").
         */
        AFTER_BATCH,
        /** Only every {@code commit.interval.ms}, as Kafka Streams does by itself: fewer, larger transactions. */
        INTERVAL
    }

    /**
     * Defaults: batches of up to 32 events, 5 ms linger, texts up to 100000 chars, every non-reserved header
     * forwarded up to 64, a commit after every flush.
     */
    public static final TopologySettings DEFAULTS = new TopologySettings(32, Duration.ofMillis(5), 100_000);

    /**
     * Settings with the default header forwarding ({@link HeaderForwarding#DEFAULTS}).
     *
     * @param maxBatchSize most events per classifier call (>= 1)
     * @param linger       punctuator period and quiet time of a partial batch (> 0, ms)
     * @param maxTextChars longest text accepted, in UTF-16 chars (>= 1)
     * @throws IllegalArgumentException if a value is out of range
     */
    public TopologySettings(int maxBatchSize, Duration linger, int maxTextChars) {
        this(maxBatchSize, linger, maxTextChars, HeaderForwarding.DEFAULTS);
    }

    /**
     * Settings whose outputs carry their input's text (as for {@code text-event} input by default).
     *
     * @param maxBatchSize     most events per classifier call (>= 1)
     * @param linger           punctuator period and quiet time of a partial batch (> 0, ms)
     * @param maxTextChars     longest text accepted, in UTF-16 chars (>= 1)
     * @param headerForwarding which input headers an output record carries
     * @throws IllegalArgumentException if a value is out of range
     */
    public TopologySettings(int maxBatchSize, Duration linger, int maxTextChars, HeaderForwarding headerForwarding) {
        this(maxBatchSize, linger, maxTextChars, headerForwarding, true);
    }

    /**
     * Settings that commit after every flush that forwarded something ({@link BatchCommit#AFTER_BATCH}, the
     * default).
     *
     * @param maxBatchSize     most events per classifier call (>= 1)
     * @param linger           punctuator period and quiet time of a partial batch (> 0, ms)
     * @param maxTextChars     longest text accepted, in UTF-16 chars (>= 1)
     * @param headerForwarding which input headers an output record carries
     * @param includeText      whether an output record carries its input's text and text pair
     * @throws IllegalArgumentException if a value is out of range
     */
    public TopologySettings(int maxBatchSize, Duration linger, int maxTextChars, HeaderForwarding headerForwarding,
                            boolean includeText) {
        this(maxBatchSize, linger, maxTextChars, headerForwarding, includeText, BatchCommit.AFTER_BATCH);
    }

    /** @return these settings with {@code batchCommit} instead */
    public TopologySettings withBatchCommit(BatchCommit batchCommit) {
        return new TopologySettings(maxBatchSize, linger, maxTextChars, headerForwarding, includeText, batchCommit);
    }

    /** @throws IllegalArgumentException if a value is out of range */
    public TopologySettings {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("classifier.batch.max.size must be >= 1, got " + maxBatchSize);
        }
        if (linger == null || linger.toMillis() < 1) {
            throw new IllegalArgumentException("classifier.batch.linger.ms must be >= 1, got " + linger);
        }
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("max.text.chars must be >= 1, got " + maxTextChars);
        }
        if (headerForwarding == null) {
            throw new IllegalArgumentException("headers.forward is missing");
        }
        if (batchCommit == null) {
            throw new IllegalArgumentException("classifier.batch.commit is missing");
        }
    }
}
