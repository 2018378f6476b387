package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.deebert.streams.app.Cli;
import org.deebert.streams.e2e.support.CommittedTopicReader;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code dead-letters replay} as an operator runs it after fixing a cause: dead-letter records (with the headers
 * the service writes) go back to the input topic byte for byte, filtered by code, without the error headers.
 */
@Timeout(180)
class CliDeadLettersReplayE2ETest {

    private final EmbeddedKafkaBroker broker = SharedInfrastructure.broker();

    @TempDir
    Path tempDir;

    @Test
    void replayCopiesTheChosenCodesBackToTheInputByteForByteWithoutErrorHeaders() throws Exception {
        String unique = "replay-" + UUID.randomUUID().toString().substring(0, 8);
        String input = unique + "-in";
        String deadLetters = unique + "-dlq";
        broker.createTopic(input, 2, false);
        broker.createTopic(deadLetters, 1, false);
        // Binary values with newlines and zero bytes: what line-based tools would break.
        byte[] stale = {0, 0, 0, 0, 2, 10, 0, 13, 10, (byte) 0xff};
        byte[] garbage = "not wire format\n".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            producer.send(deadLetter(deadLetters, "stale", stale, DeadLetterCode.UNDECODABLE_AVRO, "trace-1")).get(30, TimeUnit.SECONDS);
            producer.send(deadLetter(deadLetters, "garbage", garbage, DeadLetterCode.NOT_WIRE_FORMAT, "trace-2")).get(30, TimeUnit.SECONDS);
        }
        Path config = tempDir.resolve("cli.properties");
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("topic.input", input);
        p.setProperty("topic.dead.letter", deadLetters);
        try (Writer out = Files.newBufferedWriter(config)) {
            p.store(out, "e2e CLI settings");
        }

        // When: the operator first counts, then replays only the code whose cause was fixed.
        StringWriter printed = new StringWriter();
        CommandLine cli = Cli.commandLine();
        cli.setOut(new PrintWriter(printed, true));
        int dry = cli.execute("dead-letters", "replay", "--config", config.toString(), "--dry-run");
        int replay = cli.execute("dead-letters", "replay", "--config", config.toString(), "--code", "UNDECODABLE_AVRO");

        // Then: only that record is back on the input, with its key, value and own header, and no error headers.
        assertThat(dry).isZero();
        assertThat(replay).isZero();
        assertThat(printed.toString()).contains("would replay 2 of 2 dead letters").contains("replayed 1 of 2 dead letters")
                .contains("UNDECODABLE_AVRO: 1");
        try (CommittedTopicReader reader = new CommittedTopicReader(broker.bootstrapServers(), input)) {
            Map<String, List<ConsumerRecord<byte[], byte[]>>> back = reader.awaitKeys(Set.of("stale"), Duration.ofSeconds(60));
            assertThat(back.keySet()).containsExactly("stale");
            ConsumerRecord<byte[], byte[]> r = back.get("stale").get(0);
            assertThat(r.value()).isEqualTo(stale);
            assertThat(r.timestamp()).isEqualTo(1_700_000_000_000L);
            assertThat(new String(r.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)).isEqualTo("trace-1");
            assertThat(r.headers().lastHeader(DeadLetterCode.HEADER)).isNull();
            assertThat(r.headers().lastHeader("__streams.errors.exception")).isNull();
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static ProducerRecord<byte[], byte[]> deadLetter(String topic, String key, byte[] value, DeadLetterCode code,
                                                             String traceparent) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
        headers.add("__streams.errors.exception", "x".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterCode.HEADER, code.name().getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, null, 1_700_000_000_000L, key.getBytes(StandardCharsets.UTF_8), value, headers);
    }
}
