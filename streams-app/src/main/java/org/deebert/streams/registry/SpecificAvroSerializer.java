package org.deebert.streams.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes a generated Avro record in the Confluent wire format. On first use per topic it registers the
 * record class's schema under the subject {@code <topic>-value} (or {@code <topic>-key} when configured
 * as a key serializer, TopicNameStrategy) and caches the id. A null record is written as null
 * (a tombstone).
 *
 * @param <T> the generated record class
 */
public final class SpecificAvroSerializer<T extends SpecificRecord> implements Serializer<T> {

    private final SchemaRegistryClient registry;
    private final Schema schema;
    private final SpecificDatumWriter<T> writer;
    private final Map<String, Registered> idsByTopic = new ConcurrentHashMap<>();
    private volatile boolean isKey;

    /**
     * @param type     the generated record class (its {@code SCHEMA$} is the writer schema)
     * @param registry where the schema is registered
     * @param isKey    true to use the {@code <topic>-key} subject; {@link #configure} may change it
     */
    public SpecificAvroSerializer(Class<T> type, SchemaRegistryClient registry, boolean isKey) {
        this.registry = registry;
        // getForClass returns the model generated with the class, which carries its logical-type conversions.
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.writer = new SpecificDatumWriter<>(schema, model);
        this.isKey = isKey;
    }

    /** Kafka's hook: {@code isKey} selects the subject suffix; no other setting is read. */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
    }

    /**
     * @return the framed bytes, or null for a null record
     * @throws WireFormatException with reason REGISTRY_UNAVAILABLE when the schema could not be registered
     *     for lack of a registry, SCHEMA_REJECTED when the registry refused it, UNDECODABLE_AVRO when the
     *     record does not match its own schema (a required field left null)
     */
    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        Registered registered = idsByTopic.get(topic);
        long generation = registry.generation();
        if (registered == null || registered.generation() != generation) {
            // First record for the topic, or the registry forgot or re-assigned ids: (re-)register.
            registered = new Registered(generation, registerFor(topic));
            idsByTopic.put(topic, registered);
        }
        int schemaId = registered.id();
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e.getClass().getSimpleName(), e);
        }
        return ConfluentWireFormat.frame(schemaId, out.toByteArray());
    }

    /** A topic's schema id, and the registry client's generation when it was registered. */
    private record Registered(long generation, int id) {
    }

    private int registerFor(String topic) {
        String subject = topic + (isKey ? "-key" : "-value");
        try {
            return registry.register(subject, schema);
        } catch (SchemaRegistryException e) {
            WireFormatException.Reason reason = e.isUnavailable()
                    ? WireFormatException.Reason.REGISTRY_UNAVAILABLE
                    : WireFormatException.Reason.SCHEMA_REJECTED;
            throw new WireFormatException(reason, "cannot register " + schema.getFullName()
                    + " under subject " + subject + ": " + e.getMessage(), e);
        }
    }
}
