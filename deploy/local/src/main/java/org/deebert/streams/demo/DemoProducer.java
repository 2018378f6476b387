package org.deebert.streams.demo;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.Topics;

/**
 * The demo's upstream system, on its own thread: writes one deliberately malformed record (bytes that are
 * not in the Confluent wire format, so the service dead-letters it), then the first half of the texts as
 * {@link TextEvent}s through the registry serde, waits until the demo has switched the threshold, then
 * writes the second half. Key = event id, {@code event_time} = now.
 */
final class DemoProducer implements Runnable {

    /** Key of the malformed record. */
    static final String MALFORMED_KEY = "deebert-demo/malformed-1";
    /** {@code TextEvent.source} of every event the demo writes. */
    static final String SOURCE = "deebert-demo";

    private final Properties clientProperties;
    private final Topics topics;
    private final List<DemoEvents.LabelledText> texts;
    private final int firstHalf;
    private final double rate;
    private final CountDownLatch switched;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long firstSendNanos;

    /**
     * @param clientProperties bootstrap servers and security settings
     * @param topics           topics with the demo's own registry-backed serdes
     * @param texts            the labelled texts, in order
     * @param firstHalf        how many texts to write before waiting for {@code switched}
     * @param rate             events/s to write at; 0 = as fast as the producer goes
     * @param switched         opened by the demo once the threshold change has been sent
     */
    DemoProducer(Properties clientProperties, Topics topics, List<DemoEvents.LabelledText> texts, int firstHalf,
                 double rate, CountDownLatch switched) {
        this.clientProperties = clientProperties;
        this.topics = topics;
        this.texts = texts;
        this.firstHalf = firstHalf;
        this.rate = rate;
        this.switched = switched;
    }

    @Override
    public void run() {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<String, TextEvent> events = new KafkaProducer<>(props, new StringSerializer(),
                topics.input().valueSerde().serializer());
             KafkaProducer<String, byte[]> raw = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            firstSendNanos = System.nanoTime();
            raw.send(new ProducerRecord<>(topics.input().name(), MALFORMED_KEY,
                    "not Confluent wire format".getBytes(StandardCharsets.UTF_8))).get();
            send(events, 0, firstHalf);
            // Wait for the switch instead of racing it, so "before" and "after" each hold about half the events.
            while (!switched.await(1, TimeUnit.SECONDS)) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
            send(events, firstHalf, texts.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failure.set(e);
        }
    }

    private void send(KafkaProducer<String, TextEvent> producer, int from, int to) throws Exception {
        long start = System.nanoTime();
        for (int i = from; i < to; i++) {
            if (rate > 0) {
                long due = start + (long) ((i - from) * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
            DemoEvents.LabelledText t = texts.get(i);
            TextEvent event = TextEvent.newBuilder().setId(t.id()).setText(t.text()).setEventTime(Instant.now())
                    .setSource(SOURCE).build();
            producer.send(new ProducerRecord<>(topics.input().name(), t.id(), event), (metadata, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
            });
            if (failure.get() != null) {
                break;
            }
        }
        producer.flush();
        if (failure.get() != null) {
            throw new IllegalStateException("cannot write to " + topics.input().name() + ": " + failure.get().getMessage(),
                    failure.get());
        }
    }

    /** @return the first failure while writing, or null */
    Throwable failure() {
        return failure.get();
    }

    /** @return {@link System#nanoTime()} of the first record sent, or 0 before */
    long firstSendNanos() {
        return firstSendNanos;
    }
}
