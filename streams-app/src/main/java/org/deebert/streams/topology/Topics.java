package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.apache.kafka.common.serialization.Serdes;
import org.deebert.streams.input.InputDecoders;
import org.deebert.streams.input.InputSettings;
import org.deebert.streams.registry.SchemaRegistryClient;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ShadowSample;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.schema.ThresholdControl;

/**
 * Every topic the service uses with its serdes, in one immutable object. Values of the input, output, control
 * and telemetry topics use the Confluent wire format through the Schema Registry (subjects {@code <topic>-value}
 * by default, see {@link SerializerSettings});
 * the internal shadow-sample topic stays out of the registry ({@link ShadowSampleSerde}). Keys of the input, output and
 * dead-letter topics are raw bytes ({@link Serdes#ByteArray()}): an output or dead-letter record carries its
 * input's key byte for byte, whatever its encoding (producers usually write the event id as UTF-8, and a
 * {@code StringSerializer}/{@code StringDeserializer} on the client side is then fine). Decoding keys as strings
 * would turn bytes that are not valid UTF-8 into replacement characters, i.e. a different key and partition.
 *
 * <ul>
 *   <li>{@link #input()}: a {@link TextEvent} to classify, or a value of another input format decoded to one
 *       ({@code input.format}, see {@code input.InputFormat}); key = usually the event id as UTF-8, or null.</li>
 *   <li>{@link #output()}: the {@link ClassifiedEvent} of one input record, with the input's key bytes,
 *       timestamp and forwarded headers ({@link HeaderForwarding}).</li>
 *   <li>{@link #control()}: compacted; key = model name, value = the {@link ThresholdControl} in force for
 *       that model; a tombstone restores the model card's recommended threshold.</li>
 *   <li>{@link #deadLetter()}: an input record that could not be classified, with its original key and value
 *       bytes, its headers (except reserved ones, see {@link HeaderForwarding#isReserved}), Kafka Streams'
 *       {@code __streams.errors.*} headers and a {@value DeadLetterCode#HEADER} header.</li>
 *   <li>{@link #telemetry()}: one {@link ExitTelemetry} per instance per interval, key = the instance id
 *       (written by {@code observability.ExitTelemetryPublisher}, outside the Streams transaction).</li>
 *   <li>{@link #shadowSamples()}: internal, one partition; key = model name, value = a {@link ShadowSample} that
 *       the classify processor sends to the budget controller ({@link BudgetControllerProcessor}).</li>
 * </ul>
 *
 * @param input         the input topic
 * @param output        the output topic
 * @param control       the compacted control topic
 * @param deadLetter    the dead-letter topic (raw bytes)
 * @param telemetry     the exit-telemetry topic
 * @param shadowSamples the internal shadow-sample topic
 */
public record Topics(
        Topic<byte[], TextEvent> input,
        Topic<byte[], ClassifiedEvent> output,
        Topic<String, ThresholdControl> control,
        Topic<byte[], byte[]> deadLetter,
        Topic<String, ExitTelemetry> telemetry,
        Topic<String, ShadowSample> shadowSamples) {

    /**
     * Builds the topics with registry-backed value serdes that share one registry client (it caches ids).
     *
     * @param names    topic names
     * @param registry the Schema Registry client
     * @return the topics
     */
    public static Topics create(TopicNames names, SchemaRegistryClient registry) {
        return create(names, registry, InputSettings.TEXT_EVENT, SerializerSettings.DEFAULT);
    }

    /**
     * As {@link #create(TopicNames, SchemaRegistryClient, InputSettings, SerializerSettings)} with
     * {@code text-event} input.
     *
     * @param names       topic names
     * @param registry    the Schema Registry client
     * @param serializers registration, latest-version and subject-name settings of the service's serializers
     * @return the topics
     */
    public static Topics create(TopicNames names, SchemaRegistryClient registry, SerializerSettings serializers) {
        return create(names, registry, InputSettings.TEXT_EVENT, serializers);
    }

    /**
     * As {@link #create(TopicNames, SchemaRegistryClient, InputSettings, SerializerSettings)} with the default
     * serializer settings.
     *
     * @param names    topic names
     * @param registry the Schema Registry client
     * @param input    the input format and field mapping
     * @return the topics
     */
    public static Topics create(TopicNames names, SchemaRegistryClient registry, InputSettings input) {
        return create(names, registry, input, SerializerSettings.DEFAULT);
    }

    /**
     * Builds the topics. The input topic's values of any format ({@code input.format}) are decoded to
     * {@link TextEvent}s by {@link InputDecoders#serde} (for formats other than {@code text-event} the serde's
     * serializer refuses: only the topic's own producers write it). The serializers of the topics the service
     * writes (output, control, telemetry) find schema ids as {@code serializers} says.
     *
     * @param names       topic names
     * @param registry    the Schema Registry client
     * @param input       the input format and field mapping
     * @param serializers registration, latest-version and subject-name settings of the service's serializers
     * @return the topics
     */
    public static Topics create(TopicNames names, SchemaRegistryClient registry, InputSettings input,
                                SerializerSettings serializers) {
        return new Topics(
                new Topic<>(names.input(), Serdes.ByteArray(), InputDecoders.serde(input, registry)),
                new Topic<>(names.output(), Serdes.ByteArray(),
                        new SpecificAvroSerde<>(ClassifiedEvent.class, registry, false, serializers)),
                new Topic<>(names.control(), Serdes.String(),
                        new SpecificAvroSerde<>(ThresholdControl.class, registry, false, serializers)),
                new Topic<>(names.deadLetter(), Serdes.ByteArray(), Serdes.ByteArray()),
                new Topic<>(names.telemetry(), Serdes.String(),
                        new SpecificAvroSerde<>(ExitTelemetry.class, registry, false, serializers)),
                new Topic<>(names.shadowSamples(), Serdes.String(), new ShadowSampleSerde()));
    }

    /** @return the six topic names */
    public TopicNames names() {
        return new TopicNames(input.name(), output.name(), control.name(), deadLetter.name(), telemetry.name(),
                shadowSamples.name());
    }
}
