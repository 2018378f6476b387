package org.deebert.streams.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.deebert.streams.registry.WireFormatException;
import org.deebert.streams.topology.DeadLetterDeserializationExceptionHandler;
import org.deebert.streams.topology.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The packaged {@code logback.xml} with {@value LogFormat#KEY}: json gives one JSON object per line, text the
 * usual lines, and neither carries the text of a record that fails to decode. The test reconfigures this JVM's
 * logback context from the main {@code logback.xml} and restores {@code logback-test.xml} afterwards.
 */
class LogFormatTest {

    private static final String MESSAGE_TEXT = "Dear customer, your parcel SECRET-BODY-7731 is waiting";

    private final PrintStream originalOut = System.out;

    @AfterEach
    void restoreLogging() throws Exception {
        System.setOut(originalOut);
        configure("logback-test.xml", null);
    }

    @Test
    void jsonFormatWritesOneJsonObjectPerLineWithoutTheRecordsText() throws Exception {
        List<String> lines = logAnUndecodableRecord("json");

        assertThat(lines).isNotEmpty();
        JsonNode line = new ObjectMapper().readTree(lines.get(0));
        assertThat(line.get("level").asText()).isEqualTo("ERROR");
        assertThat(line.get("loggerName").asText()).isEqualTo(DeadLetterDeserializationExceptionHandler.class.getName());
        assertThat(line.get("message").asText()).startsWith("Undecodable control record skipped");
        assertThat(line.toString()).contains("NOT_WIRE_FORMAT").contains("\"control\"");
        assertThat(String.join("\n", lines)).doesNotContain("SECRET-BODY-7731");
    }

    @Test
    void textFormatIsTheDefaultAndCarriesNoRecordTextEither() throws Exception {
        List<String> lines = logAnUndecodableRecord(null);

        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("ERROR").contains("Undecodable control record skipped: topic control partition 0 offset 42")
                .doesNotStartWith("{").doesNotContain("SECRET-BODY-7731");
    }

    @Test
    void aValueOtherThanTextOrJsonIsRefusedNamingTheKey() {
        assertThat(LogFormat.resolve(null, Map.of())).isEqualTo(LogFormat.TEXT);
        assertThat(LogFormat.resolve(null, Map.of(LogFormat.KEY, "json"))).isEqualTo(LogFormat.JSON);
        assertThat(LogFormat.resolve("text", Map.of(LogFormat.KEY, "json"))).isEqualTo(LogFormat.TEXT);
        assertThatThrownBy(() -> LogFormat.resolve(null, Map.of(LogFormat.KEY, "JSON")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("DEEBERT_LOG_FORMAT must be text or json, not 'JSON'");
    }

    /** @return the lines logged to stdout by the main logback.xml while the handler skips an undecodable record */
    private List<String> logAnUndecodableRecord(String format) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        configure("logback.xml", format);
        DeadLetterDeserializationExceptionHandler handler = new DeadLetterDeserializationExceptionHandler();
        handler.configure(Map.of(DeadLetterDeserializationExceptionHandler.NO_DEAD_LETTER_TOPICS_CONFIG, "control",
                StreamObserver.CONFIG, StreamObserver.NONE));
        byte[] value = MESSAGE_TEXT.getBytes(StandardCharsets.UTF_8);
        handler.handleError(null, new ConsumerRecord<>("control", 0, 42, "model".getBytes(StandardCharsets.UTF_8), value),
                new WireFormatException(WireFormatException.Reason.NOT_WIRE_FORMAT,
                        "not Confluent wire format: magic byte 0x44, expected 0x00", null));
        System.out.flush();
        return captured.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    }

    private static void configure(String resource, String format) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        if (format != null) {
            context.putProperty(LogFormat.KEY, format);
        }
        URL url = LogFormatTest.class.getClassLoader().getResource(resource);
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(url);
    }
}
