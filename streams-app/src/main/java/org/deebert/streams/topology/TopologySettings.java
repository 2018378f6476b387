package org.deebert.streams.topology;

import java.time.Duration;

/**
 * How the classify processor batches and validates.
 *
 * @param maxBatchSize most events per classifier call; a full buffer is classified at once (>= 1)
 * @param linger       how long a buffered event may wait for others: the period of the wall-clock
 *                     punctuator that classifies whatever is buffered (> 0, ms resolution)
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
