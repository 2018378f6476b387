package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterRecords;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.deebert.streams.input.InputFieldException;
import org.deebert.streams.registry.WireFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' "log and continue" for records that fail to deserialize: one WARN line, the raw record to
 * {@code errors.dead.letter.queue.topic.name} with the {@code __streams.errors.*} headers and a
 * {@value DeadLetterCode#HEADER} header from the {@link WireFormatException}'s or {@link InputFieldException}'s
 * reason, keep running. The
 * record is built by {@link DeadLetterRecords} rather than by delegating to Kafka Streams'
 * {@code LogAndContinueExceptionHandler}, which logs a stack trace per record (see there why). Configure it
 * with {@code deserialization.exception.handler}. Two exceptions to "dead-letter and continue":
 * <ul>
 *   <li>REGISTRY_UNAVAILABLE fails the stream thread instead: the record is fine, the registry is not;
 *       dead-lettering would lose good data during an outage. With exactly-once the replaced thread
 *       re-reads from the last commit.</li>
 *   <li>Records of the topics in {@value #NO_DEAD_LETTER_TOPICS_CONFIG} (the control topic) are only
 *       logged (one ERROR line: topic, partition, offset, reason) and skipped, and reported to the
 *       {@link StreamObserver} (the service turns DEGRADED): they are read by the global thread, which in
 *       Kafka Streams 4.3.1 cannot send dead-letter records (it has no record collector).</li>
 * </ul>
 * Whatever the handler, Kafka Streams itself logs each such record once more ("Skipping record due to
 * deserialization error", WARN with the stack trace) from {@code RecordDeserializer}, and from
 * {@code GlobalStateManagerImpl} when the global store re-reads the control topic at every start; the service's
 * logging configurations ({@code logback.xml}, the demo's and the tests') drop that message with
 * {@link org.deebert.streams.observability.SkippedRecordLogFilter}, since this handler's line says the same with
 * the code. So each undecodable control record gives one ERROR line per start of the service: the global store is
 * in memory and rebuilt from the whole control topic, and nothing remembers across restarts what was logged.
 * A test checks {@code logback.xml} installs the filter.
 */
public class DeadLetterDeserializationExceptionHandler implements DeserializationExceptionHandler {

    /** Comma-separated topics whose bad records are skipped without a dead-letter record. */
    public static final String NO_DEAD_LETTER_TOPICS_CONFIG = "deebert.errors.no.dead.letter.topics";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationExceptionHandler.class);

    private String deadLetterTopic;
    private Set<String> noDeadLetterTopics = Set.of();
    private StreamObserver observer = StreamObserver.NONE;

    @Override
    public void configure(Map<String, ?> configs) {
        Object dlq = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = dlq == null ? null : dlq.toString();
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
            // One ERROR line, not a WARN: the threshold in force may now be stale, and the observer reports the
            // service as degraded (/health/ready) until a record for the model decodes.
            String why = reason != null ? reason.name() : exception.getClass().getName();
            LOG.error("Undecodable control record skipped: topic {} partition {} offset {}: {}; the threshold in "
                    + "force is unchanged", record.topic(), record.partition(), record.offset(), why);
            LOG.debug("Undecodable control record at {}-{} offset {}", record.topic(), record.partition(),
                    record.offset(), exception);
            observer.controlRecordUndecodable(record.topic(), record.partition(), record.offset(), why);
            return Response.resume();
        }
        DeadLetterCode code = exception instanceof InputFieldException field ? DeadLetterCode.of(field.reason())
                : reason == null ? DeadLetterCode.DESERIALIZATION_FAILURE : DeadLetterCode.of(reason);
        DeadLetterRecords.logOnce(LOG, "Dead-lettered", code, record.topic(), record.partition(), record.offset(),
                exception);
        List<ProducerRecord<byte[], byte[]>> deadLetters = DeadLetterRecords.build(deadLetterTopic, context, code, exception);
        observer.deadLettered(code);
        return Response.resume(deadLetters);
    }
}
