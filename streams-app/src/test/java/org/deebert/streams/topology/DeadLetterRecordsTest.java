package org.deebert.streams.topology;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import java.net.URL;
import org.junit.jupiter.api.Test;

class DeadLetterRecordsTest {

    @Test
    void loggedMessagesAreOneShortLine() {
        assertThat(DeadLetterRecords.oneLine(null)).isEmpty();
        assertThat(DeadLetterRecords.oneLine("a\nb\r\n\tc ")).isEqualTo("a b c");
        assertThat(DeadLetterRecords.oneLine("x".repeat(1000)))
                .hasSize(DeadLetterRecords.MAX_LOGGED_MESSAGE_CHARS + 3).endsWith("...");
    }

    @Test
    void theServiceLoggingConfigurationKeepsKafkaStreamsSecondLinePerUndeserializableRecordOut() throws Exception {
        // Our handler logs the one WARN line; Kafka Streams' RecordDeserializer would add a second with a stack trace.
        URL config = DeadLetterRecordsTest.class.getResource("/logback.xml");
        assertThat(config).as("the service's logback.xml (src/main/resources)").isNotNull();
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(config);

        assertThat(context.getLogger("org.apache.kafka.streams.processor.internals.RecordDeserializer").getEffectiveLevel())
                .isEqualTo(Level.ERROR);
        assertThat(context.getLogger(DeadLetterDeserializationExceptionHandler.class).getEffectiveLevel()).isEqualTo(Level.INFO);
        context.stop();
    }
}
