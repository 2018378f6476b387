package org.deebert.streams.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Logback filter that drops Kafka Streams' own WARN "Skipping record due to deserialization error" (with the
 * exception's stack trace, about 15 lines per record), which Kafka Streams 4.3.1 writes after the
 * deserialization exception handler has answered "continue". The service's handler
 * ({@link org.deebert.streams.topology.DeadLetterDeserializationExceptionHandler}) already logs one line per
 * such record with topic, partition, offset and reason, so the WARN says the same thing a second time.
 *
 * <p>Kafka Streams writes it from two loggers: {@code RecordDeserializer} (stream threads, and the global
 * thread while it runs) and {@code GlobalStateManagerImpl} (the global store's restoration, which re-reads the
 * whole control topic at every start). A logger level cannot be used for the second: that logger's other
 * warnings (restoration timeouts, wiped global state) must stay. Only WARN events of loggers under
 * {@code org.apache.kafka.streams.} whose message contains {@link #MESSAGE} are denied; every other event
 * passes this filter untouched (NEUTRAL). Installed with {@code <turboFilter class="..."/>} in
 * {@code logback.xml}, the demo's and the tests' logging configurations.
 */
public final class SkippedRecordLogFilter extends TurboFilter {

    /** The text of Kafka Streams' per-record warning (its LogContext adds a thread prefix in front). */
    public static final String MESSAGE = "Skipping record due to deserialization error";
    private static final String KAFKA_STREAMS_LOGGERS = "org.apache.kafka.streams.";

    /**
     * @return DENY for Kafka Streams' per-record deserialization warning, else NEUTRAL
     */
    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        // Level first: this runs for every logging call of the process, enabled or not.
        if (level != Level.WARN || format == null || !logger.getName().startsWith(KAFKA_STREAMS_LOGGERS)
                || !format.contains(MESSAGE)) {
            return FilterReply.NEUTRAL;
        }
        return FilterReply.DENY;
    }
}
