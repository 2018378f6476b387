package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an output record carries besides its value, on the real service with default settings: the input's key
 * byte for byte (even when it is not UTF-8), the input's own headers ({@code headers.forward=all}), and never
 * a {@code deebert.*} or {@code __streams.errors.*} header an input brought along; and where it lands: on the
 * input's partition number, also when a non-Java producer placed the input elsewhere than the Java
 * producer's murmur2 key hash would. Read with read_committed.
 */
@Timeout(600)
class HeadersAndKeysE2ETest {

    private static final Duration TIMEOUT = Duration.ofSeconds(180);
    /** Not valid UTF-8: 0xC3 starts a two-byte sequence that 0x28 does not continue, and 0xFF never occurs. */
    private static final byte[] NON_UTF8_KEY = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF};
    private static final byte[] PLACED_KEY = "placed-by-hand".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tempDir;

    private static Headers spoofed() {
        return new RecordHeaders()
                .add("trace-id", "t-42".getBytes(StandardCharsets.UTF_8))
                .add(DeadLetterCode.HEADER, "CLASSIFIER_FAILURE".getBytes(StandardCharsets.UTF_8))
                .add(DeadLetterHeaders.EXCEPTION, "java.lang.Spoofed".getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> keys(Headers headers) {
        List<String> keys = new ArrayList<>();
        for (Header h : headers) {
            keys.add(h.key());
        }
        return keys;
    }

    @Test
    void outputsKeepTheInputKeyBytesPartitionAndCustomHeadersButNeverSpoofedReservedOnes() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        try (ClassifierPool pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
             RunningClassifier app = RunningClassifier.start("headers", pool, tempDir)) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, app.bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            RecordMetadata good;
            int placedByHand;
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                // Given: a good email and an empty text (dead-lettered), both with a non-UTF-8 key and spoofed headers.
                String text = references.all().get(0).text();
                good = producer.send(new ProducerRecord<>(app.names().input(), null, NON_UTF8_KEY,
                        app.serialize(RunningClassifier.event("good", text)), spoofed())).get();
                producer.send(new ProducerRecord<>(app.names().input(), null, NON_UTF8_KEY,
                        app.serialize(RunningClassifier.event("empty", "")), spoofed())).get();
                // And: a good email placed by hand, as a non-Java producer (librdkafka: CRC32 of the key) may place
                // it, on a partition that the Java producer's murmur2 hash of its key would not choose.
                int inputPartitions = producer.partitionsFor(app.names().input()).size();
                assertThat(producer.partitionsFor(app.names().output())).hasSizeGreaterThanOrEqualTo(inputPartitions);
                placedByHand = (BuiltInPartitioner.partitionForKey(PLACED_KEY, inputPartitions) + 1) % inputPartitions;
                producer.send(new ProducerRecord<>(app.names().input(), placedByHand, PLACED_KEY,
                        app.serialize(RunningClassifier.event("placed", text)))).get();
            }

            // The readers group records by the key decoded as UTF-8 (lossy): only the raw bytes below count.
            String lossy = new String(NON_UTF8_KEY, StandardCharsets.UTF_8);
            Set<String> lossyKey = Set.of(lossy);
            String placedKey = new String(PLACED_KEY, StandardCharsets.UTF_8);
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(Set.of(lossy, placedKey), TIMEOUT);
            assertThat(out.get(placedKey)).singleElement().satisfies(r -> {
                assertThat(app.decode(r.value()).getId()).isEqualTo("placed");
                assertThat(r.partition()).as("output partition of the record placed by hand").isEqualTo(placedByHand);
            });
            assertThat(out.get(lossy)).hasSize(1);
            ConsumerRecord<byte[], byte[]> classified = out.get(lossy).get(0);
            assertThat(classified.partition()).isEqualTo(good.partition());
            assertThat(classified.key()).containsExactly(NON_UTF8_KEY);
            assertThat(app.decode(classified.value()).getId()).isEqualTo("good");
            assertThat(keys(classified.headers())).containsExactly("trace-id");

            Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = app.deadLetters().awaitKeys(lossyKey, TIMEOUT);
            assertThat(dead.values().stream().mapToInt(List::size).sum()).isEqualTo(1);
            ConsumerRecord<byte[], byte[]> deadLetter = dead.values().iterator().next().get(0);
            assertThat(deadLetter.key()).containsExactly(NON_UTF8_KEY);
            assertThat(deadLetter.headers().lastHeader("trace-id").value()).isEqualTo("t-42".getBytes(StandardCharsets.UTF_8));
            assertThat(deadLetter.headers().headers(DeadLetterCode.HEADER)).singleElement()
                    .satisfies(h -> assertThat(new String(h.value(), StandardCharsets.UTF_8)).isEqualTo("EMPTY_TEXT"));
            assertThat(deadLetter.headers().headers(DeadLetterHeaders.EXCEPTION)).hasSize(1);
        }
    }
}
