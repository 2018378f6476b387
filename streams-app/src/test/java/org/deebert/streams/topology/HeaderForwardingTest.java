package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class HeaderForwardingTest {

    private static Headers headers(String... keys) {
        RecordHeaders h = new RecordHeaders();
        for (String k : keys) {
            h.add(k, new byte[] {1});
        }
        return h;
    }

    private static List<String> keys(Headers headers) {
        List<String> keys = new ArrayList<>();
        headers.forEach(h -> keys.add(h.key()));
        return keys;
    }

    @Test
    void parsesAllNoneAndAnAllowList() {
        assertThat(HeaderForwarding.parse(" ALL ", 64)).isEqualTo(HeaderForwarding.DEFAULTS);
        assertThat(HeaderForwarding.parse("none", 3).mode()).isEqualTo(HeaderForwarding.Mode.NONE);
        HeaderForwarding list = HeaderForwarding.parse("traceparent, tracestate,,", 64);
        assertThat(list.mode()).isEqualTo(HeaderForwarding.Mode.ALLOW_LIST);
        assertThat(list.allowList()).containsExactlyInAnyOrder("traceparent", "tracestate");
    }

    @Test
    void rejectsBlankValuesReservedNamesAndANegativeMax() {
        assertThatThrownBy(() -> HeaderForwarding.parse(" ", 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HeaderForwarding.parse(",", 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HeaderForwarding.parse("trace, deebert.error.code", 64))
                .hasMessageContaining("deebert.error.code");
        assertThatThrownBy(() -> HeaderForwarding.parse("__streams.errors.message", 64))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HeaderForwarding.parse("all", -1)).hasMessageContaining("headers.forward.max");
    }

    @Test
    void reservedHeadersNeverPassAndTheCapCountsWhatItDrops() {
        Headers in = headers("a", DeadLetterCode.HEADER, "b", DeadLetterHeaders.STACKTRACE, "deebert.x", "c");

        HeaderForwarding.Result all = HeaderForwarding.DEFAULTS.forOutput(in);
        assertThat(keys(all.headers())).containsExactly("a", "b", "c");
        assertThat(all.dropped()).isZero();

        HeaderForwarding.Result capped = HeaderForwarding.parse("all", 2).forOutput(in);
        assertThat(keys(capped.headers())).containsExactly("a", "b");
        assertThat(capped.dropped()).isEqualTo(1);

        assertThat(keys(HeaderForwarding.parse("none", 64).forOutput(in).headers())).isEmpty();
        assertThat(keys(HeaderForwarding.parse("c,a", 64).forOutput(in).headers())).containsExactly("a", "c");
        assertThat(keys(in)).as("input untouched").hasSize(6);
    }

    @Test
    void deadLetterRecordsKeepEverythingButReservedHeaders() {
        Headers in = headers("a", DeadLetterCode.HEADER, DeadLetterHeaders.EXCEPTION, "b");
        assertThat(keys(HeaderForwarding.withoutReserved(in))).containsExactly("a", "b");
    }
}
