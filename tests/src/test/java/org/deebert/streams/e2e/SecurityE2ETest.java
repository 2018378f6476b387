package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.deebert.streams.app.Cli;
import org.deebert.streams.e2e.support.CommittedTopicReader;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceProcess;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.e2e.support.ThrowawayTls;
import org.deebert.streams.embedded.EmbeddedKafkaBroker.SaslSsl;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.control.ExitSettingInForce;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The service on a secured broker: TLS and SASL/SCRAM-SHA-512 on a loopback listener, ACLs enforced by
 * KRaft's StandardAuthorizer. The service runs as principal {@code deebert-service} with only the ACLs
 * docs/security.md lists; {@code operator-ro} (no WRITE on the control topic) cannot
 * change S, {@code operator} can. The Schema Registry stays plain HTTP on loopback (the shared test
 * registry): registry security is the registry's own deployment concern.
 */
@Timeout(900)
class SecurityE2ETest {

    private static final String ADMIN = "admin";
    private static final String SERVICE = "deebert-service";
    private static final String OPERATOR = "operator";
    private static final String OPERATOR_RO = "operator-ro";
    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(300);
    private static final Duration ACL_TIMEOUT = Duration.ofSeconds(30);
    private static final int BATCH = 6;

    @TempDir
    Path tempDir;

