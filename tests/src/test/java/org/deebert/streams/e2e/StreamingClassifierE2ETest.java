package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.deebert.streams.app.Cli;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.DeadLetterHeaders;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service path on real parts: the committed model, real held-out emails, Kafka Streams with
 * exactly_once_v2 on a real KRaft broker, values in the Confluent wire format through a real Schema
 * Registry, and threshold changes through the real {@code control} CLI. Outputs are read with
 * read_committed, so only what committed transactions wrote counts. Expected exit layers and labels
 * come from Python's reference logits (see {@link ReferenceEmails}), not from the Java classifier.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class StreamingClassifierE2ETest {

    /** Longest wait for one batch of outputs (the model runs on two shared CPU cores). */
    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(180);
    private static final double PROBABILITY_TOLERANCE = 1e-4;

    @TempDir
    Path tempDir;

    private ReferenceEmails references;
    private ClassifierPool pool;
    private int numLayers;
    private ExitSetting recommended;

    @BeforeAll
    void loadModel() {
        references = ReferenceEmails.load();
        // One model load for the class: each test's application borrows it while it runs.
        pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
        numLayers = pool.numLayers();
        recommended = pool.recommendedSetting();
        assertThat(recommended.policy()).isEqualTo(ExitPolicy.ENTROPY);
    }

    @AfterAll
    void closeModel() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void everyInputEventYieldsExactlyOneClassifiedEventWithThePythonReferencesExitLayerAndLabel() {
        List<Email> emails = references.spread(200);
        try (RunningClassifier app = RunningClassifier.start("parity", pool, tempDir)) {
            // When: 200 held-out emails arrive, keyed by id, over two partitions.
            Map<String, Email> byKey = keyed("", emails);
            app.produce(events(byKey));

            // Then: one committed result per input, none missing, no duplicates, none dead-lettered.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(byKey.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out, byKey);
            assertThat(app.deadLetters().readAvailable()).as("dead letters").isEmpty();

            List<String> mismatches = new ArrayList<>();
            List<String> excused = new ArrayList<>();
            // The card's setting as the card has it: with label-conditional thresholds (the default model's), each
            // event records them and leaves by the S of the label its off-ramp predicts.
            double s = recommended.threshold();
            for (Map.Entry<String, Email> e : byKey.entrySet()) {
                ClassifiedEvent result = app.decode(out.get(e.getKey()).get(0).value());
                Email email = e.getValue();
                assertThat(result.getId()).isEqualTo(email.id());
                assertThat(result.getThreshold()).isEqualTo(s);
                assertThat(result.getLabelThresholds()).isEqualTo(recommended.labelThresholds());
                assertThat(result.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                assertThat(result.getModelName()).isEqualTo(pool.modelName());
                assertThat(result.getNumLayers()).isEqualTo(numLayers);
                int expectedLayer = email.exitLayer(recommended);
                if (result.getExitLayer() != expectedLayer) {
                    (email.nearBoundary(recommended) ? excused : mismatches).add(email.id() + ": exit layer "
                            + result.getExitLayer() + ", reference " + expectedLayer);
                    continue;
                }
                mismatches.addAll(compareWithReference(result, email, expectedLayer));
            }
            assertThat(mismatches).as("results differing from the Python reference at the card's setting %s", recommended)
                    .isEmpty();
            assertThat(excused.size()).as("boundary cases %s", excused).isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aControlMessageSwitchesTheThresholdWhileTheApplicationRuns() {
        double everyoneAtLayerOne = Math.log(pool.labels().size()) + 0.01;
        // Batch 1 prefers emails that would leave early under the model card's setting, so S = 0 visibly changes
        // their exit layer; batch 2 emails that would not leave at layer 1, so S > ln C visibly changes theirs.
        // (A model where no email qualifies, such as a tiny test model, falls back to any emails: the
        // recorded threshold and source still show the switch.)
        List<Email> early = orElseSpread(references.all().stream().filter(e -> e.exitLayer(recommended) < numLayers)
                .limit(24).toList());
        List<Email> late = orElseSpread(references.all().stream().filter(e -> e.exitLayer(recommended) > 1)
                .filter(e -> !early.contains(e)).limit(24).toList());

        try (RunningClassifier app = RunningClassifier.start("switch", pool, tempDir)) {
            Path config = app.writeCliConfig(tempDir, references.modelDir());

            // Given: S = 0 set through the CLI, then batch 1.
            assertThat(cli(config, "control", "set-threshold", "--model", pool.modelName(), "--value", "0",
                    "--reason", "e2e: no early exit", "--by", "e2e-test")).isZero();
            app.awaitStoredSetting(s -> s != null && s.threshold() == 0.0, "S = 0");
            Map<String, Email> batch1 = keyed("b1/", early);
            app.produce(events(batch1));
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out1 = app.output().awaitKeys(batch1.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out1, batch1);
            for (Map.Entry<String, Email> e : batch1.entrySet()) {
                ClassifiedEvent result = app.decode(out1.get(e.getKey()).get(0).value());
                assertThat(result.getExitLayer()).as("exit layer of %s at S=0", e.getValue().id()).isEqualTo(numLayers);
                assertThat(result.getThreshold()).isEqualTo(0.0);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                assertThat(compareWithReference(result, e.getValue(), numLayers)).isEmpty();
            }

            // When: while the application runs, S is raised above ln(number of labels), then batch 2 arrives.
            assertThat(cli(config, "control", "set-threshold", "--model", pool.modelName(), "--value",
                    Double.toString(everyoneAtLayerOne), "--reason", "e2e: exit at once", "--by", "e2e-test")).isZero();
            app.awaitStoredSetting(s -> s != null && s.threshold() == everyoneAtLayerOne, "S > ln C");
            Map<String, Email> batch2 = keyed("b2/", late);
            app.produce(events(batch2));

            // Then: batch 2 leaves at layer 1 with off-ramp 1's reference prediction, recording the new S.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out2 = app.output().awaitKeys(batch2.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out2, merge(batch1, batch2));
            for (Map.Entry<String, Email> e : batch2.entrySet()) {
                ClassifiedEvent result = app.decode(out2.get(e.getKey()).get(0).value());
                assertThat(result.getExitLayer()).as("exit layer of %s at S>ln C", e.getValue().id()).isEqualTo(1);
                assertThat(result.getThreshold()).isEqualTo(everyoneAtLayerOne);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                assertThat(compareWithReference(result, e.getValue(), 1)).isEmpty();
            }
        }
    }

    @Test
    void patienceAndPerLayerThresholdsSetThroughTheCliTakeEffectLiveWithThePythonReferencesExits() {
        int patience = 2;
        // Per-layer S: nobody may leave at layer 1 (S_1 = 0), everyone still running may leave at layer 2
        // (S_2 > ln C), so every output must name layer 2 - a visible change from any single S.
        double open = Math.log(pool.labels().size()) + 0.01;
        List<Double> perLayer = new ArrayList<>();
        for (int layer = 1; layer <= numLayers; layer++) {
            perLayer.add(layer == 1 ? 0.0 : open);
        }
        String perLayerArg = String.join(",", perLayer.stream().map(String::valueOf).toList());
        List<Email> emails = references.spread(24);

        try (RunningClassifier app = RunningClassifier.start("policies", pool, tempDir)) {
            Path config = app.writeCliConfig(tempDir, references.modelDir());

            // Given: patience t = 2 selected live through the CLI, then batch 1.
            assertThat(cli(config, "control", "set-threshold", "--model", pool.modelName(), "--policy", "PATIENCE",
                    "--value", Integer.toString(patience), "--reason", "e2e: PABEE", "--by", "e2e-test")).isZero();
            app.awaitStoredSetting(s -> s != null && s.policy() == ExitPolicy.PATIENCE, "patience");
            Map<String, Email> batch1 = keyed("p1/", emails);
            app.produce(events(batch1));
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out1 = app.output().awaitKeys(batch1.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out1, batch1);
            List<String> excused = new ArrayList<>();
            for (Map.Entry<String, Email> e : batch1.entrySet()) {
                ClassifiedEvent result = app.decode(out1.get(e.getKey()).get(0).value());
                int expected = e.getValue().patienceExitLayer(patience);
                assertThat(result.getExitPolicy()).isEqualTo(ExitPolicyName.PATIENCE);
                assertThat(result.getThreshold()).isEqualTo((double) patience);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                if (result.getExitLayer() != expected && e.getValue().nearTie()) {
                    excused.add(e.getValue().id());
                    continue;
                }
                assertThat(result.getExitLayer()).as("patience exit layer of %s", e.getValue().id()).isEqualTo(expected);
                assertThat(compareWithReference(result, e.getValue(), expected)).isEmpty();
            }
            assertThat(excused.size()).as("near-tie cases %s", excused).isLessThanOrEqualTo(2);

            // When: a per-layer list replaces it, then batch 2 arrives.
            assertThat(cli(config, "control", "set-threshold", "--model", pool.modelName(), "--policy", "ENTROPY",
                    "--value", "0", "--layer-thresholds", perLayerArg, "--reason", "e2e: per-layer S",
                    "--by", "e2e-test")).isZero();
            app.awaitStoredSetting(s -> s != null && s.layerThresholds() != null, "per-layer S");
            Map<String, Email> batch2 = keyed("p2/", emails);
            app.produce(events(batch2));

            // Then: batch 2 leaves at layer 2 with off-ramp 2's reference prediction, recording the list.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out2 = app.output().awaitKeys(batch2.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out2, merge(batch1, batch2));
            for (Map.Entry<String, Email> e : batch2.entrySet()) {
                ClassifiedEvent result = app.decode(out2.get(e.getKey()).get(0).value());
                assertThat(result.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
                assertThat(result.getLayerThresholds()).containsExactlyElementsOf(perLayer);
                assertThat(result.getExitLayer()).as("per-layer exit of %s", e.getValue().id()).isEqualTo(2);
                assertThat(compareWithReference(result, e.getValue(), 2)).isEmpty();
            }
        }
    }

    @Test
    void badInputsAreDeadLetteredWithTheirCodeAndRawBytesWhileGoodOnesAroundThemAreClassified() {
        List<Email> good = references.spread(5);
        try (RunningClassifier app = RunningClassifier.start("dlq", pool, tempDir)) {
            byte[] goodBytes = app.serialize(RunningClassifier.event("template", good.get(0).text()));
            // A valid frame whose schema id the registry never issued (the body is a valid TextEvent).
            byte[] unknownId = goodBytes.clone();
            ByteBuffer.wrap(unknownId).putInt(1, 1_999_999_999);
            Map<String, byte[]> bad = new LinkedHashMap<>();
            bad.put("bad/not-wire-format", "From: someone\nSubject: plain bytes, no registry frame".getBytes(StandardCharsets.UTF_8));
            bad.put("bad/unknown-schema-id", unknownId);
            bad.put("bad/empty-text", app.serialize(RunningClassifier.event("bad/empty-text", "")));
            bad.put("bad/too-long", app.serialize(RunningClassifier.event("bad/too-long",
                    "spam ".repeat(TopologySettings.DEFAULTS.maxTextChars() / 5 + 1))));
            Map<String, DeadLetterCode> expectedCodes = Map.of(
                    "bad/not-wire-format", DeadLetterCode.NOT_WIRE_FORMAT,
                    "bad/unknown-schema-id", DeadLetterCode.UNKNOWN_SCHEMA_ID,
                    "bad/empty-text", DeadLetterCode.EMPTY_TEXT,
                    "bad/too-long", DeadLetterCode.TEXT_TOO_LONG);
            assertThat(ConfluentWireFormat.parse(unknownId).schemaId()).isEqualTo(1_999_999_999);

            // When: good and bad records alternate on the input topic.
            Map<String, Email> goodByKey = keyed("good/", good);
            List<Map.Entry<String, Email>> goodEntries = new ArrayList<>(goodByKey.entrySet());
            Map<String, RecordMetadata> badWritten = new LinkedHashMap<>();
            int g = 0;
            for (Map.Entry<String, byte[]> b : bad.entrySet()) {
                Map.Entry<String, Email> ge = goodEntries.get(g++);
                app.produceRaw(ge.getKey(), app.serialize(RunningClassifier.event(ge.getKey(), ge.getValue().text())));
                badWritten.put(b.getKey(), app.produceRaw(b.getKey(), b.getValue()));
            }
            Map.Entry<String, Email> last = goodEntries.get(g);
            app.produceRaw(last.getKey(), app.serialize(RunningClassifier.event(last.getKey(), last.getValue().text())));

            // Then: every good record is classified once, and only the bad ones are dead-lettered.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = app.output().awaitKeys(goodByKey.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out, goodByKey);
            Map<String, List<ConsumerRecord<byte[], byte[]>>> dead = app.deadLetters().awaitKeys(bad.keySet(), BATCH_TIMEOUT);
            assertThat(dead.keySet()).containsExactlyInAnyOrderElementsOf(bad.keySet());
            for (Map.Entry<String, byte[]> b : bad.entrySet()) {
                assertThat(dead.get(b.getKey())).as("dead letters for %s", b.getKey()).hasSize(1);
                ConsumerRecord<byte[], byte[]> r = dead.get(b.getKey()).get(0);
                assertThat(header(r, DeadLetterCode.HEADER)).as("code of %s", b.getKey())
                        .isEqualTo(expectedCodes.get(b.getKey()).name());
                assertThat(r.value()).as("raw bytes of %s", b.getKey()).isEqualTo(b.getValue());
                assertThat(header(r, DeadLetterHeaders.EXCEPTION)).as("exception header of %s", b.getKey()).isNotBlank();
                assertThat(header(r, DeadLetterHeaders.STACKTRACE)).as("stack trace header of %s", b.getKey()).isNotBlank();
                assertThat(header(r, DeadLetterHeaders.TOPIC)).isEqualTo(app.names().input());
                assertThat(header(r, DeadLetterHeaders.PARTITION))
                        .isEqualTo(Integer.toString(badWritten.get(b.getKey()).partition()));
                assertThat(header(r, DeadLetterHeaders.OFFSET)).as("source offset of %s", b.getKey())
                        .isEqualTo(Long.toString(badWritten.get(b.getKey()).offset()));
            }
        }
    }

    @Test
    void invalidControlMessagesLeaveTheThresholdUnchangedAndATombstoneRestoresTheModelCards() {
        double everyoneAtLayerOne = Math.log(pool.labels().size()) + 0.01;
        String model = pool.modelName();
        List<Email> emails = references.spread(36);
        try (RunningClassifier app = RunningClassifier.start("invalid-control", pool, tempDir)) {
            Path config = app.writeCliConfig(tempDir, references.modelDir());

            // Given: S > ln C in force, from the CLI.
            assertThat(cli(config, "control", "set-threshold", "--model", model, "--value", Double.toString(everyoneAtLayerOne),
                    "--reason", "e2e", "--by", "e2e-test")).isZero();
            app.awaitStoredSetting(s -> s != null && s.threshold() == everyoneAtLayerOne, "S > ln C");

            // When: invalid messages follow. Each would send events to the last layer (S = 0) if it were
            // applied, or end the global thread if it reached an ExitSetting unchecked.
            app.produceControl(model, control(model, -0.5));
            app.produceControl(model, control(model, Double.NaN));
            app.produceControl(model, control(model, Double.POSITIVE_INFINITY));
            app.produceControl(model, control("some-other-model", 0.0)); // key is ours, model_name is not
            app.produceControl("some-other-model", control("some-other-model", 0.0)); // another model's message
            app.awaitControlRecordsRead(6);
            Map<String, Email> afterInvalid = keyed("after-invalid/", emails.subList(0, 12));
            app.produce(events(afterInvalid));

            // Then: the previous S still applies.
            assertThat(app.storedSetting()).isEqualTo(ExitSetting.entropy(everyoneAtLayerOne));
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out1 = app.output().awaitKeys(afterInvalid.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out1, afterInvalid);
            for (Map.Entry<String, Email> e : afterInvalid.entrySet()) {
                ClassifiedEvent result = app.decode(out1.get(e.getKey()).get(0).value());
                assertThat(result.getThreshold()).as("S applied to %s", e.getValue().id()).isEqualTo(everyoneAtLayerOne);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                assertThat(result.getExitLayer()).isEqualTo(1);
            }

            // When: a tombstone (control clear-threshold).
            assertThat(cli(config, "control", "clear-threshold", "--model", model)).isZero();
            app.awaitStoredSetting(Objects::isNull, "no override");
            Map<String, Email> afterTombstone = keyed("after-tombstone/", emails.subList(12, emails.size()));
            app.produce(events(afterTombstone));

            // Then: the model card's setting applies again (per label when the card's is), with the reference's exit layers.
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out2 = app.output().awaitKeys(afterTombstone.keySet(), BATCH_TIMEOUT);
            assertExactlyOnePerKey(out2, merge(afterInvalid, afterTombstone));
            for (Map.Entry<String, Email> e : afterTombstone.entrySet()) {
                ClassifiedEvent result = app.decode(out2.get(e.getKey()).get(0).value());
                assertThat(result.getThreshold()).isEqualTo(recommended.threshold());
                assertThat(result.getLabelThresholds()).isEqualTo(recommended.labelThresholds());
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                if (!e.getValue().nearBoundary(recommended)) {
                    assertThat(result.getExitLayer()).as("exit layer of %s", e.getValue().id())
                            .isEqualTo(e.getValue().exitLayer(recommended));
                }
            }
        }
    }

    private List<Email> orElseSpread(List<Email> preferred) {
        return preferred.isEmpty() ? references.spread(24) : preferred;
    }

    private static ThresholdControl control(String modelName, double s) {
        return ThresholdControl.newBuilder().setThreshold(s).setPolicy(ExitPolicyName.ENTROPY).setModelName(modelName)
                .setChangedBy("e2e-test").setReason("invalid on purpose").setChangedAt(Instant.now()).build();
    }

    private static int cli(Path config, String... args) {
        String[] withConfig = new String[args.length + 2];
        System.arraycopy(args, 0, withConfig, 0, args.length);
        withConfig[args.length] = "--config";
        withConfig[args.length + 1] = config.toString();
        return Cli.commandLine().execute(withConfig);
    }

    private static Map<String, Email> keyed(String prefix, List<Email> emails) {
        Map<String, Email> byKey = new LinkedHashMap<>();
        for (Email e : emails) {
            byKey.put(prefix + e.id(), e);
        }
        return byKey;
    }

    private static Map<String, Email> merge(Map<String, Email> a, Map<String, Email> b) {
        Map<String, Email> all = new LinkedHashMap<>(a);
        all.putAll(b);
        return all;
    }

    private static List<TextEvent> events(Map<String, Email> byKey) {
        return byKey.entrySet().stream().map(e -> RunningClassifier.event(e.getKey(), e.getValue().text())).toList();
    }

    /** Every output key is an input key, and every input key has exactly one output. */
    private static void assertExactlyOnePerKey(Map<String, List<ConsumerRecord<byte[], byte[]>>> out, Map<String, Email> inputs) {
        assertThat(inputs.keySet()).as("inputs without an output").allMatch(out::containsKey);
        assertThat(out.keySet()).as("outputs without an input").allMatch(inputs::containsKey);
        List<String> duplicated = out.entrySet().stream().filter(e -> e.getValue().size() != 1).map(Map.Entry::getKey).toList();
        assertThat(duplicated).as("inputs with more than one output").isEmpty();
    }

    /** Label and probabilities of a result against the reference off-ramp it left at. */
    private List<String> compareWithReference(ClassifiedEvent result, Email email, int layer) {
        List<String> mismatches = new ArrayList<>();
        int expectedLabel = email.labelIndex(layer);
        if (result.getLabelIndex() != expectedLabel || !result.getLabel().equals(pool.labels().get(expectedLabel))) {
            mismatches.add(email.id() + ": label " + result.getLabel() + ", reference " + pool.labels().get(expectedLabel)
                    + " at layer " + layer);
        }
        double[] expected = email.probabilities(layer);
        for (int c = 0; c < expected.length; c++) {
            if (Math.abs(result.getProbabilities().get(c) - expected[c]) > PROBABILITY_TOLERANCE) {
                mismatches.add(email.id() + ": probability of label " + c + " is " + result.getProbabilities().get(c)
                        + ", reference " + expected[c] + " at layer " + layer);
            }
        }
        return mismatches;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
