package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterRecords;
import org.deebert.streams.deadletter.InvalidTextEventException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' "log and continue" for records a processor throws on: one WARN line, the source record's
 * raw bytes to {@code errors.dead.letter.queue.topic.name} with the {@code __streams.errors.*} headers and
 * a {@value DeadLetterCode#HEADER} header (an {@link InvalidTextEventException}'s code, or
 * PROCESSING_FAILURE for anything else), keep running. The record is built by {@link DeadLetterRecords}
 * rather than by delegating to Kafka Streams' {@code LogAndContinueProcessingExceptionHandler}, which logs a
 * stack trace per record (see there why). Configure it with {@code processing.exception.handler}.
 */
public class DeadLetterProcessingExceptionHandler implements ProcessingExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingExceptionHandler.class);

    private String deadLetterTopic;
    private StreamObserver observer = StreamObserver.NONE;

    @Override
    public void configure(Map<String, ?> configs) {
        Object dlq = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = dlq == null ? null : dlq.toString();
        observer = StreamObserver.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        DeadLetterCode code = exception instanceof InvalidTextEventException invalid
                ? invalid.code() : DeadLetterCode.PROCESSING_FAILURE;
        DeadLetterRecords.logOnce(LOG, "Dead-lettered", code, context.topic(), context.partition(), context.offset(),
                exception);
        List<ProducerRecord<byte[], byte[]>> deadLetters = DeadLetterRecords.build(deadLetterTopic, context, code, exception);
        observer.deadLettered(code);
        return Response.resume(deadLetters);
    }
}
