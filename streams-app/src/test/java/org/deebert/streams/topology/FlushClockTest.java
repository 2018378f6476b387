package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FlushClockTest {

    @Test
    void flushTimeIsAddedUntilTheCachedTimeMoves() throws InterruptedException {
        AtomicLong cached = new AtomicLong(1_000);
        FlushClock clock = new FlushClock(cached::get);
        assertThat(clock.nowMs()).isEqualTo(1_000);

        clock.flushStarted();
        Thread.sleep(60);
        assertThat(clock.nowMs()).isBetween(1_060L, 1_500L); // inside the flush: the real time has moved on
        clock.flushEnded();
        long afterFlush = clock.nowMs();
        assertThat(afterFlush).isBetween(1_060L, 1_500L); // kept while the cached time stands still

        cached.set(2_000); // the stream thread's next loop: its cached time already includes the flush
        assertThat(clock.nowMs()).isEqualTo(2_000);
    }
}
