package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deebert.streams.classifier.BatchResult;
import org.deebert.streams.classifier.Classification;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.classifier.OffRampProbe;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java runtime against Python's reference outputs for the held-out test split of the
 * committed model, without Kafka: same tokens, same per-layer logits, and, for a threshold S under the
 * entropy policy, the exit layer and label that the reference logits imply (computed here, not by the
 * classifier). The only mismatches tolerated are inputs whose reference entropy lies within
 * {@value ReferenceEmails#BOUNDARY_NATS} nats of S, where float rounding decides; they are counted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class ClassifierParityTest {

    private static final Logger LOG = LoggerFactory.getLogger(ClassifierParityTest.class);
    /** Softmax outputs of Java and Python agree to this (absolute). */
    private static final double PROBABILITY_TOLERANCE = 1e-4;
    /** Logits agree to this (absolute): float32 sums over 384 dims, padded to different lengths. */
    private static final double LOGIT_TOLERANCE = 1e-3;
    /** Emails for the thresholds that need no full-set run (every layer for every email costs about a minute). */
    private static final int SUBSET = 200;

    private ReferenceEmails references;
    private EarlyExitClassifier classifier;

    @BeforeAll
    void loadModel() {
        references = ReferenceEmails.load();
        classifier = EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, ClassifierOptions.DEFAULT_MAX_BATCH_SIZE));
    }

    @AfterAll
    void closeModel() {
        if (classifier != null) {
            classifier.close();
        }
    }

    @Test
    void everyOffRampsLogitsMatchPythonsReferenceForEveryTestEmail() {
        List<String> texts = references.all().stream().map(Email::text).toList();
        float[][][] logits = new OffRampProbe(classifier).allOffRampLogits(texts);

        List<String> mismatches = new ArrayList<>();
        double worst = 0;
        for (int i = 0; i < texts.size(); i++) {
            Email email = references.all().get(i);
            assertThat(logits[i]).as("off-ramps of %s", email.id()).hasNumberOfRows(email.numLayers());
            for (int layer = 1; layer <= email.numLayers(); layer++) {
                for (int c = 0; c < email.logits()[layer - 1].length; c++) {
                    double diff = Math.abs(logits[i][layer - 1][c] - email.logits()[layer - 1][c]);
                    worst = Math.max(worst, diff);
                    if (diff > LOGIT_TOLERANCE) {
                        mismatches.add(email.id() + " layer " + layer + " label " + c + ": Java " + logits[i][layer - 1][c]
                                + ", Python " + email.logits()[layer - 1][c]);
                    }
                }
            }
        }
        LOG.info("Logit parity over {} emails: largest difference {}", texts.size(), worst);
        assertThat(mismatches).as("logits further than %s from Python's", LOGIT_TOLERANCE).isEmpty();
    }

    @Test
    void tokenIdsEqualPythonsForEveryTestEmail() {
        // DJL's Hugging Face tokenizer and Python's `tokenizers` read the same tokenizer.json: same ids.
        List<String> mismatches = new ArrayList<>();
        for (Email email : references.all()) {
            if (!Arrays.equals(new OffRampProbe(classifier).tokenIds(email.text()), email.tokenIds())) {
                mismatches.add(email.id());
            }
        }
        assertThat(mismatches).as("emails whose Java token ids differ from Python's").isEmpty();
    }

    @Test
    void aboveLnOfTheLabelCountEveryEmailLeavesAtLayerOneWithItsReferenceProbabilitiesAndTokenCount() {
        // Layer 1 only: cheap enough to check every email's tokenization too.
        assertExitParity(Math.log(classifier.labels().size()) + 0.01, references.all());
    }

    @Test
    void atSZeroEveryEmailRunsAllLayersWithTheLastOffRampsReferenceProbabilities() {
        // All layers for every input: a subset (the logits test already ran the full set through all layers).
        assertExitParity(0.0, references.spread(SUBSET));
    }

    @Test
    void atTheModelCardsRecommendedSettingExitLayersAndLabelsMatchTheReference() {
        // As the card has it: per predicted label when label-conditional (the default model's is).
        ExitSetting recommended = classifier.recommendedSetting();
        assertThat(recommended.policy()).isEqualTo(ExitPolicy.ENTROPY);

        assertExitParity(recommended, references.all());
    }

    @Test
    void atAnotherThresholdExitLayersAndLabelsMatchTheReference() {
        double recommended = classifier.recommendedSetting().threshold();
        // A threshold clearly apart from the recommended one, inside (0, ln C), so exits spread over layers.
        double other = Math.abs(recommended - 0.2) < 0.05 ? 0.4 : 0.2;

        assertExitParity(other, references.spread(SUBSET));
    }

    /** {@link #assertExitParity(ExitSetting, List)} with one S for every label. */
    private void assertExitParity(double s, List<Email> emails) {
        assertExitParity(ExitSetting.entropy(s), emails);
    }

    /**
     * Classifies the emails under an entropy setting (one S, or S by predicted label) and compares each result with
     * what the reference logits imply: exit layer, label, probabilities and entropy at that layer, and token count.
     */
    private void assertExitParity(ExitSetting s, List<Email> emails) {
        List<String> texts = emails.stream().map(Email::text).toList();
        BatchResult result = classifier.classifyBatch(ClassifyRequest.of(texts, s));

        List<String> mismatches = new ArrayList<>();
        List<String> excused = new ArrayList<>();
        int[] histogram = new int[classifier.numLayers()];
        for (int i = 0; i < texts.size(); i++) {
            Email email = emails.get(i);
            Classification c = result.classifications().get(i);
            if (c.numTokens() != email.numTokens()) {
                mismatches.add(email.id() + ": Java " + c.numTokens() + " tokens, Python " + email.numTokens());
            }
            int expectedLayer = email.exitLayer(s);
            histogram[expectedLayer - 1]++;
            if (c.exitLayer() != expectedLayer) {
                (email.nearBoundary(s) ? excused : mismatches).add(email.id() + ": Java exits at layer " + c.exitLayer()
                        + ", reference at " + expectedLayer);
                continue;
            }
            int expectedLabel = email.labelIndex(expectedLayer);
            double[] expectedProbs = email.probabilities(expectedLayer);
            if (c.labelIndex() != expectedLabel) {
                mismatches.add(email.id() + ": Java label " + c.labelIndex() + ", reference " + expectedLabel
                        + " at layer " + expectedLayer);
            }
            for (int k = 0; k < expectedProbs.length; k++) {
                if (Math.abs(c.probabilities()[k] - expectedProbs[k]) > PROBABILITY_TOLERANCE) {
                    mismatches.add(email.id() + ": probability of label " + k + " at layer " + expectedLayer + " is "
                            + c.probabilities()[k] + " in Java, " + expectedProbs[k] + " from the reference logits");
                }
            }
            if (Math.abs(c.entropy() - email.entropy(expectedLayer)) > PROBABILITY_TOLERANCE) {
                mismatches.add(email.id() + ": entropy at layer " + expectedLayer + " is " + c.entropy() + " in Java, "
                        + email.entropy(expectedLayer) + " from the reference logits");
            }
            assertThat(c.label()).isEqualTo(classifier.labels().get(c.labelIndex()));
        }
        LOG.info("S={} on {} emails: reference exit histogram {}, {} boundary cases excused {}", s, emails.size(), Arrays.toString(histogram),
                excused.size(), excused);

        assertThat(mismatches).as("disagreements with the reference at S=%s", s).isEmpty();
        // Rounding may only decide the rare input sitting on the threshold.
        assertThat(excused.size()).as("exit layers differing on the boundary at S=%s: %s", s, excused)
                .isLessThanOrEqualTo(Math.max(2, texts.size() / 200));
    }
}
