package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.deebert.streams.app.Cli;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Label-conditional thresholds switched on and off live, through the real {@code control set} CLI and the
 * control topic, on the real parts: the committed SpamAssassin model (labels ham, spam; 6 layers), held-out
 * emails, Kafka Streams on a real KRaft broker and the real Schema Registry. Ham gets S = 0 (a ham answer may
 * never leave early: a wrong early ham lets spam through), spam a loose S; expected exit layers and labels come
 * from Python's reference logits ({@link ReferenceEmails}), not from the Java classifier.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class LabelThresholdsE2ETest {

    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(120);
    private static final double PROBABILITY_TOLERANCE = 1e-4;
    /**
     * The loose S for spam, nats: well above the card's one-S calibrations (about 0.14-0.18), so spam answers leave
     * visibly earlier than ham answers, which get S = 0 here.
     */
    private static final double LOOSE_SPAM_S = 0.5;
    private static final int PER_GROUP = 12;

    @TempDir
    Path tempDir;

    private ReferenceEmails references;
    private ClassifierPool pool;
    private int numLayers;
    private int ham;
    private int spam;
    private double cardS;
    private ExitSetting card;

    @BeforeAll
    void loadModel() {
        references = ReferenceEmails.load();
        pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
        numLayers = pool.numLayers();
        ham = pool.labels().indexOf("ham");
        spam = pool.labels().indexOf("spam");
        assertThat(ham).as("the default model's labels %s", pool.labels()).isNotNegative();
        assertThat(spam).as("the default model's labels %s", pool.labels()).isNotNegative();
        card = pool.recommendedSetting();
        assertThat(card.policy()).isEqualTo(ExitPolicy.ENTROPY);
        // The card's setting may itself be label-conditional (the default model's is: ham strict, spam loose); the
        // test's own setting gives ham S = 0, which no calibrated card does, so the tombstone visibly changes exits.
        cardS = card.threshold();
    }

    @AfterAll
    void closeModel() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void hamStrictAndSpamLooseSetLiveLetOnlySpamAnswersLeaveEarlyUntilATombstoneRestoresTheCardsSetting() {
        double[] byLabel = new double[pool.labels().size()];
        byLabel[spam] = LOOSE_SPAM_S; // ham stays 0
        // Emails whose reference scores sit clear of every S value (the test's and the card's) and have no near-tie,
        // so Java and Python decide alike: spam that leaves early under the loose S, and emails answered ham that the
        // card's setting lets out early (so both switches visibly move them).
        List<Email> clear = references.all().stream()
                .filter(e -> !e.nearTie() && !e.nearBoundary(LOOSE_SPAM_S) && !e.nearBoundary(card)).toList();
        List<Email> spamEarly = clear.stream().filter(e -> e.exitLayer(byLabel) < numLayers).limit(PER_GROUP).toList();
        List<Email> hamEarlyUnderCard = clear.stream()
                .filter(e -> e.exitLayer(byLabel) == numLayers && e.labelIndex(numLayers) == ham)
                .filter(e -> e.exitLayer(card) < numLayers).limit(PER_GROUP).toList();
        assertThat(spamEarly).hasSize(PER_GROUP);
        assertThat(hamEarlyUnderCard).hasSize(PER_GROUP);
        List<Email> emails = Stream.concat(spamEarly.stream(), hamEarlyUnderCard.stream()).toList();

        try (RunningClassifier app = RunningClassifier.start("label-s", pool, tempDir)) {
            Path config = app.writeCliConfig(tempDir, references.modelDir());

            // Given: ham S = 0 and spam S = 0.5 nats set live with the CLI (policy in lower case, as the card spells it).
            assertThat(cli(config, "control", "set", "--model", pool.modelName(), "--policy", "entropy",
                    "--threshold", Double.toString(cardS), "--label-threshold", "ham=0",
                    "--label-threshold", "spam=" + LOOSE_SPAM_S, "--reason", "e2e: ham strict, spam loose",
                    "--by", "e2e-test")).isZero();
            ExitSetting stored = app.awaitStoredSetting(s -> s != null && s.labelThresholds() != null, "per-label S");
            assertThat(stored.labelThresholds()).containsExactly(byLabel[0], byLabel[1]);

            // When: the emails arrive.
            Map<String, TextEvent> batch1 = RunningClassifier.events("l1/", emails);
            app.produce(batch1.values());
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out1 = app.output().awaitKeys(batch1.keySet(), BATCH_TIMEOUT);

            // Then: each leaves where the reference says; every answer before the last layer is spam, and every
            // email answered ham ran all the layers.
            List<String> mismatches = new ArrayList<>();
            long[] histogram1 = new long[numLayers];
            for (int i = 0; i < emails.size(); i++) {
                Email email = emails.get(i);
                ClassifiedEvent result = single(out1, "l1/" + email.id(), app);
                int expected = email.exitLayer(byLabel);
                histogram1[result.getExitLayer() - 1]++;
                assertThat(result.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                assertThat(result.getLabelThresholds()).containsExactly(byLabel[0], byLabel[1]);
                if (result.getLabelIndex() == ham) {
                    assertThat(result.getExitLayer()).as("%s answered ham", email.id()).isEqualTo(numLayers);
                }
                if (result.getExitLayer() < numLayers) {
                    assertThat(result.getLabel()).as("%s left at layer %d", email.id(), result.getExitLayer())
                            .isEqualTo("spam");
                    assertThat(result.getExitScore()).isLessThan(LOOSE_SPAM_S);
                }
                mismatches.addAll(compare(result, email, expected));
            }
            assertThat(mismatches).as("results differing from the Python reference").isEmpty();
            assertThat(histogram1[numLayers - 1]).as("emails answered ham, all run to the last layer")
                    .isEqualTo(PER_GROUP);

            // When: a tombstone (control clear-threshold) brings back the model card's setting as the card has it.
            assertThat(cli(config, "control", "clear-threshold", "--model", pool.modelName())).isZero();
            app.awaitStoredSetting(Objects::isNull, "no override");
            Map<String, TextEvent> batch2 = RunningClassifier.events("l2/", emails);
            app.produce(batch2.values());
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out2 = app.output().awaitKeys(batch2.keySet(), BATCH_TIMEOUT);

            // Then: the card's setting applies again (its per-label S, recorded in each event, when it has them):
            // the ham emails leave early once more.
            long[] histogram2 = new long[numLayers];
            for (Email email : emails) {
                ClassifiedEvent result = single(out2, "l2/" + email.id(), app);
                histogram2[result.getExitLayer() - 1]++;
                assertThat(result.getThreshold()).isEqualTo(cardS);
                assertThat(result.getLabelThresholds()).isEqualTo(card.labelThresholds());
                assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                mismatches.addAll(compare(result, email, email.exitLayer(card)));
            }
            assertThat(mismatches).as("results differing from the Python reference at the card's setting").isEmpty();
            for (Email email : hamEarlyUnderCard) {
                assertThat(single(out2, "l2/" + email.id(), app).getExitLayer()).as("%s under the card's setting", email.id())
                        .isLessThan(numLayers);
            }
            System.out.printf("label thresholds e2e: %d emails; ham S=0, spam S=%s: exits %s, mean layer %.2f;"
                            + " card S=%s, by label %s: exits %s, mean layer %.2f%n", emails.size(), LOOSE_SPAM_S,
                    java.util.Arrays.toString(histogram1), mean(histogram1), cardS, card.labelThresholds(),
                    java.util.Arrays.toString(histogram2), mean(histogram2));
        }
    }

    private static double mean(long[] histogram) {
        long sum = 0;
        long count = 0;
        for (int i = 0; i < histogram.length; i++) {
            sum += (i + 1) * histogram[i];
            count += histogram[i];
        }
        return (double) sum / count;
    }

    /** The one committed output for {@code key}; fails on none or several. */
    private static ClassifiedEvent single(Map<String, List<ConsumerRecord<byte[], byte[]>>> out, String key,
                                          RunningClassifier app) {
        assertThat(out.get(key)).as("outputs for %s", key).hasSize(1);
        return app.decode(out.get(key).get(0).value());
    }

    /** Exit layer, label and probabilities of a result against the reference off-ramp it should have left at. */
    private List<String> compare(ClassifiedEvent result, Email email, int layer) {
        List<String> mismatches = new ArrayList<>();
        if (result.getExitLayer() != layer) {
            mismatches.add(email.id() + ": exit layer " + result.getExitLayer() + ", reference " + layer);
            return mismatches;
        }
        if (result.getLabelIndex() != email.labelIndex(layer)) {
            mismatches.add(email.id() + ": label " + result.getLabel() + " at layer " + layer + ", reference "
                    + pool.labels().get(email.labelIndex(layer)));
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

    private static int cli(Path config, String... args) {
        String[] withConfig = new String[args.length + 2];
        System.arraycopy(args, 0, withConfig, 0, args.length);
        withConfig[args.length] = "--config";
        withConfig[args.length + 1] = config.toString();
        return Cli.commandLine().execute(withConfig);
    }
}
