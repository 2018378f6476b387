package org.deebert.streams.deadletter;

import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;

/**
 * What every dead-lettering path shares: the dead-letter record built from Kafka Streams' error context, and
 * the one log line per bad record.
 *
 * <p><b>Why our exception handlers build the record themselves.</b> They used to delegate to Kafka Streams'
 * {@code LogAndContinueExceptionHandler} / {@code LogAndContinueProcessingExceptionHandler}, which build the
 * record with {@code ExceptionHandlerUtils} but also log a WARN with the full stack trace (~40 lines) for every
 * bad record; we then logged again. Kafka Streams 4.3.1 offers no public way to get its dead-letter record
 * without that log line: {@code ExceptionHandlerUtils} lives in an internal package (no compatibility
 * promise), and turning the delegate's logger off in the logging configuration would hide the problem only
 * where our configuration is used, and would also hide it for anyone who configures those handlers directly.
 * Building the record is a dozen lines of public API (the error context gives the raw key, value, headers,
 * timestamp and source position), {@link DeadLetterHeaders} writes Kafka Streams' header names (checked
 * against {@code ExceptionHandlerUtils} by a test), and it lets all three paths drop spoofed reserved headers
 * in one place.
 *
 * <p><b>Logging.</b> One WARN line per bad record: code, source topic, partition, offset, exception class and
 * message (shortened, on one line). Never the record's key, value or text. The stack trace goes to DEBUG, and
 * into the dead-letter record's {@value DeadLetterHeaders#STACKTRACE} header.
 */
public final class DeadLetterRecords {

    /** Longest exception message logged, in chars; a message is for a human, not a dump of the input. */
    static final int MAX_LOGGED_MESSAGE_CHARS = 300;

    private DeadLetterRecords() {
    }

    /**
     * @param deadLetterTopic the dead-letter topic ({@code errors.dead.letter.queue.topic.name}), or null for none
     * @param context         Kafka Streams' context of the failed record (raw key and value as consumed)
     * @param code            our error code
     * @param exception       what failed
     * @return the record's dead-letter record, or an empty list when no dead-letter topic is configured (as Kafka
     *         Streams' own handlers do)
     */
    public static List<ProducerRecord<byte[], byte[]>> build(String deadLetterTopic, ErrorHandlerContext context,
                                                             DeadLetterCode code, Exception exception) {
        if (deadLetterTopic == null || deadLetterTopic.isBlank()) {
            return List.of();
        }
        // Partition null: the producer's partitioner places it by key, as Kafka Streams' handlers do.
        return List.of(new ProducerRecord<>(deadLetterTopic, null, context.timestamp(), context.sourceRawKey(),
                context.sourceRawValue(), DeadLetterHeaders.forFailure(context.headers(), context.topic(),
                context.partition(), context.offset(), code, exception)));
    }

    /**
     * Logs the one WARN line of a bad record (and its stack trace at DEBUG).
     *
     * @param log       the caller's logger
     * @param action    what happens to the record, e.g. "Dead-lettered" or "Skipped (no dead-letter topic)"
     * @param code      our error code
     * @param topic     topic the record was read from
     * @param partition its partition
     * @param offset    its offset
     * @param exception what failed
     */
    public static void logOnce(Logger log, String action, DeadLetterCode code, String topic, int partition, long offset,
                               Exception exception) {
        log.warn("{} record {}-{} offset {}: {} ({}: {})", action, topic, partition, offset, code,
                exception.getClass().getName(), oneLine(exception.getMessage()));
        if (log.isDebugEnabled()) {
            log.debug("Stack trace of the bad record {}-{} offset {}", topic, partition, offset, exception);
        }
    }

    /** @return the message on one line and at most {@link #MAX_LOGGED_MESSAGE_CHARS} long; "" for null */
    static String oneLine(String message) {
        if (message == null) {
            return "";
        }
        String flat = message.replaceAll("[\\r\\n\\t]+", " ").strip();
        return flat.length() <= MAX_LOGGED_MESSAGE_CHARS ? flat : flat.substring(0, MAX_LOGGED_MESSAGE_CHARS) + "...";
    }
}
