package org.deebert.streams.topology;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of a dead-letter record. The {@code __streams.errors.*} names are Kafka Streams' own (KIP-1034,
 * {@code org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils}, an internal class, hence
 * repeated here; a test checks they match). Kafka Streams writes them itself for records its exception
 * handlers dead-letter; this class writes the same set for the one case its handlers cannot cover: a
 * classifier failure inside the batch punctuator, where Kafka Streams no longer knows the source record.
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
     * @param record    the buffered record that failed (its headers are copied first)
     * @param code      our error code
     * @param exception what failed
     * @return the headers for its dead-letter record
     */
    public static Headers forFailure(BufferedRecord record, DeadLetterCode code, Exception exception) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        StringWriter trace = new StringWriter();
        exception.printStackTrace(new PrintWriter(trace));
        add(headers, EXCEPTION, exception.getClass().getName());
        add(headers, MESSAGE, exception.getMessage());
        add(headers, STACKTRACE, trace.toString());
        add(headers, TOPIC, record.topic());
        add(headers, PARTITION, Integer.toString(record.partition()));
        add(headers, OFFSET, Long.toString(record.offset()));
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
