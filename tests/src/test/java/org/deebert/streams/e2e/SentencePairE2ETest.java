package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sentence pairs through the running service on real parts: the real KRaft broker, the real Schema Registry,
 * the tiny sentence-pair model exported by model-export ({@code tiny-pair-model}, subject as text, body as text
 * pair) and real held-out SpamAssassin e-mails as (subject, body) pairs from the prepared
 * {@code spamassassin-pairs} split. Expected exit layers, labels and probabilities come from Python's
 * reference logits, not from the Java classifier.
 *
 * <p>Schema evolution without a restart: {@code TextEvent} gained an optional {@code text_pair}. An old producer
 * keeps writing with the schema of release 0.1.0 ({@code avro-history/TextEvent-0.1.0.avsc}, registered under its
 * own id) while new producers write the current one, to the same running service: old events decode (and, lacking
 * the pair a pair model needs, are dead-lettered MISSING_TEXT_PAIR; a single-text model classifies them), new
 * ones are classified.
 */
@Timeout(600)
class SentencePairE2ETest {

    /** Longest wait for one batch of outputs (two shared CPU cores). */
    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(180);
    private static final double PROBABILITY_TOLERANCE = 1e-4;
    /** S (nats) set through the control topic: splits the tiny pair model's real pairs over its layers. */
    private static final double PAIR_S = 0.02;
    private static final String PAIR_MODEL = "streams-app/src/test/resources/tiny-pair-model";
    private static final String SINGLE_TEXT_MODEL = "streams-app/src/test/resources/tiny-model";
    private static final String PAIR_TEXTS = "model-export/build/spamassassin-pairs/data/test.jsonl";
    private static final String PREPARE_PAIRS = "cd model-export && .venv/bin/python -m deebert_export prepare"
            + " --dataset spamassassin-pairs";

    @TempDir
    Path tempDir;

    /** A real e-mail as a sentence pair, with Python's reference logits for it. */
    private record Pair(String id, String subject, String body, double[][] logits) {
        int exitLayer(double s) {
            for (int layer = 1; layer < logits.length; layer++) {
                if (ReferenceEmails.entropy(probabilities(layer)) < s) {
                    return layer;
                }
            }
            return logits.length;
        }

        double[] probabilities(int layer) {
            return ReferenceEmails.softmax(logits[layer - 1]);
        }

        boolean nearBoundary(double s) {
            for (int layer = 1; layer < logits.length; layer++) {
                if (Math.abs(ReferenceEmails.entropy(probabilities(layer)) - s) < ReferenceEmails.BOUNDARY_NATS) {
                    return true;
                }
            }
            return false;
        }
    }

