package org.deebert.streams.observability;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The service's health as {@code /health/live} and {@code /health/ready} report it.
 *
 * <ul>
 *   <li><b>live</b>: 200 unless Kafka Streams has failed (it entered PENDING_ERROR or ERROR, after which it
 *       ends in NOT_RUNNING and never processes again): restarting the process is the remedy.</li>
 *   <li><b>ready</b>: 200 only while Kafka Streams is RUNNING, else 503 ({@code NOT_READY}).</li>
 *   <li><b>degraded</b>: a control-topic record could not be decoded (e.g. its schema id is unknown after a
 *       Schema Registry lost its schemas), so the threshold in force may be stale. Readiness stays 200, since
 *       the service still classifies with the last good S, but the status reads {@code DEGRADED} with the
 *       reason, until a later control record for the model decodes.</li>
 * </ul>
 * Thread-safe.
 */
public final class HealthState {

    /** Health status as written in the JSON bodies. */
    public enum Status {
        /** Live, or ready and nothing wrong. */
        UP,
        /** Ready, but the control topic could not be read: the threshold may be stale. */
        DEGRADED,
        /** Kafka Streams is not RUNNING (starting, rebalancing, shutting down): not ready. */
        NOT_READY,
        /** Kafka Streams failed: not live. */
        DOWN
    }

    /**
     * One endpoint's answer.
     *
     * @param httpStatus 200 or 503
     * @param status     the status in the body
     * @param state      the Kafka Streams state
     * @param reason     why degraded or down, or null
     */
    public record Report(int httpStatus, Status status, KafkaStreams.State state, String reason) {
        /** @return the JSON body's fields: {@code status}, {@code kafkaStreamsState} and, when set, {@code reason} */
        public Map<String, Object> body() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", status.name());
            body.put("kafkaStreamsState", state.name());
            if (reason != null) {
                body.put("reason", reason);
            }
            return body;
        }
    }

    private volatile KafkaStreams.State state = KafkaStreams.State.CREATED;
    private volatile boolean failed;
    private volatile String degradedReason;

    /**
     * Kafka Streams' state listener ({@code streams.setStateListener(health::onStateChange)}): follows the
     * state and remembers a failure (PENDING_ERROR or ERROR).
     *
     * @param newState the state entered
     * @param oldState the state left
     */
    public void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        if (newState == KafkaStreams.State.PENDING_ERROR || newState == KafkaStreams.State.ERROR) {
            failed = true;
        }
        state = newState;
    }

    /**
     * Marks the service degraded.
     *
     * @param reason what cannot be read, e.g. topic, partition, offset and error code (never payload bytes)
     */
    public void degrade(String reason) {
        degradedReason = reason;
    }

    /** Clears the degraded mark (a control record for the model decoded again). */
    public void recover() {
        degradedReason = null;
    }

    /** @return whether the service is degraded now */
    public boolean degraded() {
        return degradedReason != null;
    }

    /** @return the answer of {@code /health/live} */
    public Report live() {
        KafkaStreams.State s = state;
        if (failed || s == KafkaStreams.State.PENDING_ERROR || s == KafkaStreams.State.ERROR) {
            return new Report(503, Status.DOWN, s, "Kafka Streams failed");
        }
        return new Report(200, Status.UP, s, null);
    }

    /** @return the answer of {@code /health/ready} */
    public Report ready() {
        KafkaStreams.State s = state;
        if (s != KafkaStreams.State.RUNNING) {
            return new Report(503, Status.NOT_READY, s, "Kafka Streams is " + s);
        }
        String reason = degradedReason;
        return reason == null ? new Report(200, Status.UP, s, null) : new Report(200, Status.DEGRADED, s, reason);
    }
}
