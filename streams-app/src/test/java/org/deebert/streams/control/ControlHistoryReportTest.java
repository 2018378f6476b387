package org.deebert.streams.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.BudgetControllerProcessor;
import org.junit.jupiter.api.Test;

class ControlHistoryReportTest {

    private static final long T0 = Instant.parse("2026-03-01T12:00:00.250Z").toEpochMilli();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ThresholdControl fixed(double s, String by, String why) {
        return ControlMessages.fixedSetting("m1", ExitPolicy.ENTROPY, s, null, null, by, why, Instant.ofEpochMilli(T0));
    }

    private static ThresholdControl budget(double s, String by, String why) {
        Budget b = new Budget(0.005, 0.02, 0.1, 0.8, 1000, 600_000, 0.95, null);
        return ControlMessages.budgetSetting("m2", ExitPolicy.ENTROPY, s, b, by, why, Instant.ofEpochMilli(T0));
    }

    /** Records as the topic holds them: two models interleaved on one partition, given out of order. */
    private static List<ControlHistory.Entry> records() {
        return List.of(
                ControlHistory.Entry.of("m1", 0, 3, T0 + 3000, null),
                ControlHistory.Entry.of("m1", 0, 0, T0, fixed(0.3, "alice", "peak traffic")),
                ControlHistory.Entry.of("m2", 0, 1, T0 + 1000, budget(0.1, "bob", "budget trial")),
                ControlHistory.Entry.of("m2", 0, 4, T0 + 4000,
                        budget(0.42, ControlMessages.CONTROLLER_AUTHOR, "disagreement 0.0015 <= 0.005")),
                ControlHistory.Entry.of("m1", 0, 2, T0 + 2000, ControlMessages.fixedSetting("m1", ExitPolicy.ENTROPY,
                        0.2, List.of(0.1, 0.2), null, "carol", "per layer", Instant.ofEpochMilli(T0))),
                ControlHistory.Entry.undecodable("m1", 0, 5, T0 + 5000));
    }

    @Test
    void theControllersAuthorIsTheOneTheBudgetControllerWrites() {
        assertThat(BudgetControllerProcessor.AUTHOR).isEqualTo(ControlMessages.CONTROLLER_AUTHOR);
    }

    @Test
    void textListsEachModelsRecordsOldestFirstWithWhatWhoAndWhy() {
        String text = ControlHistoryReport.text(ControlHistory.group(records(), null, null));

        assertThat(text).isEqualTo("""
                Model m1: 4 records, oldest first
                  2026-03-01T12:00:00.250Z  offset 0  ENTROPY S=0.3 nats
                      by alice (operator): peak traffic
                  2026-03-01T12:00:02.250Z  offset 2  ENTROPY S=0.2 nats, per layer [0.1, 0.2]
                      by carol (operator): per layer
                  2026-03-01T12:00:03.250Z  offset 3  cleared (tombstone): back to the model card's setting
                  undecodable record at partition 0 offset 5
                Model m2: 2 records, oldest first
                  2026-03-01T12:00:01.250Z  offset 1  ENTROPY S=0.1 nats
                      budget: at most 0.005 of answers differ from the full model; S in [0.1, 0.8] nats; sample rate 0.02; window 1000 samples / 600000 ms; confidence 0.95
                      by bob (operator): budget trial
                  2026-03-01T12:00:04.250Z  offset 4  ENTROPY S=0.42 nats
                      budget: at most 0.005 of answers differ from the full model; S in [0.1, 0.8] nats; sample rate 0.02; window 1000 samples / 600000 ms; confidence 0.95
                      by controller (accuracy-budget controller): disagreement 0.0015 <= 0.005
                """);
    }

    @Test
    void limitKeepsTheNewestRecordsPerModelAndSaysHowManyThereAre() {
        String text = ControlHistoryReport.text(ControlHistory.group(records(), "m1", 2));

        assertThat(text).isEqualTo("""
                Model m1: newest 2 of 4 records, oldest first
                  2026-03-01T12:00:03.250Z  offset 3  cleared (tombstone): back to the model card's setting
                  undecodable record at partition 0 offset 5
                """);
    }

    @Test
    void aModelWithoutRecordsAndAnEmptyTopicAreSaidSo() {
        assertThat(ControlHistoryReport.text(ControlHistory.group(records(), "never-set", null)))
                .isEqualTo("Model never-set: no records on the control topic (its model card's setting applies)\n");
        assertThat(ControlHistoryReport.text(ControlHistory.group(List.of(), null, null)))
                .startsWith("No records on the control topic");
    }

    @Test
    void jsonCarriesEveryRecordWithTheSchemasFieldNames() throws Exception {
        JsonNode models = JSON.readTree(ControlHistoryReport.json(ControlHistory.group(records(), null, null)))
                .get("models");

        assertThat(models).hasSize(2);
        JsonNode m1 = models.get(0);
        assertThat(m1.get("model").asText()).isEqualTo("m1");
        assertThat(m1.get("total").asInt()).isEqualTo(4);
        JsonNode r = m1.get("records");
        assertThat(r).hasSize(4);
        assertThat(r.findValuesAsText("kind")).containsExactly("set", "set", "cleared", "undecodable");
        assertThat(r.get(0).get("offset").asLong()).isZero();
        assertThat(r.get(0).get("partition").asInt()).isZero();
        assertThat(r.get(0).get("timestamp").asText()).isEqualTo("2026-03-01T12:00:00.250Z");
        assertThat(r.get(0).get("source").asText()).isEqualTo("operator");
        JsonNode v = r.get(0).get("value");
        assertThat(v.get("policy").asText()).isEqualTo("ENTROPY");
        assertThat(v.get("threshold").asDouble()).isEqualTo(0.3);
        assertThat(v.get("changed_by").asText()).isEqualTo("alice");
        assertThat(v.get("reason").asText()).isEqualTo("peak traffic");
        assertThat(v.get("changed_at").asText()).isEqualTo("2026-03-01T12:00:00.250Z");
        assertThat(v.get("budget").isNull()).isTrue();
        assertThat(r.get(1).get("value").get("layer_thresholds")).hasSize(2);
        assertThat(r.get(2).get("value").isNull()).isTrue();
        assertThat(r.get(2).get("source").isNull()).isTrue();
        assertThat(r.get(3).get("offset").asLong()).isEqualTo(5);
        assertThat(r.get(3).get("value").isNull()).isTrue();

        JsonNode m2 = models.get(1).get("records");
        assertThat(m2.get(1).get("source").asText()).isEqualTo("accuracy-budget controller");
        assertThat(m2.get(1).get("value").get("budget").get("max_disagreement").asDouble()).isEqualTo(0.005);
        assertThat(m2.get(1).get("value").get("threshold").asDouble()).isEqualTo(0.42);
    }

    @Test
    void aLimitBelowOneIsRefused() {
        assertThatThrownBy(() -> ControlHistory.group(records(), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--limit");
    }

    @Test
    void onlyTheControllersAuthorIsTheController() {
        assertThat(ControlHistory.source(fixed(0.1, "controller-ish", "r"))).isEqualTo(ControlHistory.OPERATOR);
        assertThat(ControlHistory.source(budget(0.1, "controller", "r"))).isEqualTo(ControlHistory.CONTROLLER);
    }
}
