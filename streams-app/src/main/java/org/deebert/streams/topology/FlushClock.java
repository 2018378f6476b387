package org.deebert.streams.topology;

import java.util.function.LongSupplier;

/**
 * The classify processor's wall clock, ms since the epoch. Kafka Streams' {@code currentSystemTimeMs()} is cached
 * once per processing loop and stands still while a batch is classified, so after a 250 ms batch the records of the
 * same loop would look 250 ms old and a batch's {@code processed_at} would be when the loop began. This clock adds
 * what the processor's flushes took since the cached time last moved, the running flush included. One per processor
 * instance, on its stream thread; not thread-safe.
 */
final class FlushClock {

    private final LongSupplier cachedMs;
    /** The last value seen of the cached wall-clock time (ms). */
    private long lastCachedMs = Long.MIN_VALUE;
    /** Wall-clock ms spent in flushes since the cached time last moved. */
    private long flushedMs;
    /** {@link System#nanoTime()} when the running flush began; -1 outside a flush. */
    private long flushStartNanos = -1;

    /** @param cachedMs Kafka Streams' cached wall-clock time, ms ({@code ProcessorContext::currentSystemTimeMs}) */
    FlushClock(LongSupplier cachedMs) {
        this.cachedMs = cachedMs;
    }

    /** @return the cached time plus the flush time since it moved, ms since the epoch */
    long nowMs() {
        long cached = cachedMs.getAsLong();
        if (cached != lastCachedMs) {
            lastCachedMs = cached;
            flushedMs = 0;
        }
        long inFlush = flushStartNanos < 0 ? 0 : (System.nanoTime() - flushStartNanos) / 1_000_000;
        return cached + flushedMs + inFlush;
    }

    /** Marks the start of a flush: from now on {@link #nowMs} runs with the real clock. */
    void flushStarted() {
        nowMs(); // resets the count first if the cached time moved since the last call
        flushStartNanos = System.nanoTime();
    }

    /** Marks the end of the flush started last: its time is kept until the cached time moves. */
    void flushEnded() {
        flushedMs += (System.nanoTime() - flushStartNanos) / 1_000_000;
        flushStartNanos = -1;
    }
}
