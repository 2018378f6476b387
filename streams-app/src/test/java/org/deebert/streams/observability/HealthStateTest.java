package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;

class HealthStateTest {

    @Test
    void isLiveButNotReadyUntilKafkaStreamsRuns() {
        HealthState health = new HealthState();
        assertThat(health.live().httpStatus()).isEqualTo(200);
        assertThat(health.ready().httpStatus()).isEqualTo(503);
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.NOT_READY);

        health.onStateChange(State.REBALANCING, State.CREATED);
        assertThat(health.ready().httpStatus()).isEqualTo(503);

        health.onStateChange(State.RUNNING, State.REBALANCING);
        assertThat(health.ready().httpStatus()).isEqualTo(200);
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.UP);
        assertThat(health.ready().body()).containsEntry("status", "UP").containsEntry("kafkaStreamsState", "RUNNING")
                .doesNotContainKey("reason");
    }

    @Test
    void aFailureEndsLivenessEvenAfterKafkaStreamsReachesNotRunning() {
        HealthState health = new HealthState();
        health.onStateChange(State.RUNNING, State.REBALANCING);
        health.onStateChange(State.PENDING_ERROR, State.RUNNING);
        assertThat(health.live().httpStatus()).isEqualTo(503);
        assertThat(health.live().status()).isEqualTo(HealthState.Status.DOWN);
        health.onStateChange(State.ERROR, State.PENDING_ERROR);
        health.onStateChange(State.PENDING_SHUTDOWN, State.ERROR);
        health.onStateChange(State.NOT_RUNNING, State.PENDING_SHUTDOWN);
        assertThat(health.live().httpStatus()).isEqualTo(503);
        assertThat(health.ready().httpStatus()).isEqualTo(503);
    }

    @Test
    void aCleanShutdownIsNotAFailure() {
        HealthState health = new HealthState();
        health.onStateChange(State.RUNNING, State.REBALANCING);
        health.onStateChange(State.PENDING_SHUTDOWN, State.RUNNING);
        health.onStateChange(State.NOT_RUNNING, State.PENDING_SHUTDOWN);
        assertThat(health.live().httpStatus()).isEqualTo(200);
        assertThat(health.ready().httpStatus()).isEqualTo(503);
    }

    @Test
    void degradedStaysReadyWithTheReasonUntilRecovered() {
        HealthState health = new HealthState();
        health.onStateChange(State.RUNNING, State.REBALANCING);

        health.degrade("control record at c-0 offset 3 could not be decoded (UNKNOWN_SCHEMA_ID)");

        HealthState.Report ready = health.ready();
        assertThat(ready.httpStatus()).isEqualTo(200);
        assertThat(ready.status()).isEqualTo(HealthState.Status.DEGRADED);
        assertThat(ready.body()).containsEntry("status", "DEGRADED")
                .containsEntry("reason", "control record at c-0 offset 3 could not be decoded (UNKNOWN_SCHEMA_ID)");
        assertThat(health.live().httpStatus()).isEqualTo(200);

        health.recover();
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.UP);
    }

    @Test
    void aFailureTheServiceFoundEndsLiveAndReadyWithItsReasonWhileKafkaStreamsStillRuns() {
        HealthState health = new HealthState();
        health.onStateChange(State.RUNNING, State.REBALANCING);

        health.fail("topic out no longer exists");
        health.fail("a later reason");

        assertThat(health.ready().httpStatus()).isEqualTo(503);
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.DOWN);
        assertThat(health.ready().reason()).isEqualTo("topic out no longer exists");
        assertThat(health.live().httpStatus()).isEqualTo(503);
        assertThat(health.live().reason()).isEqualTo("topic out no longer exists");
    }

    @Test
    void eachSourceDegradesAndRecoversOnItsOwn() {
        HealthState health = new HealthState();
        health.onStateChange(State.RUNNING, State.REBALANCING);
        health.degrade("control record unreadable");
        health.degrade("schema-registry", "schema id 3 changed");

        assertThat(health.ready().reason()).contains("control record unreadable").contains("schema id 3 changed");
        health.recover();
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.DEGRADED);
        assertThat(health.ready().reason()).isEqualTo("schema id 3 changed");
        health.recover("schema-registry");
        assertThat(health.ready().status()).isEqualTo(HealthState.Status.UP);
    }
}
