package org.deebert.streams.observability;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The service's health as {@code /health/live} and {@code /health/ready} report it.
 *
 * <ul>
 *   <li><b>live</b>: 200 unless the service has failed: Kafka Streams entered PENDING_ERROR or ERROR (after which
 *       it ends in NOT_RUNNING and never processes again), or the service found a fatal condition itself
 *       ({@link #fail}: a topic it writes was deleted, stream threads keep dying). Restarting the process is the
 *       remedy, and {@code run} exits non-zero so that an orchestrator does it.</li>
 *   <li><b>ready</b>: 200 only while Kafka Streams is RUNNING and the service has not failed, else 503
 *       ({@code NOT_READY}, or {@code DOWN} with the reason once failed).</li>
 *   <li><b>degraded</b>: something the service relies on is wrong but it still classifies correctly, e.g. a
 *       control-topic record could not be decoded (the threshold in force may be stale), or the Schema Registry
 *       no longer holds a schema id the service cached. Readiness stays 200 but the status reads
 *       {@code DEGRADED} with the reasons, one per source, until each source recovers.</li>
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

    /** The source of {@link #degrade(String)}: the control topic. */
    public static final String CONTROL_TOPIC = "control-topic";

    private volatile KafkaStreams.State state = KafkaStreams.State.CREATED;
    private volatile boolean failed;
    private volatile String failure;
    private final Map<String, String> degradedBy = new TreeMap<>();

    /**
     * Kafka Streams' state listener ({@code streams.setStateListener(health::onStateChange)}): follows the
     * state and remembers a failure (PENDING_ERROR or ERROR).
     *
     * @param newState the state entered
     * @param oldState the state left
     */
    public void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        if (newState == KafkaStreams.State.PENDING_ERROR || newState == KafkaStreams.State.ERROR) {
            fail("Kafka Streams entered " + newState);
        }
        state = newState;
    }

    /**
     * Marks the service failed for good: live and ready both answer 503 {@code DOWN} with the reason. The first
     * reason is kept.
     *
     * @param reason what failed (a topic name, a count of thread failures; never payload bytes)
     */
    public synchronized void fail(String reason) {
        if (!failed) {
            failure = reason;
            failed = true;
        }
    }

    /** @return whether the service has failed ({@link #fail}, or Kafka Streams' PENDING_ERROR/ERROR) */
    public boolean failed() {
        return failed;
    }

    /**
     * Marks the service degraded by the control topic ({@link #CONTROL_TOPIC}).
     *
     * @param reason what cannot be read, e.g. topic, partition, offset and error code (never payload bytes)
     */
    public void degrade(String reason) {
        degrade(CONTROL_TOPIC, reason);
    }

    /**
     * Marks the service degraded by one source; each source's latest reason is reported until it recovers.
     *
     * @param source what is degraded, e.g. {@link #CONTROL_TOPIC} or {@code schema-registry}
     * @param reason why (never payload bytes)
     */
    public synchronized void degrade(String source, String reason) {
        degradedBy.put(source, reason);
    }

    /** Clears the control topic's degraded mark (a control record for the model decoded again). */
    public void recover() {
        recover(CONTROL_TOPIC);
    }

    /** @param source the source whose degraded mark to clear */
    public synchronized void recover(String source) {
        degradedBy.remove(source);
    }

    /**
     * @param source a source passed to {@link #degrade(String, String)}
     * @return whether that source has degraded the service and not recovered
     */
    public synchronized boolean degradedBy(String source) {
        return degradedBy.containsKey(source);
    }

    /** @return whether the service is degraded now, by any source */
    public synchronized boolean degraded() {
        return !degradedBy.isEmpty();
    }

    /** @return the answer of {@code /health/live} */
    public Report live() {
        KafkaStreams.State s = state;
        if (failed) {
            return new Report(503, Status.DOWN, s, failure);
        }
        return new Report(200, Status.UP, s, null);
    }

    /** @return the answer of {@code /health/ready} */
    public Report ready() {
        KafkaStreams.State s = state;
        if (failed) {
            return new Report(503, Status.DOWN, s, failure);
        }
        if (s != KafkaStreams.State.RUNNING) {
            return new Report(503, Status.NOT_READY, s, "Kafka Streams is " + s);
        }
        String reason = degradedReason();
        return reason == null ? new Report(200, Status.UP, s, null) : new Report(200, Status.DEGRADED, s, reason);
    }

    private synchronized String degradedReason() {
        return degradedBy.isEmpty() ? null : String.join("; ", degradedBy.values());
    }
}
