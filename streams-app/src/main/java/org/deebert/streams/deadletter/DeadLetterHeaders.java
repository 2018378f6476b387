package org.deebert.streams.deadletter;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;

/**
 * Headers of a dead-letter record: the input record's headers without reserved ones
 * ({@link ReservedHeaders}: an input could otherwise carry a spoofed or stale code or error), then
 * Kafka Streams' {@code __streams.errors.*} set, then our {@value DeadLetterCode#HEADER}. The
 * {@code __streams.errors.*} names are Kafka Streams' own (KIP-1034,
 * {@code org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils}, an internal class, hence repeated
 * here; a test checks they match), written in the same order and encoding as Kafka Streams' own handlers
 * write them, so a consumer of the dead-letter topic sees one format whichever path dead-lettered a record.
 * All three paths (deserialization and processing exception handlers, classifier failure in the batch)
 * build their headers here; see {@link DeadLetterRecords} for why our handlers do not delegate to Kafka
 * Streams' own.
 */
public final class DeadLetterHeaders {

    /** Class name of the exception. */
    public static final String EXCEPTION = "__streams.errors.exception";
    /** The exception's message. */
    public static final String MESSAGE = "__streams.errors.message";
    /** The exception's stack trace. */
    public static final String STACKTRACE = "__streams.errors.stacktrace";
    /** Topic the failed record was read from. */
    public static final String TOPIC = "__streams.errors.topic";
    /** Partition it was read from (decimal string). */
    public static final String PARTITION = "__streams.errors.partition";
    /** Offset it was read at (decimal string). */
    public static final String OFFSET = "__streams.errors.offset";

    private DeadLetterHeaders() {
    }

    /**
     * @param original  the failed record's headers as read (not modified; the non-reserved ones are copied first)
     * @param topic     the topic it was read from
     * @param partition the partition it was read from
     * @param offset    its offset there
     * @param code      our error code
     * @param exception what failed
     * @return the headers for its dead-letter record
     */
    public static Headers forFailure(Headers original, String topic, int partition, long offset, DeadLetterCode code,
                                     Exception exception) {
        Headers headers = ReservedHeaders.withoutReserved(original);
        StringWriter trace = new StringWriter();
        exception.printStackTrace(new PrintWriter(trace));
        add(headers, EXCEPTION, exception.getClass().getName());
        add(headers, MESSAGE, exception.getMessage());
        add(headers, STACKTRACE, trace.toString());
        add(headers, TOPIC, topic);
        add(headers, PARTITION, Integer.toString(partition));
        add(headers, OFFSET, Long.toString(offset));
        setCode(headers, code);
        return headers;
    }

    /** Replaces any {@value DeadLetterCode#HEADER} header with {@code code} (a re-fed record may carry an old one). */
    public static void setCode(Headers headers, DeadLetterCode code) {
        headers.remove(DeadLetterCode.HEADER);
        headers.add(DeadLetterCode.HEADER, code.name().getBytes(StandardCharsets.UTF_8));
    }

    private static void add(Headers headers, String key, String value) {
        headers.add(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }
}