    @Test
    void oldSchemaEventsAreDeadLetteredAndNewSchemaPairsAreClassifiedLikePythonByOneRunningService() {
        Path root = SharedInfrastructure.repoRoot();
        List<Pair> pairs = realPairs(root);
        assertThat(pairs).as("real held-out pairs with reference outputs").hasSizeGreaterThanOrEqualTo(40);
        try (ClassifierPool pool = pool(root.resolve(PAIR_MODEL));
             RunningClassifier app = RunningClassifier.start("pairs", pool, tempDir)) {
            assertThat(pool.textPair()).isTrue();
            // The card's S lets every pair leave at layer 1; a smaller S, set live, spreads them over the layers.
            double s = PAIR_S;
            app.produceControl(pool.modelName(), ThresholdControl.newBuilder().setThreshold(s)
                    .setPolicy(ExitPolicyName.ENTROPY).setModelName(pool.modelName()).setChangedBy("e2e-test")
                    .setReason("spread the pairs over the layers").setChangedAt(Instant.now()).build());
            app.awaitStoredSetting(setting -> setting != null && setting.threshold() == s, "S = " + s);

            // Given: an old producer that still writes TextEvent as released in 0.1.0 (no text_pair field).
            Schema old = oldTextEventSchema();
            int oldId = new ConfluentSchemaRegistryClient(app.registryUrl()).register(app.names().input() + "-value", old);
            Map<String, byte[]> oldRecords = new LinkedHashMap<>();
            for (Pair p : pairs.subList(0, 4)) {
                oldRecords.put("old/" + p.id(), oldSchemaBytes(old, oldId, "old/" + p.id(), p.subject()));
            }
            // When: its events reach the running service, then new producers' events with subject and body.
            oldRecords.forEach(app::produceRaw);
            Map<String, Pair> byKey = new LinkedHashMap<>();
            List<TextEvent> events = new ArrayList<>();
            for (Pair p : pairs) {
                byKey.put("new/" + p.id(), p);
                events.add(TextEvent.newBuilder(RunningClassifier.event("new/" + p.id(), p.subject()))
                        .setTextPair(p.body()).build());
            }
            app.produce(events);

            // Then: the old events decode but lack the pair this model needs: dead-lettered, raw bytes kept.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = app.deadLetters().awaitKeys(oldRecords.keySet(), BATCH_TIMEOUT);
            assertThat(dead.keySet()).containsExactlyInAnyOrderElementsOf(oldRecords.keySet());
            for (Map.Entry<String, byte[]> e : oldRecords.entrySet()) {
                ConsumerRecord<byte[], byte[]> r = dead.get(e.getKey()).get(0);
                assertThat(dead.get(e.getKey())).hasSize(1);
                assertThat(header(r, DeadLetterCode.HEADER)).isEqualTo(DeadLetterCode.MISSING_TEXT_PAIR.name());
                assertThat(r.value()).isEqualTo(e.getValue());
            }
            // And every new event is classified once, as Python's reference logits say.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(byKey.keySet(), BATCH_TIMEOUT);
            assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(byKey.keySet());
            List<String> mismatches = new ArrayList<>();
            int excused = 0;
            for (Map.Entry<String, Pair> e : byKey.entrySet()) {
                assertThat(out.get(e.getKey())).as("outputs of %s", e.getKey()).hasSize(1);
                ClassifiedEvent result = app.decode(out.get(e.getKey()).get(0).value());
                Pair p = e.getValue();
                assertThat(result.getText()).isEqualTo(p.subject());
                assertThat(result.getTextPair()).isEqualTo(p.body());
                int layer = p.exitLayer(s);
                if (result.getExitLayer() != layer) {
                    if (p.nearBoundary(s)) {
                        excused++;
                    } else {
                        mismatches.add(p.id() + ": exit layer " + result.getExitLayer() + ", reference " + layer);
                    }
                    continue;
                }
                double[] expected = p.probabilities(layer);
                int label = 0;
                for (int c = 1; c < expected.length; c++) {
                    label = expected[c] > expected[label] ? c : label;
                }
                if (result.getLabelIndex() != label) {
                    mismatches.add(p.id() + ": label " + result.getLabelIndex() + ", reference " + label);
                }
                for (int c = 0; c < expected.length; c++) {
                    if (Math.abs(result.getProbabilities().get(c) - expected[c]) > PROBABILITY_TOLERANCE) {
                        mismatches.add(p.id() + ": probability " + c + " " + result.getProbabilities().get(c)
                                + ", reference " + expected[c]);
                    }
                }
            }
            assertThat(mismatches).as("results differing from Python's reference at S=%s", s).isEmpty();
            assertThat(excused).as("boundary cases").isLessThanOrEqualTo(1);
            assertThat(byKey.values().stream().mapToInt(p -> p.exitLayer(s)).distinct().count())
                    .as("distinct reference exit layers at S=%s", s).isGreaterThan(1);
        }
    }

    @Test
    void aSingleTextModelClassifiesOldSchemaEventsAndDeadLettersTextPairs() {
        Path root = SharedInfrastructure.repoRoot();
        try (ClassifierPool pool = pool(root.resolve(SINGLE_TEXT_MODEL));
             RunningClassifier app = RunningClassifier.start("single-pairs", pool, tempDir)) {
            assertThat(pool.textPair()).isFalse();
            Schema old = oldTextEventSchema();
            int oldId = new ConfluentSchemaRegistryClient(app.registryUrl()).register(app.names().input() + "-value", old);

            // When: an old producer's event, a new producer's single text and a new producer's pair arrive.
            app.produceRaw("old", oldSchemaBytes(old, oldId, "old", "Are we still meeting for lunch on Thursday?"));
            app.produce(List.of(RunningClassifier.event("new", "Cheap meds online, order today"),
                    TextEvent.newBuilder(RunningClassifier.event("pair", "Re: lunch")).setTextPair("see you at noon").build()));

            // Then: both single texts are classified, whatever schema wrote them; the pair is dead-lettered.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(Set.of("old", "new"), BATCH_TIMEOUT);
            assertThat(out.keySet()).containsExactlyInAnyOrder("old", "new");
            assertThat(app.decode(out.get("old").get(0).value()).getTextPair()).isNull();
            Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = app.deadLetters().awaitKeys(Set.of("pair"), BATCH_TIMEOUT);
            assertThat(dead.keySet()).containsExactly("pair");
            assertThat(header(dead.get("pair").get(0), DeadLetterCode.HEADER))
                    .isEqualTo(DeadLetterCode.UNEXPECTED_TEXT_PAIR.name());
        }
    }

