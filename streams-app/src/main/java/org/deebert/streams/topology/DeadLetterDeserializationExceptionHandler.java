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
 *       logged (one ERROR line: topic, partition, offset, reason) and skipped, and reported to the
 *       {@link StreamObserver} (the service turns DEGRADED): they are read by the global thread, which in
 *       Kafka Streams 4.3.1 cannot send dead-letter records (it has no record collector).</li>
 * </ul>
 */
public class DeadLetterDeserializationExceptionHandler implements DeserializationExceptionHandler {

    /** Comma-separated topics whose bad records are skipped without a dead-letter record. */
    public static final String NO_DEAD_LETTER_TOPICS_CONFIG = "deebert.errors.no.dead.letter.topics";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationExceptionHandler.class);

    private final LogAndContinueExceptionHandler delegate = new LogAndContinueExceptionHandler();
    private Set<String> noDeadLetterTopics = Set.of();
    private StreamObserver observer = StreamObserver.NONE;

    @Override
    public void configure(Map<String, ?> configs) {
        delegate.configure(configs);
        Object topics = configs.get(NO_DEAD_LETTER_TOPICS_CONFIG);
        if (topics != null && !topics.toString().isBlank()) {
            noDeadLetterTopics = Set.of(topics.toString().trim().split("\\s*,\\s*"));
        }
        observer = StreamObserver.from(configs);
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
            // One ERROR line instead of the delegate's WARN: the threshold in force may now be stale, and the
            // observer reports the service as degraded (/health/ready) until a record for the model decodes.
            String why = reason != null ? reason.name() : exception.getClass().getName();
            LOG.error("Undecodable control record skipped: topic {} partition {} offset {}: {}; the threshold in "
                    + "force is unchanged", record.topic(), record.partition(), record.offset(), why);
            observer.controlRecordUndecodable(record.topic(), record.partition(), record.offset(), why);
            return Response.resume();
        }
        Response response = delegate.handleError(context, record, exception);
        DeadLetterCode code = reason == null ? DeadLetterCode.DESERIALIZATION_FAILURE : DeadLetterCode.of(reason);
        for (ProducerRecord<byte[], byte[]> dlq : response.deadLetterQueueRecords()) {
            DeadLetterHeaders.setCode(dlq.headers(), code);
        }
        observer.deadLettered(code);
        return response;
    }
}
