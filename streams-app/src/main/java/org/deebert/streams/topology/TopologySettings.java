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
 */
public record TopologySettings(int maxBatchSize, Duration linger, int maxTextChars, HeaderForwarding headerForwarding,
                               boolean includeText) {

    /**
     * Defaults: batches of up to 32 events, 5 ms linger, texts up to 100000 chars, every non-reserved header
     * forwarded up to 64.
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
    }
}
