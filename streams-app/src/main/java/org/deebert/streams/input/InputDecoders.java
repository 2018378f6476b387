package org.deebert.streams.input;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.registry.GenericAvroDeserializer;
import org.deebert.streams.registry.SchemaRegistryClient;
import org.deebert.streams.registry.SpecificAvroDeserializer;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.TextEvent;

/** Builds the input topic's value serde for a format. */
public final class InputDecoders {

    private InputDecoders() {
    }

    /**
     * @param settings the input format and field mapping
     * @param registry where Avro writer schemas are looked up (text-event and avro)
     * @return the deserializer of input values: for {@code text-event} the TextEvent reader
     *     ({@link SpecificAvroDeserializer}), for the others one whose events may lack an id and event time
     *     until {@link RecordFallbacks#complete} fills them
     */
    public static Deserializer<TextEvent> deserializer(InputSettings settings, SchemaRegistryClient registry) {
        return switch (settings.format()) {
            case TEXT_EVENT -> new SpecificAvroDeserializer<>(TextEvent.class, registry);
            case AVRO -> new AvroInput(new GenericAvroDeserializer(registry), settings.mapping());
            case JSON -> new JsonInput(settings.mapping());
            case STRING -> new StringInput();
        };
    }

    /**
     * @param settings the input format and field mapping
     * @param registry the registry
     * @return for {@code text-event} the TextEvent serde (its serializer registers under {@code <topic>-value},
     *     as the demo and tests use it); for the others the {@link #deserializer} with a serializer that refuses:
     *     the service never writes the input topic, and the topic's own producers write those formats
     */
    public static Serde<TextEvent> serde(InputSettings settings, SchemaRegistryClient registry) {
        if (settings.format() == InputFormat.TEXT_EVENT) {
            return new SpecificAvroSerde<>(TextEvent.class, registry, false);
        }
        Serializer<TextEvent> refuse = (topic, event) -> {
            throw new UnsupportedOperationException("the input topic's values are " + settings.format().key()
                    + ", written by its own producers; this service only reads them");
        };
        return Serdes.serdeFrom(refuse, deserializer(settings, registry));
    }
}
