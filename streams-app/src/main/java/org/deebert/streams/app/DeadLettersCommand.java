package org.deebert.streams.app;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.topology.HeaderForwarding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dead-letters replay}: copies dead-letter records back to the input topic, byte for byte, so that events
 * dead-lettered for a cause since fixed (a stale registry, a producer bug, a model fix) are classified again. Kafka's
 * console tools and kcat are line-based and Avro values may hold any byte, hence a command of our own.
 *
 * <p>Reads the dead-letter topic from its start to its end at the time of the call ({@code read_committed}, no
 * consumer group, nothing committed), keeps the records whose {@value DeadLetterCode#HEADER} is one of
 * {@code --code} (all when none is given), and produces each to the input topic with the same key, value and
 * timestamp, and the same headers minus the service's own ({@code deebert.*}) and Kafka Streams' error headers
 * ({@code __streams.errors.*}); the default partitioner places it by key. Prints one line per code with the count.
 * Running it twice replays twice: the service then classifies the event twice.
 */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = "Work with the dead-letter topic.", subcommands = DeadLettersCommand.Replay.class)
public final class DeadLettersCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** {@code dead-letters replay}: see the class comment. */
    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Copy dead-letter records back to the input topic, byte for byte (key, value, timestamp;",
                "headers without deebert.* and __streams.errors.*), from the topic's start to its current end."})
    static final class Replay implements Callable<Integer> {

        /** Longest wait for the broker while reading and for each acknowledgement. */
        static final Duration TIMEOUT = Duration.ofSeconds(60);

        @Mixin ConfigOption config;

        @Option(names = "--code", paramLabel = "CODE", split = ",",
                description = "Replay only records with this deebert.error.code (repeatable or comma-separated); default: all.")
        List<DeadLetterCode> codes = new ArrayList<>();

        @Option(names = "--dry-run", description = "Count what would be replayed; produce nothing.")
        boolean dryRun;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            AppSettings settings = config.load();
            String from = settings.topics().deadLetter();
            String to = settings.topics().input();
            Set<String> wanted = codes.stream().map(Enum::name).collect(java.util.stream.Collectors.toSet());
            Map<String, Integer> replayed = new TreeMap<>();
            int read = 0;
            Properties consumerProps = settings.clientProperties();
            consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            Properties producerProps = settings.clientProperties();
            producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
            producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                         new ByteArraySerializer())) {
                List<PartitionInfo> info = consumer.partitionsFor(from, TIMEOUT);
                if (info == null || info.isEmpty()) {
                    throw new IllegalStateException("dead-letter topic " + from + " does not exist");
                }
                List<TopicPartition> partitions = info.stream().map(p -> new TopicPartition(from, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("could not read " + from + " to its end within " + TIMEOUT);
                    }
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                            continue; // written after the call began
                        }
                        read++;
                        Header code = r.headers().lastHeader(DeadLetterCode.HEADER);
                        String name = code == null ? "(no code)" : new String(code.value(), StandardCharsets.UTF_8);
                        if (!wanted.isEmpty() && !wanted.contains(name)) {
                            continue;
                        }
                        replayed.merge(name, 1, Integer::sum);
                        if (!dryRun) {
                            sent.add(producer.send(new ProducerRecord<>(to, null, r.timestamp(), r.key(), r.value(),
                                    HeaderForwarding.withoutReserved(r.headers()))));
                        }
                    }
                }
                for (Future<RecordMetadata> f : sent) {
                    f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            var out = spec.commandLine().getOut();
            int total = replayed.values().stream().mapToInt(Integer::intValue).sum();
            out.printf("%s %d of %d dead letters from %s to %s%n", dryRun ? "would replay" : "replayed", total, read, from, to);
            replayed.forEach((name, n) -> out.printf("  %s: %d%n", name, n));
            return 0;
        }
    }
}
