package org.deebert.streams.app;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' uncaught-exception handler of the service: a stream thread that dies (e.g. the Schema Registry
 * is unreachable while a record is decoded) is replaced, and its successor resumes from the last commit
 * (exactly-once), so nothing is lost or duplicated. But a thread that dies again and again is a fault that a
 * new thread does not cure: more than {@code maxReplacements} deaths within {@code window} shut the client
 * down and report the failure, so that {@code run} exits non-zero and an orchestrator restarts the process
 * (which also re-reads the configuration and re-checks the registry and topics at start).
 *
 * <p>Before each replacement the dying thread waits 1 s, doubling per death in the window up to
 * {@value #MAX_BACKOFF_MS} ms: a registry outage then costs a few replacements a minute rather than a busy loop,
 * and the default budget (10 in 5 minutes) allows a registry outage of about a minute and a half before the
 * process gives up.
 */
final class ThreadFailurePolicy implements StreamsUncaughtExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadFailurePolicy.class);
    static final long MAX_BACKOFF_MS = 10_000;

    private final int maxReplacements;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private final Consumer<String> fatal;
    private final Deque<Long> deaths = new ArrayDeque<>();
    private final boolean sleep;

    /**
     * @param maxReplacements most deaths within {@code window} answered by a replacement (at least 1)
     * @param window          the sliding window
     * @param fatal           told the reason when the budget is spent (before the client shuts down)
     */
    ThreadFailurePolicy(int maxReplacements, Duration window, Consumer<String> fatal) {
        this(maxReplacements, window, fatal, System::nanoTime, true);
    }

    /** For tests: a clock of their own and no back-off sleep. */
    ThreadFailurePolicy(int maxReplacements, Duration window, Consumer<String> fatal, LongSupplier nanoTime, boolean sleep) {
        this.maxReplacements = maxReplacements;
        this.windowNanos = window.toNanos();
        this.fatal = fatal;
        this.nanoTime = nanoTime;
        this.sleep = sleep;
    }

    @Override
    public StreamThreadExceptionResponse handle(Throwable exception) {
        int inWindow;
        synchronized (deaths) {
            long now = nanoTime.getAsLong();
            deaths.addLast(now);
            while (now - deaths.peekFirst() > windowNanos) {
                deaths.removeFirst();
            }
            inWindow = deaths.size();
        }
        if (inWindow > maxReplacements) {
            String reason = "stream threads died " + inWindow + " times within " + windowNanos / 1_000_000_000L
                    + " s (last: " + exception.getClass().getName() + ")";
            LOG.error("Stream thread failed ({}); {}: shutting down", exception.getClass().getName(), reason, exception);
            fatal.accept(reason);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        long backoffMs = backoffMs(inWindow);
        LOG.error("Stream thread failed ({}); replacing it in {} ms ({} of {} replacements within the window)",
                exception.getClass().getName(), backoffMs, inWindow, maxReplacements, exception);
        if (sleep) {
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /** @return 1 s for the first death in the window, doubling, at most {@value #MAX_BACKOFF_MS} ms */
    static long backoffMs(int deathsInWindow) {
        return Math.min(MAX_BACKOFF_MS, 1000L << Math.min(20, Math.max(0, deathsInWindow - 1)));
    }
}
