package org.deebert.streams.topology;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Kafka Streams' {@link LogAndContinueProcessingExceptionHandler} (log, send the source record's raw
 * bytes to {@code errors.dead.letter.queue.topic.name} with the {@code __streams.errors.*} headers, keep
 * running), plus one header of ours: {@value DeadLetterCode#HEADER}, taken from an
 * {@link InvalidTextEventException}'s code or PROCESSING_FAILURE for anything else. Configure it with
 * {@code processing.exception.handler}.
 */
public class DeadLetterProcessingExceptionHandler implements ProcessingExceptionHandler {

    private final LogAndContinueProcessingExceptionHandler delegate = new LogAndContinueProcessingExceptionHandler();
    private StreamObserver observer = StreamObserver.NONE;

    @Override
    public void configure(Map<String, ?> configs) {
        delegate.configure(configs);
        observer = StreamObserver.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        Response response = delegate.handleError(context, record, exception);
        DeadLetterCode code = exception instanceof InvalidTextEventException invalid
                ? invalid.code() : DeadLetterCode.PROCESSING_FAILURE;
        for (ProducerRecord<byte[], byte[]> dlq : response.deadLetterQueueRecords()) {
            DeadLetterHeaders.setCode(dlq.headers(), code);
        }
        observer.deadLettered(code);
        return response;
    }
}
