package org.deebert.streams.topology;

import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.deebert.streams.registry.WireFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' {@link LogAndContinueExceptionHandler} (log, send the raw record to
 * {@code errors.dead.letter.queue.topic.name} with the {@code __streams.errors.*} headers, keep running),
 * plus a {@value DeadLetterCode#HEADER} header from the {@link WireFormatException}'s reason. Configure
 * it with {@code deserialization.exception.handler}. Two exceptions to "dead-letter and continue":
 * <ul>
 *   <li>REGISTRY_UNAVAILABLE fails the stream thread instead: the record is fine, the registry is not;
 *       dead-lettering would lose good data during an outage. With exactly-once the replaced thread
 *       re-reads from the last commit.</li>
 *   <li>Records of the topics in {@value #NO_DEAD_LETTER_TOPICS_CONFIG} (the control topic) are only
 *       logged and skipped: they are read by the global thread, which in Kafka Streams 4.3.1 cannot send
 *       dead-letter records (it has no record collector).</li>
 * </ul>
 */
public class DeadLetterDeserializationExceptionHandler implements DeserializationExceptionHandler {

    /** Comma-separated topics whose bad records are skipped without a dead-letter record. */
    public static final String NO_DEAD_LETTER_TOPICS_CONFIG = "deebert.errors.no.dead.letter.topics";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationExceptionHandler.class);

    private final LogAndContinueExceptionHandler delegate = new LogAndContinueExceptionHandler();
    private final LogAndContinueExceptionHandler withoutDeadLetter = new LogAndContinueExceptionHandler();
    private Set<String> noDeadLetterTopics = Set.of();

    @Override
    public void configure(Map<String, ?> configs) {
        delegate.configure(configs);
        withoutDeadLetter.configure(Map.of());
        Object topics = configs.get(NO_DEAD_LETTER_TOPICS_CONFIG);
        if (topics != null && !topics.toString().isBlank()) {
            noDeadLetterTopics = Set.of(topics.toString().trim().split("\\s*,\\s*"));
        }
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        WireFormatException.Reason reason = exception instanceof WireFormatException wfe ? wfe.getReason() : null;
        if (reason == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
            LOG.error("Schema Registry unavailable while reading topic {} partition {} offset {}: failing the thread "
                    + "so the record is retried", record.topic(), record.partition(), record.offset());
            return Response.fail();
        }
        if (noDeadLetterTopics.contains(record.topic())) {
            return withoutDeadLetter.handleError(context, record, exception);
        }
        Response response = delegate.handleError(context, record, exception);
        DeadLetterCode code = reason == null ? DeadLetterCode.DESERIALIZATION_FAILURE : DeadLetterCode.of(reason);
        for (ProducerRecord<byte[], byte[]> dlq : response.deadLetterQueueRecords()) {
            DeadLetterHeaders.setCode(dlq.headers(), code);
        }
        return response;
    }
}
