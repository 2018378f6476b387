package org.deebert.streams.deadletter;

import org.deebert.streams.topology.DeadLetterDeserializationExceptionHandler;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URL;
import org.deebert.streams.registry.WireFormatException;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

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
        // Our handler logs the one line; Kafka Streams would add a second with a stack trace, from RecordDeserializer
        // and, while restoring the global store at start, from GlobalStateManagerImpl.
        URL config = DeadLetterRecordsTest.class.getResource("/logback.xml");
        assertThat(config).as("the service's logback.xml (src/main/resources)").isNotNull();
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(config);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.setContext(context);
        logged.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(logged);
        Exception cause = new WireFormatException(WireFormatException.Reason.UNKNOWN_SCHEMA_ID, "schema id 7", null);
        String prefix = "global-stream-thread [app-GlobalStreamThread] ";
        String restore = "org.apache.kafka.streams.processor.internals.GlobalStateManagerImpl";
        String running = "org.apache.kafka.streams.processor.internals.RecordDeserializer";

        // Kafka Streams' LogContext loggers pass the message already formatted, behind the thread prefix.
        context.getLogger(restore).warn(prefix + "Skipping record due to deserialization error. topic=[c] partition=[0] "
                + "offset=[3]", cause);
        context.getLogger(running).warn(prefix + "Skipping record due to deserialization error. topic=[c] partition=[0] "
                + "offset=[4]", cause);
        context.getLogger(restore).warn(prefix + "Retrying is disabled. You can enable it by setting `task.timeout.ms`");
        context.getLogger(running).error(prefix + "Deserialization error callback failed after deserialization error");
        context.getLogger(DeadLetterDeserializationExceptionHandler.class).error("Undecodable control record skipped: "
                + "topic c partition 0 offset 3: UNKNOWN_SCHEMA_ID");

        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                prefix + "Retrying is disabled. You can enable it by setting `task.timeout.ms`",
                prefix + "Deserialization error callback failed after deserialization error",
                "Undecodable control record skipped: topic c partition 0 offset 3: UNKNOWN_SCHEMA_ID");
        assertThat(context.getLogger(DeadLetterDeserializationExceptionHandler.class).getEffectiveLevel()).isEqualTo(Level.INFO);
        context.stop();
    }
}