    private static ClassifierPool pool(Path modelDir) {
        return new ClassifierPool(() -> EarlyExitClassifier.load(modelDir,
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
    }

    /** TextEvent as released in 0.1.0, before {@code text_pair}: what an old producer writes with. */
    static Schema oldTextEventSchema() {
        try (InputStream in = SentencePairE2ETest.class.getResourceAsStream("/avro-history/TextEvent-0.1.0.avsc")) {
            Schema schema = new Schema.Parser().parse(in);
            assertThat(schema.getField("text_pair")).isNull();
            return schema;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An event as an old producer frames it: Confluent wire format with the old schema's id. */
    private static byte[] oldSchemaBytes(Schema schema, int schemaId, String id, String text) {
        GenericRecord record = new GenericData.Record(schema);
        record.put("id", id);
        record.put("text", text);
        record.put("event_time", System.currentTimeMillis());
        record.put("source", "old-producer");
        record.put("tenant", null);
        record.put("attributes", Map.of());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        try {
            new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ConfluentWireFormat.frame(schemaId, bytes.toByteArray());
    }

    /**
     * The real held-out pairs of the tiny pair model's reference outputs (ids from the corpus; the hand-written
     * pairs it also holds are skipped), joined by id with their texts from the prepared split, both hashes checked.
     */
    private static List<Pair> realPairs(Path root) {
        Path texts = root.resolve(PAIR_TEXTS);
        if (!Files.isRegularFile(texts)) {
            throw new IllegalStateException("test pairs " + texts + " are missing; create them with: " + PREPARE_PAIRS);
        }
        ObjectMapper json = new ObjectMapper();
        try {
            Map<String, JsonNode> byId = new LinkedHashMap<>();
            for (String line : Files.readAllLines(texts, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    JsonNode node = json.readTree(line);
                    byId.put(node.get("id").asText(), node);
                }
            }
            List<Pair> pairs = new ArrayList<>();
            for (String line : Files.readAllLines(root.resolve(PAIR_MODEL).resolve("reference_outputs.jsonl"),
                    StandardCharsets.UTF_8)) {
                JsonNode ref = json.readTree(line);
                String id = ref.get("id").asText();
                if (id.startsWith("tiny/")) {
                    continue; // hand-written pairs: the unit tests' (SentencePairClassifierTest)
                }
                JsonNode text = byId.get(id);
                if (text == null) {
                    throw new IllegalStateException("reference pair " + id + " is not in " + texts + "; re-run: " + PREPARE_PAIRS);
                }
                String subject = text.get("text").asText();
                String body = text.get("text_pair").asText();
                if (!ReferenceEmails.sha256(subject).equals(ref.get("text_sha256").asText())
                        || !ReferenceEmails.sha256(body).equals(ref.get("text_pair_sha256").asText())) {
                    throw new IllegalStateException("texts of " + id + " differ from the reference's (SHA-256); re-run: "
                            + PREPARE_PAIRS);
                }
                JsonNode rows = ref.get("logits");
                double[][] logits = new double[rows.size()][];
                for (int l = 0; l < logits.length; l++) {
                    logits[l] = new double[rows.get(l).size()];
                    for (int c = 0; c < logits[l].length; c++) {
                        logits[l][c] = rows.get(l).get(c).asDouble();
                    }
                }
                pairs.add(new Pair(id, subject, body, logits));
            }
            return pairs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
