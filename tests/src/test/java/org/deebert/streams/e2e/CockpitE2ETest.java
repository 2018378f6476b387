package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.deebert.streams.classifier.ClassifierOptions;
import org.deebert.streams.classifier.EarlyExitClassifier;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.ClassifierPool;
import org.deebert.streams.topology.TopologySettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard and the alert rules of {@code deploy/observability/} against a real Prometheus (Debian's
 * {@code prometheus} binary, on loopback) scraping the running service every second while it classifies real
 * emails on the real broker and registry: every dashboard query parses and returns data, the rates show the
 * traffic, every alert rule evaluates without error, and on this healthy service only the dead-letter alert
 * goes off (one record was dead-lettered). Skipped where no {@code prometheus} binary is installed
 * ({@code deploy/run-tests.sh} installs it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class CockpitE2ETest {

    private static final Duration WAIT = Duration.ofSeconds(180);
    /** Grafana's $__rate_interval, as Grafana would pick it for a 1 s scrape interval on a short range. */
    private static final String RATE_INTERVAL = "30s";

    @TempDir
    Path tempDir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private ReferenceEmails references;
    private ClassifierPool pool;

    @BeforeAll
    void loadModel() {
        references = ReferenceEmails.load();
        pool = new ClassifierPool(() -> EarlyExitClassifier.load(references.modelDir(),
                new ClassifierOptions(ClassifierOptions.DevicePreference.CPU, TopologySettings.DEFAULTS.maxBatchSize())));
    }

    @AfterAll
    void closeModel() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void everyDashboardQueryReturnsDataAndOnlyTheDeadLetterAlertGoesOffOnAHealthyService() throws Exception {
        Path prometheusBinary = onPath("prometheus");
        assumeTrue(prometheusBinary != null, "no prometheus binary (Debian package prometheus; deploy/run-tests.sh installs it)");
        Path observability = SharedInfrastructure.repoRoot().resolve("deploy/observability");
        List<Email> emails = references.spread(30);
        try (RunningClassifier app = RunningClassifier.start("cockpit", pool, tempDir.resolve("state"))) {
            int port = freePort();
            String target = URI.create(app.httpBase()).getAuthority();
            Path config = tempDir.resolve("prometheus.yml");
            Files.copy(observability.resolve("alerts.yml"), tempDir.resolve("alerts.yml"));
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - alerts.yml
                    scrape_configs:
                      - job_name: deebert-streams
                        static_configs:
                          - targets: ["%s"]
                    """.formatted(target));
            Process prometheus = new ProcessBuilder(prometheusBinary.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + tempDir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(tempDir.resolve("prometheus.log").toFile()).start();
            String api = "http://127.0.0.1:" + port + "/api/v1/";
            try {
                await(() -> query(api, "up{job=\"deebert-streams\"} == 1").size() == 1, "Prometheus scrapes the service");

                // Traffic after the first scrapes, so that the rates over the window see it.
                Map<String, TextEvent> events = new LinkedHashMap<>();
                for (Email e : emails) {
                    events.put("cockpit/" + e.id(), RunningClassifier.event("cockpit/" + e.id(), e.text()));
                }
                app.produce(events.values());
                app.produceRaw("cockpit-bad/not-wire-format", "plain bytes".getBytes(StandardCharsets.UTF_8));
                app.output().awaitKeys(events.keySet(), WAIT);
                app.deadLetters().awaitKeys(Set.of("cockpit-bad/not-wire-format"), WAIT);
                await(() -> scalar(query(api, "sum(deebert_events_classified_total)")) == emails.size(),
                        "Prometheus sees every classified event");

                // Every dashboard query parses and returns at least one series from the live service. Some series
                // appear only later: GC pauses after the first collection (so one is asked for; the service runs in
                // this JVM), Kafka's consumer metrics at the binder's next refresh (every 10 s). So the queries are
                // asked again, within a bound, until each has data; the last answers are what is checked.
                System.gc();
                JsonNode dashboard = json.readTree(observability.resolve("grafana/deebert.json").toFile());
                Map<String, Integer> seriesPerQuery = new TreeMap<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                do {
                    seriesPerQuery.clear();
                    for (JsonNode panel : dashboard.get("panels")) {
                        for (JsonNode t : panel.get("targets")) {
                            String expr = t.get("expr").asText().replace("$__rate_interval", RATE_INTERVAL);
                            seriesPerQuery.put(panel.get("title").asText() + ": " + expr, query(api, expr).size());
                        }
                    }
                    if (seriesPerQuery.values().stream().allMatch(n -> n > 0)) {
                        break;
                    }
                    Thread.sleep(1000);
                } while (System.nanoTime() < deadline);
                assertThat(seriesPerQuery).allSatisfy((q, n) -> assertThat(n).as(q).isPositive());
                assertThat(scalar(query(api, "sum(rate(deebert_events_classified_total[" + RATE_INTERVAL + "]))")))
                        .isPositive();
                double saving = scalar(query(api, panelQuery(dashboard, "Expected saving (paper eq. 2)")));
                assertThat(saving).isBetween(0.0, 1.0);
                // The Kafka consumer series the lag panel and two alerts rely on exist under these names.
                assertThat(query(api, "kafka_consumer_fetch_manager_records_lag{client_id=~\".*-StreamThread-[0-9]+-consumer\"}"))
                        .isNotEmpty();
                assertThat(scalar(query(api, "sum(kafka_consumer_fetch_manager_records_consumed_total"
                        + "{client_id=~\".*-StreamThread-[0-9]+-consumer\"})"))).isGreaterThanOrEqualTo(emails.size());

                // Every alert rule evaluates without error; the dead letter sets off its alert, nothing else.
                await(() -> activeAlerts(api).contains("DeebertDeadLettersRising"), "the dead-letter alert");
                JsonNode groups = get(api + "rules").get("data").get("groups");
                List<String> rules = new ArrayList<>();
                for (JsonNode group : groups) {
                    for (JsonNode rule : group.get("rules")) {
                        assertThat(rule.get("health").asText()).as(rule.get("name").asText() + ": "
                                + rule.path("lastError").asText()).isEqualTo("ok");
                        rules.add(rule.get("name").asText());
                    }
                }
                assertThat(rules).hasSize(9);
                assertThat(activeAlerts(api)).containsExactly("DeebertDeadLettersRising");
            } finally {
                prometheus.destroy();
                if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly();
                }
            }
        }
    }

    private static String panelQuery(JsonNode dashboard, String title) {
        for (JsonNode panel : dashboard.get("panels")) {
            if (panel.get("title").asText().equals(title)) {
                return panel.get("targets").get(0).get("expr").asText().replace("$__rate_interval", RATE_INTERVAL);
            }
        }
        return fail("no panel " + title);
    }

    /** @return the names of the alerts pending or firing */
    private List<String> activeAlerts(String api) throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        for (JsonNode alert : get(api + "alerts").get("data").get("alerts")) {
            names.add(alert.get("labels").get("alertname").asText());
        }
        return names.stream().distinct().sorted().toList();
    }

    /** @return the instant vector {@code expr} evaluates to; fails on a query error (e.g. a parse error) */
    private JsonNode query(String api, String expr) throws IOException, InterruptedException {
        JsonNode body = get(api + "query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        assertThat(body.get("status").asText()).as(expr + ": " + body.path("error").asText()).isEqualTo("success");
        return body.get("data").get("result");
    }

    private static double scalar(JsonNode vector) {
        return vector.isEmpty() ? Double.NaN : Double.parseDouble(vector.get(0).get("value").get(1).asText());
    }

    private JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        return json.readTree(response.body());
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (check.holds()) {
                    return;
                }
            } catch (IOException e) {
                // Prometheus not listening yet.
            }
            Thread.sleep(500);
        }
        fail("not within " + WAIT.toSeconds() + " s: " + what);
    }

    private static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
