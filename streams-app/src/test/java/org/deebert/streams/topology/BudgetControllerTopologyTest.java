package org.deebert.streams.topology;

import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ExitSettingInForce;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.deebert.streams.app.ControlTopicWriter;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ShadowSample;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The accuracy budget end to end through {@link TopologyTestDriver} (exactly-once v2): shadow samples from the
 * classify processor, the budget controller's decisions on the control topic, and their effect on later events.
 *
 * <p><b>Loop-back.</b> TopologyTestDriver (Kafka Streams 4.3.1) feeds what a sink writes to a topic that is also
 * a source of the topology back into it ({@code captureOutputsAndReEnqueueInternalResults}): records on the
 * shadow-sample topic reach the controller's source, and the controller's records on the control topic reach the
 * threshold global store, while both stay readable as output topics. These tests rely on that and pipe nothing
 * back by hand; {@link #theControllerRaisesSAfterEnoughSamplesWithoutDisagreement} checks both paths (the
 * controller decides on the samples, and the next event is classified with the controller's S).
 *
 * <p>Wall-clock time moves only when a test advances it. The controller decides every second from the
 * driver's start ({@link #decisionPasses()}); the linger punctuator flushes the batch buffer on any advance of at
 * least {@link #LINGER} ({@link #lingerPasses()}), which stays far from the next second.
 */
class BudgetControllerTopologyTest {

    private static final String APP_ID = "budget-controller-topology-test";
    private static final Duration LINGER = Duration.ofMillis(5);
    private static final Instant START = Instant.parse("2024-05-01T10:00:00Z");
    private static final Instant EVENT_TIME = Instant.parse("2024-05-01T09:00:00Z");
    private static final double MIN_S = 0.05;
    private static final double MAX_S = 0.5;
    /** 5 % disagreement, every event sampled, S in [0.05, 0.5], window of 1000 samples or one minute. */
    private static final Budget BUDGET = new Budget(0.05, 1.0, MIN_S, MAX_S, 1000, 60_000,
            Budget.DEFAULT_CONFIDENCE);

    /** The same budget, and at most 5 % of the spam the full model catches may be let through by early exit. */
    private static final Budget GUARDED = BUDGET.withGuard(new Budget.LabelGuard("spam", 0.05));

    private final TopologyHarness harness = new TopologyHarness(APP_ID);
    private final Topics topics = harness.topics();
    private final ShadowSampleSerde sampleSerde = new ShadowSampleSerde();
    private ClassifierPool pool;
    private TopologyTestDriver driver;
    private TestInputTopic<String, TextEvent> input;
    private TestInputTopic<String, ThresholdControl> control;
    private TestInputTopic<String, byte[]> rawShadowInput;
    private TestOutputTopic<String, ClassifiedEvent> output;
    private TestOutputTopic<String, ShadowSample> shadow;
    private TestOutputTopic<String, ThresholdControl> decisions;
    private int nextEvent;

    private void start() {
        pool = new ClassifierPool(FakeClassifier::new);
        driver = harness.start(new TopologySettings(100, LINGER, 100), pool, StreamsConfig.EXACTLY_ONCE_V2, START);
        input = harness.input();
        control = harness.control();
        rawShadowInput = harness.rawShadowSamples();
        output = harness.output();
        shadow = harness.shadowSamples();
        // Only what the topology writes: records a test pipes into the control topic are not output records.
        decisions = harness.controlDecisions();
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private static TextEvent event(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setEventTime(EVENT_TIME).setSource("test").build();
    }

    private void setBudget() {
        setBudget(BUDGET);
    }

    private void setBudget(Budget budget) {
        control.pipeInput(FakeClassifier.MODEL, ControlTopicWriter.budgetMessage(FakeClassifier.MODEL, ExitPolicy.ENTROPY,
                budget, "tester", "test budget"));
    }

    private void setFixedThreshold(double s) {
        control.pipeInput(FakeClassifier.MODEL, ControlTopicWriter.thresholdMessage(FakeClassifier.MODEL, s,
                ExitPolicy.ENTROPY, "tester", "fixed"));
    }

    /** Lets the linger punctuator classify everything buffered (not a decision: far from the next second). */
    private void lingerPasses() {
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
    }

    /** Lets the controller's once-a-second punctuator fire once. */
    private void decisionPasses() {
        driver.advanceWallClockTime(BudgetControllerProcessor.DECISION_INTERVAL);
    }

    /** Pipes {@code count} events with {@code text} and classifies them; returns their outputs. */
    private List<ClassifiedEvent> classify(int count, String text) {
        for (int i = 0; i < count; i++) {
            String id = "e" + nextEvent++;
            input.pipeInput(id, event(id, text + " " + id));
        }
        lingerPasses();
        List<ClassifiedEvent> out = output.readValuesToList();
        assertThat(out).hasSize(count);
        return out;
    }

    @Test
    void withoutABudgetNoShadowSamplesAreWrittenAndTheControllerIsSilent() {
        start();
        List<ClassifiedEvent> out = classify(60, "hello");
        decisionPasses();
        setFixedThreshold(0.2);
        classify(5, "hello");
        decisionPasses();

        assertThat(out).allSatisfy(e -> assertThat(e.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD));
        assertThat(shadow.isEmpty()).as("no shadow samples without a budget").isTrue();
        assertThat(decisions.isEmpty()).as("no controller decisions without a budget").isTrue();
    }

    @Test
    void underABudgetEveryClassifiedEventYieldsOneShadowSampleKeyedByTheModel() {
        start();
        setBudget();
        input.pipeInput("k-ham", event("id-ham", "hello"));
        input.pipeInput("k-spam", event("id-spam", "buy now"));
        input.pipeInput("k-tricky", event("id-tricky", "a tricky one"));
        lingerPasses();
        long sampledAt = START.plus(LINGER.multipliedBy(2)).toEpochMilli();

        List<ClassifiedEvent> out = output.readValuesToList();
        assertThat(out).hasSize(3).allSatisfy(e -> {
            assertThat(e.getThresholdSource()).isEqualTo(ExitSettingInForce.ACCURACY_BUDGET);
            assertThat(e.getThreshold()).isEqualTo(MIN_S);
            assertThat(e.getExitPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        });
        List<TestRecord<String, ShadowSample>> samples = shadow.readRecordsToList();
        assertThat(samples).hasSize(3);
        for (TestRecord<String, ShadowSample> r : samples) {
            assertThat(r.key()).isEqualTo(FakeClassifier.MODEL);
            assertThat(r.value().getModelName()).isEqualTo(FakeClassifier.MODEL);
            assertThat(r.value().getSampledAt()).isEqualTo(Instant.ofEpochMilli(sampledAt));
            assertThat(r.value().getEntropies()).containsExactly(0.2, 0.1, 0.05, 0.01);
            assertThat(r.value().getDivergences()).hasSize(4).first().isEqualTo(Double.POSITIVE_INFINITY);
        }
        assertThat(samples.get(0).value().getLabels()).containsExactly(0, 0, 0, 0);
        assertThat(samples.get(1).value().getLabels()).containsExactly(1, 1, 1, 1);
        assertThat(samples.get(2).value().getLabels()).containsExactly(1, 1, 1, 0);
        assertThat(shadow.isEmpty()).isTrue();
    }

    @Test
    void theControllerRaisesSAfterEnoughSamplesWithoutDisagreement() {
        start();
        setBudget();
        // 30 samples without disagreement: the Wilson bound at 95 % cannot prove 5 % yet (52 needed): S stays.
        classify(30, "hello");
        decisionPasses();
        assertThat(decisions.isEmpty()).as("no decision on 30 samples").isTrue();

        classify(35, "hello");
        decisionPasses();

        List<TestRecord<String, ThresholdControl>> written = decisions.readRecordsToList();
        assertThat(written).hasSize(1);
        TestRecord<String, ThresholdControl> raise = written.get(0);
        assertThat(raise.key()).isEqualTo(FakeClassifier.MODEL);
        ThresholdControl m = raise.value();
        assertThat(m.getChangedBy()).isEqualTo(BudgetControllerProcessor.AUTHOR);
        assertThat(m.getModelName()).isEqualTo(FakeClassifier.MODEL);
        assertThat(m.getPolicy()).isEqualTo(ExitPolicyName.ENTROPY);
        assertThat(m.getBudget()).isEqualTo(ControlMessages.toAvro(BUDGET));
        assertThat(m.getThreshold()).isGreaterThan(MIN_S).isEqualTo(MAX_S);
        assertThat(m.getReason()).contains("window 65 samples").contains("instance " + APP_ID);
        assertThat(m.getLayerThresholds()).isNull();

        // The decision came back through the global store (the driver loops the control topic back): the next
        // event is classified at the controller's S, still under the budget.
        ClassifiedEvent next = classify(1, "hello").get(0);
        assertThat(next.getThreshold()).isEqualTo(MAX_S);
        assertThat(next.getThresholdSource()).isEqualTo(ExitSettingInForce.ACCURACY_BUDGET);
        assertThat(next.getExitLayer()).isEqualTo(FakeClassifier.exitLayerFor(MAX_S));

        // Nothing changed: the controller holds S and writes nothing.
        decisionPasses();
        assertThat(decisions.isEmpty()).as("no decision while S holds").isTrue();
    }

    @Test
    void theControllerLowersSWhenDisagreementExceedsTheBudget() {
        start();
        setBudget();
        classify(65, "hello");
        decisionPasses();
        assertThat(decisions.readValue().getThreshold()).isEqualTo(MAX_S);

        // At S = 0.5 a tricky event exits at layer 1 and disagrees; at S = 0.05 it reaches layer 4.
        classify(20, FakeClassifier.TRICKY);
        decisionPasses();

        List<ThresholdControl> written = decisions.readValuesToList();
        assertThat(written).hasSize(1);
        ThresholdControl lower = written.get(0);
        assertThat(lower.getChangedBy()).isEqualTo(BudgetControllerProcessor.AUTHOR);
        assertThat(lower.getBudget()).isEqualTo(ControlMessages.toAvro(BUDGET));
        // Exactly the minimum: the tricky traces' lowest breakpoint is their layer-3 entropy 0.05 = min, so no S
        // in (min, max] is within budget. A controller replaying scores rounded through float would pick
        // 0.05000000074505806, at which the live classifier (entropy 0.05 < S) exits tricky events at layer 3.
        assertThat(lower.getThreshold()).isLessThan(MAX_S).isEqualTo(MIN_S);
        assertThat(lower.getReason()).contains("window 85 samples").contains("lowered");

        assertThat(classify(1, "hello").get(0).getThreshold()).isEqualTo(MIN_S);
    }

    /**
     * 100 ham and 100 spam that every off-ramp gets right, then 4 spam that off-ramps 1..3 call ham ("tricky
     * buy"): above S = 0.05 early exit lets them through. Returns the S of the decision on the first 200.
     */
    private double raiseThenMissFourSpam() {
        classify(100, "hello");
        classify(100, "buy now");
        decisionPasses();
        ThresholdControl raise = decisions.readValue();
        classify(4, FakeClassifier.TRICKY + " buy");
        decisionPasses();
        return raise.getThreshold();
    }

    @Test
    void theLabelGuardLowersSWhereTheBudgetAloneWouldHoldIt() {
        start();
        setBudget(GUARDED);
        classify(100, "hello");
        classify(100, "buy now");
        decisionPasses();
        // 0 of 100 spam missed (bound 2.63 %, within 80 % of 5 %) and 0 of 200 answers: up to the maximum.
        ThresholdControl raise = decisions.readValue();
        assertThat(raise.getThreshold()).isEqualTo(MAX_S);
        assertThat(raise.getBudget()).as("the budget, guard included, copied unchanged")
                .isEqualTo(ControlMessages.toAvro(GUARDED));
        assertThat(raise.getBudget().getProtectedLabel()).isEqualTo("spam");
        assertThat(raise.getReason()).contains("window 200 samples",
                "; spam recall loss <= 5.00 % (upper 2.63 %, n=100, 0 missed)");

        // Then 4 spam that early exit calls ham: 4 of 204 answers (bound 4.30 %) is within the budget, but 4 of 104
        // spam is not within the guard.
        classify(4, FakeClassifier.TRICKY + " buy");
        decisionPasses();
        List<ThresholdControl> written = decisions.readValuesToList();
        assertThat(written).hasSize(1);
        ThresholdControl lower = written.get(0);
        assertThat(lower.getThreshold()).isEqualTo(MIN_S);
        assertThat(lower.getChangedBy()).isEqualTo(BudgetControllerProcessor.AUTHOR);
        assertThat(lower.getBudget()).isEqualTo(ControlMessages.toAvro(GUARDED));
        assertThat(lower.getReason()).contains("window 204 samples", "<= budget 5.00 %",
                "spam recall loss <= 5.00 % (upper 2.54 %, n=104, 0 missed)", "upper bound 4.30 %",
                "the S in force breaks the spam guard").doesNotContain("breaks the budget");
        assertThat(classify(1, "buy now").get(0).getThreshold()).isEqualTo(MIN_S);
    }

    @Test
    void theBudgetAloneHoldsSWhenOnlyTheProtectedLabelPays() {
        start();
        setBudget(BUDGET);
        assertThat(raiseThenMissFourSpam()).isEqualTo(MAX_S);
        // The same 4 missed spam are 4 of 204 answers: within 5 %, so S stays where the guard would not let it.
        assertThat(decisions.isEmpty()).as("no decision: S holds").isTrue();
        assertThat(classify(1, "buy now").get(0).getThreshold()).isEqualTo(MAX_S);
    }

    @Test
    void aGuardOnALabelTheModelLacksIsRejectedByTheService() {
        start();
        // Written without the CLI's check (it had no model card): the service knows the labels and rejects it.
        control.pipeInput(FakeClassifier.MODEL, ControlMessages.budgetSetting(FakeClassifier.MODEL, ExitPolicy.ENTROPY, MIN_S,
                BUDGET.withGuard(new Budget.LabelGuard("eggs", 0.05)), "tester", "typo", START));
        ClassifiedEvent e = classify(1, "hello").get(0);
        assertThat(e.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
        assertThat(shadow.isEmpty()).as("no budget in force, no shadow samples").isTrue();
    }

    @Test
    void aFixedThresholdAfterTheBudgetStopsShadowSamplesAndTheController() {
        start();
        setBudget();
        classify(60, "hello");
        assertThat(shadow.readValuesToList()).hasSize(60);
        // The window would justify a raise, but the operator fixes S before the controller decides.
        setFixedThreshold(0.2);
        decisionPasses();
        List<ClassifiedEvent> after = classify(60, "hello");
        decisionPasses();
        decisionPasses();

        assertThat(decisions.isEmpty()).as("the controller writes nothing without a budget").isTrue();
        assertThat(shadow.isEmpty()).as("no shadow samples without a budget").isTrue();
        assertThat(after).allSatisfy(e -> {
            assertThat(e.getThreshold()).isEqualTo(0.2);
            assertThat(e.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
        });
    }

    @Test
    void aCorruptShadowSampleIsSkippedByTheController() {
        start();
        setBudget();
        rawShadowInput.pipeInput(FakeClassifier.MODEL, new byte[] {9, 1, 2, 3});
        rawShadowInput.pipeInput(FakeClassifier.MODEL, new byte[] {ShadowSampleSerde.FORMAT, 1, 2, 3});
        classify(64, "hello");
        decisionPasses();
        // 51 good samples (plus 2 corrupt ones, which must not count): one short of what 5 % needs at 95 %.
        assertThat(decisions.isEmpty()).as("corrupt samples are not counted").isTrue();
        classify(1, "hello");
        decisionPasses();
        assertThat(decisions.readValue().getReason()).contains("window 65 samples");
    }

    @Test
    void shadowSamplesRoundTripThroughTheirSerdeAndCorruptBytesReadAsNull() {
        ShadowSample sample = ShadowSamples.toSample("m", 1234L, FakeClassifier.shadowTrace(1, true));
        byte[] bytes = sampleSerde.serializer().serialize("t", sample);
        assertThat(bytes[0]).isEqualTo(ShadowSampleSerde.FORMAT);

        ShadowSample back = sampleSerde.deserializer().deserialize("t", bytes);
        assertThat(back).isEqualTo(sample);
        assertThat(ShadowSamples.toTrace(back)).isEqualTo(FakeClassifier.shadowTrace(1, true));

        byte[] otherFormat = bytes.clone();
        otherFormat[0] = (byte) (ShadowSampleSerde.FORMAT + 1);
        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
        assertThat(sampleSerde.deserializer().deserialize("t", otherFormat)).isNull();
        assertThat(sampleSerde.deserializer().deserialize("t", truncated)).isNull();
        assertThat(sampleSerde.deserializer().deserialize("t", new byte[0])).isNull();
        assertThat(sampleSerde.deserializer().deserialize("t", null)).isNull();
        assertThat(sampleSerde.serializer().serialize("t", null)).isNull();
    }
}
