import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;

/**
 * The Kafka side of the container and compose smoke tests (deploy/container/smoke-test.sh,
 * deploy/compose/smoke-test.sh), run with the JDK's source launcher on the service's own classpath, so that
 * events are written and read with the service's own serdes (Confluent wire format, the registry's ids):
 *
 * <pre>
 *   java -cp "$(streams_classpath)" deploy/lib/SmokeClient.java topics  BOOTSTRAP NAME:PARTITIONS[:compact]...
 *   java -cp ... SmokeClient.java produce BOOTSTRAP REGISTRY_URL TOPIC TEXTS_JSONL IDS_FILE
 *   java -cp ... SmokeClient.java consume BOOTSTRAP REGISTRY_URL TOPIC IDS_FILE TIMEOUT_S OUT_JSONL
 * </pre>
 *
 * <p>{@code topics} creates the topics that do not exist yet (replication factor 1: a single test broker;
 * {@code :compact} also sets {@code min.compaction.lag.ms} to 7 days, as the service does for its control topic).
 * {@code produce} sends one TextEvent per id in IDS_FILE (one id a line), its text taken from TEXTS_JSONL
 * (lines of {"id","text",...}, the prepared SpamAssassin split), keyed by the id. {@code consume} reads the
 * output topic from the start with read_committed until every id of IDS_FILE has a result or TIMEOUT_S
 * seconds have passed, then writes one JSON line per result (id, exit_layer, label, threshold source, ...)
 * to OUT_JSONL and prints a one-line count; it exits 0 only when every id came out exactly once. No
 * message text is printed. Exit status 2 on a usage error.
 */
public final class SmokeClient {

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage();
        }
        List<String> rest = List.of(args).subList(1, args.length);
        int status = switch (args[0]) {
            case "topics" -> rest.size() >= 2 ? topics(rest.get(0), rest.subList(1, rest.size())) : usage();
            case "produce" -> rest.size() == 5
                    ? produce(rest.get(0), rest.get(1), rest.get(2), Path.of(rest.get(3)), Path.of(rest.get(4))) : usage();
            case "consume" -> rest.size() == 6 ? consume(rest.get(0), rest.get(1), rest.get(2), Path.of(rest.get(3)),
                    Duration.ofSeconds(Long.parseLong(rest.get(4))), Path.of(rest.get(5))) : usage();
            default -> usage();
        };
        System.exit(status);
    }

    private static int usage() {
        System.err.println("usage: SmokeClient topics BOOTSTRAP NAME:PARTITIONS[:compact]...\n"
                + "       SmokeClient produce BOOTSTRAP REGISTRY_URL TOPIC TEXTS_JSONL IDS_FILE\n"
                + "       SmokeClient consume BOOTSTRAP REGISTRY_URL TOPIC IDS_FILE TIMEOUT_S OUT_JSONL");
        System.exit(2);
        return 2;
    }

    private static int topics(String bootstrap, List<String> specs) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String spec : specs) {
            String[] parts = spec.split(":");
            NewTopic topic = new NewTopic(parts[0], Integer.parseInt(parts[1]), (short) 1);
            if (parts.length > 2 && parts[2].equals("compact")) {
                // As the service creates its control topic: decisions stay for `control history` at least 7 days.
                topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "604800000"));
            }
            topics.add(topic);
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            for (NewTopic topic : topics) {
                try {
                    admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
        System.out.println("topics ready: " + String.join(", ", specs));
        return 0;
    }

    private static int produce(String bootstrap, String registryUrl, String topic, Path texts, Path idsFile)
            throws Exception {
        Set<String> ids = readIds(idsFile);
        Map<String, String> textById = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader in = Files.newBufferedReader(texts, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) {
                    JsonNode node = json.readTree(line);
                    String id = node.get("id").asText();
                    if (ids.contains(id)) {
                        textById.put(id, node.get("text").asText());
                    }
                }
            }
        }
        if (!textById.keySet().containsAll(ids)) {
            System.err.println("produce: " + (ids.size() - textById.size()) + " ids of " + idsFile + " have no text in " + texts);
            return 1;
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (SpecificAvroSerde<TextEvent> serde = new SpecificAvroSerde<>(TextEvent.class,
                     new ConfluentSchemaRegistryClient(registryUrl), false);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (String id : ids) {
                TextEvent event = TextEvent.newBuilder().setId(id).setText(textById.get(id))
                        .setEventTime(Instant.now()).setSource("smoke-test").build();
                byte[] value = serde.serializer().serialize(topic, event);
                sent.add(producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value)));
            }
            for (var future : sent) {
                future.get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        }
        System.out.println("produced " + ids.size() + " events to " + topic);
        return 0;
    }

    private static int consume(String bootstrap, String registryUrl, String topic, Path idsFile, Duration timeout,
            Path out) throws Exception {
        Set<String> ids = readIds(idsFile);
        Map<String, List<ObjectNode>> byId = new LinkedHashMap<>();
        int foreign = 0;
        ObjectMapper json = new ObjectMapper();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (SpecificAvroSerde<ClassifiedEvent> serde = new SpecificAvroSerde<>(ClassifiedEvent.class,
                     new ConfluentSchemaRegistryClient(registryUrl), false);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // Assigned, not subscribed: no consumer group, every partition from offset 0.
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            int drainPolls = -1; // after the last id: a few more polls, so that a duplicate would be seen too
            while (System.nanoTime() < deadline && drainPolls != 0) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    ClassifiedEvent event = serde.deserializer().deserialize(topic, record.value());
                    String id = event.getId();
                    if (!ids.contains(id)) {
                        foreign++;
                        continue;
                    }
                    ObjectNode row = json.createObjectNode();
                    row.put("id", id);
                    row.put("key_matches_id", new String(record.key(), StandardCharsets.UTF_8).equals(id));
                    row.put("exit_layer", event.getExitLayer());
                    row.put("num_layers", event.getNumLayers());
                    row.put("label", event.getLabel());
                    row.put("label_index", event.getLabelIndex());
                    row.put("threshold", event.getThreshold());
                    row.put("threshold_source", String.valueOf(event.getThresholdSource()));
                    row.put("model_name", event.getModelName());
                    row.put("model_version", event.getModelVersion());
                    row.put("partition", record.partition());
                    row.put("offset", record.offset());
                    byId.computeIfAbsent(id, k -> new ArrayList<>()).add(row);
                }
                if (drainPolls > 0) {
                    drainPolls--;
                } else if (drainPolls < 0 && byId.keySet().containsAll(ids)) {
                    drainPolls = 4;
                }
            }
        }
        int duplicates = 0;
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            for (List<ObjectNode> rows : byId.values()) {
                duplicates += rows.size() - 1;
                for (ObjectNode row : rows) {
                    w.write(json.writeValueAsString(row));
                    w.write('\n');
                }
            }
        }
        int missing = ids.size() - byId.size();
        System.out.printf(Locale.ROOT, "consumed %d of %d results from %s (missing %d, duplicates %d, other ids %d)%n",
                byId.size(), ids.size(), topic, missing, duplicates, foreign);
        return missing == 0 && duplicates == 0 ? 0 : 1;
    }

    private static Set<String> readIds(Path file) throws IOException {
        Set<String> ids = new LinkedHashSet<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                ids.add(line.strip());
            }
        }
        return ids;
    }
}
