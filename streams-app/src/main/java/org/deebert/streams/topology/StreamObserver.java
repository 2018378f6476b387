package org.deebert.streams.topology;

import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.deadletter.DeadLetterCode;
import java.util.Map;

/**
 * What the topology reports to whoever watches the service (the {@code /metrics} and {@code /health}
 * endpoints): observations that Kafka Streams' own sensors cannot carry, namely distributions (batch size,
 * latencies), dead letters by code, and whether the control topic can be read. Exit counts, events
 * classified and rates stay in {@link ClassifierMetrics}' Kafka Streams sensors and are read from there.
 *
 * <p>The instance reaches the exception handlers and processors through the Streams configuration under
 * {@value #CONFIG} ({@link ClassifierTopology#streamsConfig(Topics, StreamObserver)} puts it there): Kafka
 * Streams creates the handlers by class name and hands them the configuration in {@code configure}, and
 * processors see it as {@code context.appConfigs()}. Without it, {@link #NONE} is used.
 *
 * <p>Methods are called from stream threads and the global thread at the same time; implementations
 * must be thread-safe and must not block. Every method has an empty default.
 */
public interface StreamObserver {

    /** Streams configuration key holding the {@link StreamObserver} instance (an object, not a string). */
    String CONFIG = "deebert.stream.observer";

    /** Observes nothing. */
    StreamObserver NONE = new StreamObserver() {
    };

    /**
     * One classifier call finished.
     *
     * @param events            events in the batch (at least 1)
     * @param classifierSeconds wall time of the classifier call, in s
     */
    default void batchClassified(int events, double classifierSeconds) {
    }

    /**
     * One event was classified and forwarded to the output topic.
     *
     * @param endToEndSeconds from the input record's timestamp (the producer's create time, or the broker's
     *                        append time on LogAppendTime topics) to the end of its classification, in s
     */
    default void eventClassified(double endToEndSeconds) {
    }

    /**
     * One event was classified as {@code label} and forwarded to the output topic (called with
     * {@link #eventClassified}, once per event).
     *
     * @param label the label name the classifier answered (one of the model's labels)
     */
    default void eventLabeled(String label) {
    }

    /**
     * One record was sent to the dead-letter topic.
     *
     * @param code why (the {@value DeadLetterCode#HEADER} header's value)
     */
    default void deadLettered(DeadLetterCode code) {
    }

    /**
     * A control-topic record could not be decoded and was skipped (the global thread cannot dead-letter):
     * the threshold in force may be stale.
     *
     * @param topic     the control topic
     * @param partition its partition
     * @param offset    the record's offset
     * @param reason    why, without any payload bytes (e.g. {@code UNKNOWN_SCHEMA_ID})
     */
    default void controlRecordUndecodable(String topic, int partition, long offset, String reason) {
    }

    /** A control-topic record for the served model decoded again: the control topic is readable. */
    default void controlRecordDecoded() {
    }

    /**
     * Events of one batch ran through every layer as shadow samples of the accuracy budget in force.
     *
     * @param events shadow samples in the batch (at least 1)
     */
    default void shadowSampled(int events) {
    }

    /**
     * The budget controller decided (it runs on the one instance that owns the shadow-sample partition).
     *
     * @param status its window's figures, or null when this instance stopped running it (no budget in force, or
     *               its task moved to another instance)
     */
    default void controllerDecided(ControllerStatus status) {
    }

    /**
     * @param configs the Streams configuration (handler {@code configure} or {@code context.appConfigs()})
     * @return the observer under {@value #CONFIG}, or {@link #NONE} when there is none
     */
    static StreamObserver from(Map<String, ?> configs) {
        Object value = configs == null ? null : configs.get(CONFIG);
        return value instanceof StreamObserver observer ? observer : NONE;
    }
}
