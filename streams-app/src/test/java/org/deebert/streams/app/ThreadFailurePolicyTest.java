package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class ThreadFailurePolicyTest {

    private final AtomicLong nanos = new AtomicLong();
    private final List<String> fatal = new ArrayList<>();
    private final ThreadFailurePolicy policy = new ThreadFailurePolicy(3, Duration.ofMinutes(5), fatal::add, nanos::get, false);

    @Test
    void threadsAreReplacedUntilTheBudgetIsSpentThenTheClientShutsDownAndReportsWhy() {
        for (int i = 0; i < 3; i++) {
            assertThat(policy.handle(new IllegalStateException("boom"))).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        }
        assertThat(fatal).isEmpty();

        assertThat(policy.handle(new IllegalStateException("boom"))).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(fatal).singleElement().asString().contains("4 times within 300 s").contains("IllegalStateException");
    }

    @Test
    void deathsOutsideTheWindowNoLongerCount() {
        for (int i = 0; i < 10; i++) {
            assertThat(policy.handle(new IllegalStateException())).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            nanos.addAndGet(Duration.ofMinutes(2).toNanos());
        }
        assertThat(fatal).isEmpty();
    }

    @Test
    void theBackOffDoublesFromOneSecondUpToTen() {
        assertThat(List.of(1, 2, 3, 4, 5, 9).stream().map(ThreadFailurePolicy::backoffMs).toList())
                .containsExactly(1000L, 2000L, 4000L, 8000L, 10_000L, 10_000L);
    }
}
