package org.deebert.streams.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.junit.jupiter.api.Test;

class DeadLetterHeadersTest {

    @Test
    void headerNamesAreKafkaStreamsOwn() {
        assertThat(DeadLetterHeaders.EXCEPTION).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_NAME);
        assertThat(DeadLetterHeaders.MESSAGE).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_MESSAGE_NAME);
        assertThat(DeadLetterHeaders.STACKTRACE).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_STACKTRACE_NAME);
        assertThat(DeadLetterHeaders.TOPIC).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_TOPIC_NAME);
        assertThat(DeadLetterHeaders.PARTITION).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_PARTITION_NAME);
        assertThat(DeadLetterHeaders.OFFSET).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_OFFSET_NAME);
    }
}
