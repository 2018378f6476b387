package org.deebert.streams.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes a generated Avro record in the Confluent wire format. On first use per topic it finds the schema id as its
 * {@link SerializerSettings} say (by default: registers the record class's schema under {@code <topic>-value}, or
 * {@code <topic>-key} when configured as a key serializer) and caches it until the registry client's
 * {@link SchemaRegistryClient#generation()} changes. A null record is written as null (a tombstone).
 *
 * <p>With {@code use.latest.version} and a latest version that differs from the class's schema (but can read it),
 * each record is written with the class's schema, then resolved to the latest one and written again with it: the
 * body always matches the id in the header, at about twice the encoding cost.
 *
 * @param <T> the generated record class
 */
public final class SpecificAvroSerializer<T extends SpecificRecord> implements Serializer<T> {

    private final SchemaRegistryClient registry;
    private final SerializerSettings settings;
    private final Schema schema;
    private final SpecificDatumWriter<T> writer;
    private final Map<String, Registered> idsByTopic = new ConcurrentHashMap<>();
    private volatile boolean isKey;

    /**
     * A serializer with {@link SerializerSettings#DEFAULT} (auto-register, TopicNameStrategy).
     *
     * @param type     the generated record class (its {@code SCHEMA$} is the writer schema)
     * @param registry where the schema is registered
     * @param isKey    true to use the key subject; {@link #configure} may change it
     */
    public SpecificAvroSerializer(Class<T> type, SchemaRegistryClient registry, boolean isKey) {
        this(type, registry, isKey, SerializerSettings.DEFAULT);
    }

    /**
     * @param type     the generated record class (its {@code SCHEMA$} is the writer schema)
     * @param registry where the schema is registered or looked up
     * @param isKey    true to use the key subject; {@link #configure} may change it
     * @param settings registration, latest-version and subject-name settings
     */
    public SpecificAvroSerializer(Class<T> type, SchemaRegistryClient registry, boolean isKey, SerializerSettings settings) {
        this.registry = registry;
        this.settings = settings;
        // getForClass returns the model generated with the class, which carries its logical-type conversions.
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.writer = new SpecificDatumWriter<>(schema, model);
        this.isKey = isKey;
    }

    /** Kafka's hook: {@code isKey} selects the key or value subject; no other setting is read. */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
    }

    /**
     * @return the framed bytes, or null for a null record
     * @throws WireFormatException with reason REGISTRY_UNAVAILABLE when the registry could not answer,
     *     SCHEMA_REJECTED when the registry refused the schema, or (registration off) the subject does not hold it or
     *     its latest version cannot read it; UNDECODABLE_AVRO when the record does not match its own schema (a
     *     required field left null)
     */
    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        Registered registered = idsByTopic.get(topic);
        long generation = registry.generation();
        if (registered == null || registered.generation() != generation) {
            // First record for the topic, or the registry forgot or re-assigned ids: (re-)resolve.
            registered = resolve(topic, generation);
            idsByTopic.put(topic, registered);
        }
        byte[] body = encode(record, topic);
        if (registered.transcoder() != null) {
            body = registered.transcoder().apply(body, topic);
        }
        return ConfluentWireFormat.frame(registered.id(), body);
    }

    private byte[] encode(T record, String topic) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e.getClass().getSimpleName(), e);
        }
        return out.toByteArray();
    }

    /** A topic's schema id, the registry client's generation when it was found, and a transcoder or null. */
    private record Registered(long generation, int id, Transcoder transcoder) {
    }

    private Registered resolve(String topic, long generation) {
        String subject = settings.subject(topic, isKey, schema);
        SerializerSettings.SubjectSchema found;
        try {
            found = settings.resolve(registry, subject, schema);
        } catch (SchemaRegistryException e) {
            WireFormatException.Reason reason = e.isUnavailable()
                    ? WireFormatException.Reason.REGISTRY_UNAVAILABLE
                    : WireFormatException.Reason.SCHEMA_REJECTED;
            // The registry client's and SerializerSettings' messages name the subject already.
            throw new WireFormatException(reason, "cannot write a " + schema.getFullName() + " to topic " + topic + ": "
                    + e.getMessage(), e);
        }
        Transcoder transcoder = found.schema() == schema ? null : new Transcoder(schema, found.schema());
        return new Registered(generation, found.id(), transcoder);
    }

    /** Rewrites a body written with the class's schema as the subject's latest schema (Avro schema resolution). */
    private static final class Transcoder {
        private final GenericDatumReader<Object> reader;
        private final GenericDatumWriter<Object> writer;
        private final Schema target;

        Transcoder(Schema from, Schema to) {
            this.reader = new GenericDatumReader<>(from, to);
            this.writer = new GenericDatumWriter<>(to);
            this.target = to;
        }

        byte[] apply(byte[] body, String topic) {
            try {
                Object resolved = reader.read(null, DecoderFactory.get().binaryDecoder(body, null));
                ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 16);
                BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
                writer.write(resolved, encoder);
                encoder.flush();
                return out.toByteArray();
            } catch (IOException | AvroRuntimeException e) {
                throw new WireFormatException(WireFormatException.Reason.SCHEMA_REJECTED, "cannot rewrite a record for "
                        + "topic " + topic + " as the latest schema " + target.getFullName() + ": "
                        + e.getClass().getSimpleName(), e);
            }
        }
    }
}
