package org.deebert.streams.topology;

import java.time.Duration;

/**
 * How the classify processor batches and validates.
 *
 * @param maxBatchSize most events per classifier call; a full buffer is classified at once (>= 1)
 * @param linger       the period of the wall-clock punctuator, and the quiet time after which a partial
 *                     batch leaves; while events keep arriving it waits at most 10 x linger (> 0, ms)
 * @param maxTextChars longest text accepted, in UTF-16 chars; longer ones are dead-lettered (>= 1)
 */
public record TopologySettings(int maxBatchSize, Duration linger, int maxTextChars) {

    /** Defaults: batches of up to 32 events, 5 ms linger, texts up to 100000 chars. */
    public static final TopologySettings DEFAULTS = new TopologySettings(32, Duration.ofMillis(5), 100_000);

    /** @throws IllegalArgumentException if a value is out of range */
    public TopologySettings {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("max.batch.size must be >= 1, got " + maxBatchSize);
        }
        if (linger == null || linger.toMillis() < 1) {
            throw new IllegalArgumentException("linger.ms must be >= 1, got " + linger);
        }
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("max.text.chars must be >= 1, got " + maxTextChars);
        }
    }
}
