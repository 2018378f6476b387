package org.deebert.streams.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.schema.ControllerWindow;
import org.deebert.streams.schema.ExitPolicyName;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ThresholdControl;
import org.junit.jupiter.api.Test;

class ControlStatusReportTest {

    private static final long AT = Instant.parse("2026-03-01T12:00:00.250Z").toEpochMilli();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ThresholdControl fixed() {
        return ControlMessages.fixedSetting("m1", ExitPolicy.ENTROPY, 0.25, null, Map.of("spam", 0.7),
                "alice", "fewer layers at peak", Instant.ofEpochMilli(AT - 5));
    }

    private static ThresholdControl budget() {
        Budget b = new Budget(0.005, 0.02, 0.1, 0.8, 1000, 600_000, 0.95, Budget.LabelGuard.of("spam", 0.01));
        return ControlMessages.budgetSetting("m2", ExitPolicy.DIVERGENCE, 0.1, b, "bob", "budget trial",
                Instant.ofEpochMilli(AT));
    }

    private static ExitTelemetry window() {
        return ExitTelemetry.newBuilder().setInstanceId("app-host-1").setModelName("m2").setModelVersion("1")
                .setIntervalStart(Instant.ofEpochMilli(AT)).setIntervalEnd(Instant.parse("2026-03-01T12:05:00Z"))
                .setEvents(10).setEventsPerSecond(1).setExitHistogram(List.of(10L)).setExpectedSaving(0.5)
                .setThreshold(0.3).setExitPolicy(ExitPolicyName.DIVERGENCE).setThresholdSource("control-topic")
                .setDeadLetters(0).setDeadLettersByCode(Map.of()).setMaxDisagreement(0.005)
                .setProtectedLabel("spam").setMaxRecallLoss(0.01)
                .setController(ControllerWindow.newBuilder().setWindowSamples(812).setDisagreement(0.0012)
                        .setDisagreementUpperBound(0.0041).setChosenThreshold(0.3).setProtectedSamples(120)
                        .setProtectedRecallLoss(0.0).setProtectedRecallLossUpperBound(0.02).build())
                .build();
    }

    private static List<ControlStatusReport.ModelStatus> models() {
        return List.of(new ControlStatusReport.ModelStatus("m1", fixed(), AT, null),
                new ControlStatusReport.ModelStatus("m2", budget(), AT, window()),
                new ControlStatusReport.ModelStatus("m3", null, AT, null),
                new ControlStatusReport.ModelStatus("m4", null, null, null));
    }

    @Test
    void textShowsTheSettingItsSourceWhoWhenAndWhyTheBudgetAndTheControllersWindow() {
        String text = ControlStatusReport.text(models());

        assertThat(text).contains("Model m1\n  setting:    ENTROPY S=0.25 nats, per label {spam=0.7}\n"
                + "  source:     control-topic\n  set by:     alice\n  set at:     2026-03-01T12:00:00.250Z\n"
                + "  reason:     fewer layers at peak\n");
        assertThat(text).contains("Model m2\n  setting:    DIVERGENCE S=0.1 nats\n")
                .contains("  budget:     at most 0.005 of answers differ from the full model, at most 0.01 of spam"
                        + " recall lost; S in [0.1, 0.8] nats; sample rate 0.02; window 1000 samples / 600000 ms;"
                        + " confidence 0.95\n")
                .contains("  controller: S=0.3 nats at 2026-03-01T12:05:00Z (app-host-1); window 812 samples,"
                        + " disagreement 0.0012, upper bound 0.0041; spam: 120 samples, recall loss 0.0,"
                        + " upper bound 0.02\n");
        assertThat(text).contains("Model m3\n  setting:    model card's recommended setting\n"
                + "  source:     model-card (override cleared at 2026-03-01T12:00:00.250Z)\n");
        assertThat(text).contains("Model m4\n  setting:    model card's recommended setting\n"
                + "  source:     model-card\n");
        assertThat(text).doesNotContain("Model m1\n  setting:    ENTROPY S=0.25 nats, per label {spam=0.7}\n"
                + "  source:     control-topic\n  set by:     alice\n  set at:     2026-03-01T12:00:00.250Z\n"
                + "  reason:     fewer layers at peak\n  budget");
    }

