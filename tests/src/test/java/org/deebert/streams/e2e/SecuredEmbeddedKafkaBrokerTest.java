package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.e2e.support.ThrowawayTls;
import org.deebert.streams.embedded.EmbeddedKafkaBroker.SaslSsl;
import org.deebert.streams.embedded.EmbeddedKafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker's SASL_SSL option: SCRAM users bootstrapped at format time log in over TLS
 * (hostname verification on), ACLs decide what they may do, and a wrong password is refused.
 */
@Timeout(180)
class SecuredEmbeddedKafkaBrokerTest {

    @TempDir
    Path tempDir;

    @Test
    void scramUsersLogInOverTlsAndAclsDecideWhatTheyMayWrite() throws Exception {
        ThrowawayTls tls = ThrowawayTls.generate(tempDir);
        SaslSsl security = new SaslSsl(tls.keyStore(), tls.trustStore(), tls.password(), "admin", "admin-pw",
                Map.of("writer", "writer-pw", "reader", "reader-pw"));
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(Map.of(), security).start()) {
            assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
            broker.createTopic("secured", 1, false);
            broker.admin().createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "secured", PatternType.LITERAL),
                    new AccessControlEntry("User:writer", "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                    .all().get(30, TimeUnit.SECONDS);
            awaitAcls(broker, 1);

            // writer has WRITE: its record is acknowledged.
            try (KafkaProducer<String, String> writer = producer(broker, security.clientSettings("writer", "writer-pw"))) {
                assertThat(writer.send(new ProducerRecord<>("secured", "k", "v")).get(30, TimeUnit.SECONDS).offset()).isZero();
            }
            // reader has no ACL on the topic: refused by the authorizer.
            try (KafkaProducer<String, String> reader = producer(broker, security.clientSettings("reader", "reader-pw"))) {
                assertThatThrownBy(() -> reader.send(new ProducerRecord<>("secured", "k", "v")).get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(TopicAuthorizationException.class);
            }
            // A wrong password fails authentication.
            try (KafkaProducer<String, String> intruder = producer(broker, security.clientSettings("writer", "wrong"))) {
                assertThatThrownBy(() -> intruder.send(new ProducerRecord<>("secured", "k", "v")).get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(SaslAuthenticationException.class);
            }
        }
    }

    private static void awaitAcls(EmbeddedKafkaBroker broker, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (broker.admin().describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS).size() < count) {
            assertThat(System.nanoTime()).as("ACLs visible within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafkaBroker broker, Map<String, String> login) {
        Map<String, Object> p = new HashMap<>(login);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        // Without idempotence the producer needs no cluster-level ACL (IDEMPOTENT_WRITE) for a plain write.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }
}
