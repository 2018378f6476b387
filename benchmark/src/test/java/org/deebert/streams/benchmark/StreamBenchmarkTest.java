package org.deebert.streams.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The latency phases StreamBenchmark plans from {@code --rate} and {@code --rates}, and what its JSON headlines. */
class StreamBenchmarkTest {

    @Test
    void ratesAreFractionsOfTheMeasuredSaturationAndRunAfterAFixedRate() {
        List<StreamBenchmark.LoadPoint> loads = StreamBenchmark.loadPoints(20, List.of(0.2, 0.4, 0.7), 150);

        assertThat(loads).extracting(StreamBenchmark.LoadPoint::fraction).containsExactly(null, 0.2, 0.4, 0.7);
        assertThat(loads).extracting(StreamBenchmark.LoadPoint::rate).containsExactly(20.0, 30.0, 60.0, 105.0);
    }

    @Test
    void withoutAMeasuredSaturationOnlyTheFixedRateRuns() {
        assertThat(StreamBenchmark.loadPoints(0, List.of(0.4), Double.NaN)).isEmpty();
        assertThat(StreamBenchmark.loadPoints(25, List.of(0.4), Double.NaN))
                .containsExactly(new StreamBenchmark.LoadPoint(null, 25));
    }

    @Test
    void theJsonLatencyIsTheFixedRatePhaseElseTheOneNearestFortyPercent() {
        Map<String, Object> fixed = phase(null);
        Map<String, Object> at20 = phase(0.2);
        Map<String, Object> at40 = phase(0.4);
        Map<String, Object> at70 = phase(0.7);

        assertThat(StreamBenchmark.headlineLatency(List.of(at20, fixed, at40))).isSameAs(fixed);
        assertThat(StreamBenchmark.headlineLatency(List.of(at20, at40, at70))).isSameAs(at40);
        assertThat(StreamBenchmark.headlineLatency(List.of(at20, at70))).isSameAs(at20);
        assertThat(StreamBenchmark.headlineLatency(List.of())).isNull();
    }

    @Test
    void ratesAndCommitParseFromTheCommandLine() {
        StreamBenchmark b = new StreamBenchmark();
        new CommandLine(b).parseArgs("--bootstrap-servers", "h:9092", "--schema-registry-url", "http://r",
                "--rates", "0.2,0.4,0.7", "--commit", "interval");

        assertThat(b.rateFractions).containsExactly(0.2, 0.4, 0.7);
        assertThat(b.commit).isEqualTo("interval");
        assertThat(b.rate).isZero();
        assertThat(b.capacity).isZero(); // fractions of phase A's own events/s

        StreamBenchmark other = new StreamBenchmark();
        new CommandLine(other).parseArgs("--bootstrap-servers", "h:9092", "--schema-registry-url", "http://r",
                "--rates", "0.4", "--capacity", "150.5", "--commit", "after-batch");
        assertThat(other.capacity).isEqualTo(150.5);
        assertThat(other.commit).isEqualTo("after-batch");
    }

    private static Map<String, Object> phase(Double fraction) {
        Map<String, Object> m = new HashMap<>();
        m.put("fraction", fraction);
        return m;
    }
}