    @Test
    void theServiceRunsOnSaslSslWithItsAclsAndOnlyAnOperatorWithWriteOnTheControlTopicChangesS() throws Exception {
        ThrowawayTls tls = ThrowawayTls.generate(Files.createDirectories(tempDir.resolve("tls")));
        Map<String, String> passwords = Map.of(SERVICE, "service-secret-1", OPERATOR, "operator-secret-2",
                OPERATOR_RO, "readonly-secret-3");
        SaslSsl security = new SaslSsl(tls.keyStore(), tls.trustStore(), tls.password(), ADMIN, "admin-secret-0", passwords);
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(6 * BATCH);

        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(Map.of(), security).start();
             ServiceTopics topics = new ServiceTopics("secure", broker, SharedInfrastructure.registry(), 2,
                     security.clientSettings(ADMIN, "admin-secret-0"))) {
            grantServiceAcls(broker.admin(), topics);
            Map<String, String> settings = new LinkedHashMap<>(
                    topics.serviceSettings(Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            settings.putAll(security.clientSettings(SERVICE, passwords.get(SERVICE)));

            try (ServiceProcess service = ServiceProcess.start("secure-service", settings, tempDir, "768m")) {
                // Given: the service, logged in as deebert-service over SASL_SSL, classifies events.
                Map<String, TextEvent> batch1 = RunningClassifier.events("b1/", emails.subList(0, BATCH));
                topics.produce(List.copyOf(batch1.values()));
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out1 = awaitOutputs(topics, batch1.keySet(), service);
                ClassifiedEvent sample = topics.decode(out1.get(batch1.keySet().iterator().next()).get(0).value());
                assertThat(sample.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                double modelCardS = sample.getThreshold();
                String modelName = sample.getModelName();

                // When: operator-ro (READ but no WRITE on the control topic) tries to set S.
                StringWriter roErr = new StringWriter();
                int ro = cli(roErr, "control", "set-threshold", "--config",
                        cliConfig(broker, topics, security.clientSettings(OPERATOR_RO, passwords.get(OPERATOR_RO))).toString(),
                        "--model", modelName, "--value", "0.3", "--reason", "e2e: must be refused", "--by", OPERATOR_RO);

                // Then: an authorization failure, nothing on the control topic, and S unchanged in new outputs.
                assertThat(ro).as("exit code of operator-ro's set-threshold; stderr: %s", roErr).isNotZero();
                assertThat(roErr.toString()).contains("TopicAuthorizationException");
                Map<String, TextEvent> batch2 = RunningClassifier.events("b2/", emails.subList(BATCH, 2 * BATCH));
                topics.produce(List.copyOf(batch2.values()));
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out2 = awaitOutputs(topics, batch2.keySet(), service);
                for (String key : batch2.keySet()) {
                    ClassifiedEvent result = topics.decode(out2.get(key).get(0).value());
                    assertThat(result.getThreshold()).as("S of %s after the refused change", key).isEqualTo(modelCardS);
                    assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.MODEL_CARD);
                }
                assertThat(controlRecords(broker, topics)).as("control topic after the refused change").isEmpty();

                // When: operator (WRITE on the control topic) sets S = 0.
                StringWriter opErr = new StringWriter();
                int op = cli(opErr, "control", "set-threshold", "--config",
                        cliConfig(broker, topics, security.clientSettings(OPERATOR, passwords.get(OPERATOR))).toString(),
                        "--model", modelName, "--value", "0", "--reason", "e2e: allowed", "--by", OPERATOR);
                assertThat(op).as("exit code of operator's set-threshold; stderr: %s", opErr).isZero();

                // Then: S = 0 shows up in subsequent outputs. The global thread applies the change
                // asynchronously, so small batches follow until one carries it (bounded).
                assertThat(awaitThresholdInOutputs(topics, emails.subList(2 * BATCH, emails.size()), 0.0, service))
                        .as("an output record carrying S=0 from the control topic").isTrue();
                assertThat(topics.deadLetters().readAvailable()).as("dead letters").isEmpty();
                assertThat(service.isAlive()).as("%s still runs", service.describe()).isTrue();
                service.terminate();
            }
        }
    }

    /**
     * The ACLs docs/security.md lists for the service's principal. The application id is
     * not a prefix of the test's topic names, so the prefixed ACLs cover only internal topics.
     */
    private static void grantServiceAcls(Admin admin, ServiceTopics topics) throws Exception {
        String app = topics.applicationId();
        List<AclBinding> acls = new ArrayList<>();
        acls.add(allow(SERVICE, ResourceType.TOPIC, topics.names().input(), PatternType.LITERAL, AclOperation.READ));
        acls.add(allow(SERVICE, ResourceType.TOPIC, topics.names().control(), PatternType.LITERAL, AclOperation.READ));
        acls.add(allow(SERVICE, ResourceType.TOPIC, topics.names().output(), PatternType.LITERAL, AclOperation.WRITE));
        acls.add(allow(SERVICE, ResourceType.TOPIC, topics.names().deadLetter(), PatternType.LITERAL, AclOperation.WRITE));
        acls.add(allow(SERVICE, ResourceType.TOPIC, topics.telemetryTopic(), PatternType.LITERAL, AclOperation.WRITE));
        // Internal topics (the batch buffer's changelog): created, described, written and restored by Streams.
        for (AclOperation op : List.of(AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                AclOperation.READ, AclOperation.WRITE)) {
            acls.add(allow(SERVICE, ResourceType.TOPIC, app, PatternType.PREFIXED, op));
        }
        acls.add(allow(SERVICE, ResourceType.GROUP, app, PatternType.LITERAL, AclOperation.READ));
        // exactly_once_v2: one transactional id per stream thread, "<application.id>-<process id>-<n>".
        acls.add(allow(SERVICE, ResourceType.TRANSACTIONAL_ID, app, PatternType.PREFIXED, AclOperation.WRITE));

        acls.add(allow(OPERATOR, ResourceType.TOPIC, topics.names().control(), PatternType.LITERAL, AclOperation.WRITE));
        acls.add(allow(OPERATOR_RO, ResourceType.TOPIC, topics.names().control(), PatternType.LITERAL, AclOperation.READ));
        // The CLI's producer is idempotent; with IDEMPOTENT_WRITE on the cluster operator-ro gets as far as
        // the produce request, so the refusal below is the missing WRITE on the control topic itself.
        acls.add(allow(OPERATOR_RO, ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE));

        admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        // The controller has accepted them; wait until the broker's authorizer serves them too.
        long deadline = System.nanoTime() + ACL_TIMEOUT.toNanos();
        int visible = 0;
        while (System.nanoTime() < deadline) {
            visible = admin.describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS).size();
            if (visible >= acls.size()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("only " + visible + " of " + acls.size() + " ACLs visible after " + ACL_TIMEOUT.toSeconds() + " s");
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
    }

    /** Produces small batches until an output carries {@code s} from the control topic; false if none within the bound. */
    private static boolean awaitThresholdInOutputs(ServiceTopics topics, List<Email> emails, double s, ServiceProcess service) {
        for (int from = 0; from + BATCH <= emails.size(); from += BATCH) {
            Map<String, TextEvent> batch = RunningClassifier.events("b" + (3 + from / BATCH) + "/", emails.subList(from, from + BATCH));
            topics.produce(List.copyOf(batch.values()));
            Map<String, List<ConsumerRecord<byte[], byte[]>>> out = awaitOutputs(topics, batch.keySet(), service);
            boolean found = false;
            for (String key : batch.keySet()) {
                ClassifiedEvent result = topics.decode(out.get(key).get(0).value());
                if (result.getThreshold() == s) {
                    assertThat(result.getThresholdSource()).isEqualTo(ExitSettingInForce.CONTROL_TOPIC);
                    found = true;
                }
            }
            if (found) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, List<ConsumerRecord<byte[], byte[]>>> awaitOutputs(ServiceTopics topics, Set<String> keys,
            ServiceProcess service) {
        assertThat(service.isAlive()).as("%s is alive", service.describe()).isTrue();
        Map<String, List<ConsumerRecord<byte[], byte[]>>> out = topics.output().awaitKeys(keys, OUTPUT_TIMEOUT);
        for (String key : keys) {
            assertThat(out.get(key)).as("committed outputs for %s", key).hasSize(1);
        }
        return out;
    }

    /** Every record on the control topic, read by the super user. */
    private static Map<String, List<ConsumerRecord<byte[], byte[]>>> controlRecords(EmbeddedKafkaBroker broker,
            ServiceTopics topics) {
        try (CommittedTopicReader reader = new CommittedTopicReader(broker.bootstrapServers(),
                topics.names().control(), topics.clientSettings())) {
            return reader.readAvailable();
        }
    }

    private Path cliConfig(EmbeddedKafkaBroker broker, ServiceTopics topics, Map<String, String> login) throws IOException {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", broker.bootstrapServers());
        p.setProperty("schema.registry.url", SharedInfrastructure.registry().url());
        p.setProperty("topic.control", topics.names().control());
        p.putAll(login);
        String user = login.get("sasl.jaas.config").replaceAll(".*username=\"([^\"]+)\".*", "$1");
        Path file = tempDir.resolve(user + "-cli.properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            p.store(out, "e2e CLI settings of " + user);
        }
        return file;
    }

    /** Runs the CLI in this JVM, as an operator would run it; its error output goes to {@code err}. */
    private static int cli(StringWriter err, String... args) {
        CommandLine cli = Cli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

}
