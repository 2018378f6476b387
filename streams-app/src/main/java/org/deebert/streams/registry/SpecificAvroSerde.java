package org.deebert.streams.registry;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka {@link Serde} for a generated Avro record class in the Confluent wire format (magic byte,
 * schema id, Avro body), backed by a {@link SchemaRegistryClient}. Failures are
 * {@link WireFormatException}s carrying a {@link WireFormatException.Reason}.
 *
 * <pre>{@code
 * var registry = new ConfluentSchemaRegistryClient("http://127.0.0.1:8081/apis/ccompat/v7");
 * Serde<TextEvent> values = new SpecificAvroSerde<>(TextEvent.class, registry, false);
 * }</pre>
 *
 * @param <T> the generated record class
 */
public final class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final SpecificAvroSerializer<T> serializer;
    private final SpecificAvroDeserializer<T> deserializer;

    /**
     * @param type     the generated record class
     * @param registry the registry client (shared between serdes: it caches ids and schemas)
     * @param isKey    true for a key serde (subject {@code <topic>-key}), false for values ({@code <topic>-value});
     *                 the serializer auto-registers ({@link SerializerSettings#DEFAULT})
     */
    public SpecificAvroSerde(Class<T> type, SchemaRegistryClient registry, boolean isKey) {
        this(type, registry, isKey, SerializerSettings.DEFAULT);
    }

    /**
     * @param type     the generated record class
     * @param registry the registry client (shared between serdes: it caches ids and schemas)
     * @param isKey    true for a key serde, false for values
     * @param settings how the serializer finds schema ids and subjects (registration, latest version, strategies);
     *                 the deserializer reads by id and needs none of it
     */
    public SpecificAvroSerde(Class<T> type, SchemaRegistryClient registry, boolean isKey, SerializerSettings settings) {
        this.serializer = new SpecificAvroSerializer<>(type, registry, isKey, settings);
        this.deserializer = new SpecificAvroDeserializer<>(type, registry);
    }

    /** Kafka's hook: only {@code isKey} matters (it selects the key or value subject). */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.configure(configs, isKey);
    }

    /** @return the serializer (finds the schema id once per topic) */
    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    /** @return the deserializer (fetches writer schemas by id, once per id) */
    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