    @Test
    void textOfABudgetWithoutTelemetrySaysSo() {
        String text = ControlStatusReport.text(List.of(new ControlStatusReport.ModelStatus("m2", budget(), AT, null)));

        assertThat(text).contains("  controller: no decision in the telemetry topic yet\n");
    }

    @Test
    void textOfPatienceGivesTheLayers() {
        ThresholdControl patience = ControlMessages.fixedSetting("m", ExitPolicy.PATIENCE, 3, null, null, "a", "r",
                Instant.ofEpochMilli(AT));

        assertThat(ControlStatusReport.text(List.of(new ControlStatusReport.ModelStatus("m", patience, AT, null))))
                .contains("setting:    PATIENCE t=3.0 layers\n");
    }

    @Test
    void jsonCarriesTheSameFieldsWithTheSchemasNames() throws Exception {
        JsonNode root = JSON.readTree(ControlStatusReport.json(models()));

        JsonNode m1 = root.get("models").get(0);
        assertThat(m1.get("model").asText()).isEqualTo("m1");
        assertThat(m1.get("source").asText()).isEqualTo("control-topic");
        assertThat(m1.get("setting").get("policy").asText()).isEqualTo("ENTROPY");
        assertThat(m1.get("setting").get("threshold").asDouble()).isEqualTo(0.25);
        assertThat(m1.get("setting").get("label_thresholds").get("spam").asDouble()).isEqualTo(0.7);
        assertThat(m1.get("setting").get("layer_thresholds").isNull()).isTrue();
        assertThat(m1.get("set_by").asText()).isEqualTo("alice");
        assertThat(m1.get("set_at").asText()).isEqualTo("2026-03-01T12:00:00.250Z");
        assertThat(m1.get("reason").asText()).isEqualTo("fewer layers at peak");
        assertThat(m1.get("budget").isNull()).isTrue();

        JsonNode m2 = root.get("models").get(1);
        assertThat(m2.get("budget").get("max_disagreement").asDouble()).isEqualTo(0.005);
        assertThat(m2.get("budget").get("window_events").asInt()).isEqualTo(1000);
        assertThat(m2.get("budget").get("protected_label").asText()).isEqualTo("spam");
        assertThat(m2.get("controller").get("window_samples").asInt()).isEqualTo(812);
        assertThat(m2.get("controller").get("disagreement").asDouble()).isEqualTo(0.0012);
        assertThat(m2.get("controller").get("disagreement_upper_bound").asDouble()).isEqualTo(0.0041);
        assertThat(m2.get("controller").get("chosen_threshold").asDouble()).isEqualTo(0.3);
        assertThat(m2.get("controller").get("at").asText()).isEqualTo("2026-03-01T12:05:00Z");

        JsonNode m3 = root.get("models").get(2);
        assertThat(m3.get("source").asText()).isEqualTo("model-card");
        assertThat(m3.get("setting").isNull()).isTrue();
        assertThat(m3.get("set_at").asText()).isEqualTo("2026-03-01T12:00:00.250Z");
        assertThat(root.get("models").get(3).get("set_at").isNull()).isTrue();
    }

    @Test
    void messageJsonGivesTheKeyAndEveryFieldOrNullForATombstone() throws Exception {
        JsonNode message = JSON.readTree(ControlStatusReport.messageJson("m2", budget()));
        JsonNode tombstone = JSON.readTree(ControlStatusReport.messageJson("m1", null));

        assertThat(message.get("key").asText()).isEqualTo("m2");
        assertThat(message.get("value").get("policy").asText()).isEqualTo("DIVERGENCE");
        assertThat(message.get("value").get("threshold").asDouble()).isEqualTo(0.1);
        assertThat(message.get("value").get("budget").get("max_threshold").asDouble()).isEqualTo(0.8);
        assertThat(message.get("value").get("changed_by").asText()).isEqualTo("bob");
        assertThat(message.get("value").get("changed_at").asText()).isEqualTo("2026-03-01T12:00:00.250Z");
        assertThat(tombstone.get("key").asText()).isEqualTo("m1");
        assertThat(tombstone.has("value")).isTrue();
        assertThat(tombstone.get("value").isNull()).isTrue();
    }
}
