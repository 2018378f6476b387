package org.deebert.streams.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.deebert.streams.app.AppSettings;
import org.deebert.streams.app.StreamsService;
import org.deebert.streams.e2e.support.ReferenceEmails.Email;
import org.deebert.streams.e2e.support.ReferenceEmails;
import org.deebert.streams.e2e.support.RunningClassifier;
import org.deebert.streams.e2e.support.ServiceTopics;
import org.deebert.streams.e2e.support.SharedInfrastructure;
import org.deebert.streams.embedded.SchemaRegistryServer;
import org.deebert.streams.observability.HealthState;
import org.deebert.streams.registry.ConfluentSchemaRegistryClient;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Schema Registry that forgets its schemas and hands their ids out again (an in-memory registry restarted; a
 * registry restored from an old backup or migrated). A cache that outlived that would decode the producer's
 * re-registered {@code TextEvent} with the schema cached under the same id (the service's own
 * {@code ClassifiedEvent}) and dead-letter every good event as UNDECODABLE_AVRO while health says UP. This test
 * builds exactly that collision on a registry of its own, restarted empty.
 */
@Timeout(600)
class RegistryIdReuseE2ETest {

    private static final Duration OUTPUT_TIMEOUT = Duration.ofSeconds(180);

    @TempDir
    Path tempDir;

    @Test
    void aRegistryThatReassignsIdsDegradesTheServiceWhichRecoversWithoutDeadLetteringGoodEvents() throws Exception {
        ReferenceEmails references = ReferenceEmails.load();
        List<Email> emails = references.spread(8);
        Map<String, TextEvent> before = RunningClassifier.events("before/", emails.subList(0, 4));
        Map<String, TextEvent> after = RunningClassifier.events("after/", emails.subList(4, 8));

        try (SchemaRegistryServer registry = new SchemaRegistryServer(SharedInfrastructure.repoRoot()).start();
             ServiceTopics topics = new ServiceTopics("registry-reuse", SharedInfrastructure.broker(), registry, 1, Map.of())) {
            Map<String, String> settings = new LinkedHashMap<>(
                    topics.serviceSettings(Files.createDirectories(tempDir.resolve("state")), references.modelDir()));
            // No periodic check during the test: the decode failure must find the stale id by itself (a periodic
            // check between the restart and the re-registration below would re-register first and spoil the collision).
            settings.put("schema.registry.check.interval.ms", "3600000");
            settings.put("telemetry.interval.ms", "0");
            try (StreamsService service = StreamsService.create(AppSettings.withDefaults(settings), false)) {
                service.start();
                awaitRunning(service);

                // Given: events classified while the registry still knew the service's ids.
                topics.produce(List.copyOf(before.values()));
                Map<String, List<ConsumerRecord<byte[], byte[]>>> first = topics.output().awaitKeys(before.keySet(), OUTPUT_TIMEOUT);
                int classifiedEventId = ConfluentWireFormat.parse(first.get(before.keySet().iterator().next()).get(0).value())
                        .schemaId();

                // When: the registry restarts empty, other schemas are registered first, and the producer's TextEvent
                // lands on the id the service cached for its ClassifiedEvent.
                registry.restartEmpty();
                ConfluentSchemaRegistryClient fresh = new ConfluentSchemaRegistryClient(registry.url());
                // Ids restart at 1; the service's ClassifiedEvent may have had the very first one (it registers the
                // output subject first), so fill only the ids below it.
                int lastId = 0;
                for (int n = 0; lastId < classifiedEventId - 1; n++) {
                    Schema filler = SchemaBuilder.record("Filler" + n).namespace("test").fields().requiredInt("f" + n).endRecord();
                    lastId = fresh.register("filler-" + n + "-value", filler);
                }
                SpecificAvroSerde<TextEvent> producerSerde = new SpecificAvroSerde<>(TextEvent.class, fresh, false);
                Map<String, HealthState.Status> seen = new ConcurrentHashMap<>();
                AtomicBoolean watching = new AtomicBoolean(true);
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        HealthState.Report ready = service.health().ready();
                        seen.putIfAbsent(ready.status().name(), ready.status());
                        if (ready.status() == HealthState.Status.DEGRADED) {
                            seen.putIfAbsent("reason:" + ready.reason(), ready.status());
                        }
                        pause(50);
                    }
                }, "health-watcher");
                watcher.start();
                List<Integer> producerIds = new ArrayList<>();
                for (TextEvent e : after.values()) {
                    byte[] value = producerSerde.serializer().serialize(topics.names().input(), e);
                    producerIds.add(ConfluentWireFormat.parse(value).schemaId());
                    topics.produceRaw(e.getId(), value);
                }
                assertThat(producerIds).as("the collision this test is about").containsOnly(classifiedEventId);

                // Then: every good event is classified, none is dead-lettered, and the output written after the
                // incident carries an id that the new registry resolves to ClassifiedEvent (downstream can read it).
                Map<String, List<ConsumerRecord<byte[], byte[]>>> out = topics.output().awaitKeys(after.keySet(), OUTPUT_TIMEOUT);
                assertThat(topics.deadLetters().readAvailable()).as("dead letters").isEmpty();
                for (String key : after.keySet()) {
                    assertThat(out.get(key)).as("outputs for %s", key).hasSize(1);
                    int id = ConfluentWireFormat.parse(out.get(key).get(0).value()).schemaId();
                    assertThat(new ConfluentSchemaRegistryClient(registry.url()).getById(id).getFullName())
                            .as("the new registry's schema under output id %d", id)
                            .isEqualTo(ClassifiedEvent.getClassSchema().getFullName());
                }
                // And: it reported DEGRADED with the reason, counted it, and recovered without a restart.
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (service.health().ready().status() != HealthState.Status.UP && System.nanoTime() < deadline) {
                    pause(200);
                }
                watching.set(false);
                watcher.join();
                assertThat(seen.keySet()).as("health statuses seen").contains("DEGRADED")
                        .anyMatch(k -> k.startsWith("reason:") && k.contains("schema id " + classifiedEventId));
                assertThat(service.health().ready().status()).isEqualTo(HealthState.Status.UP);
                assertThat(service.metrics().scrape()).contains("deebert_schema_cache_invalidations_total 1.0");
            }
        }
    }

    private static void awaitRunning(StreamsService service) {
        long deadline = System.nanoTime() + RunningClassifier.STATE_TIMEOUT.toNanos();
        while (service.streams().state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            pause(50);
        }
        assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
