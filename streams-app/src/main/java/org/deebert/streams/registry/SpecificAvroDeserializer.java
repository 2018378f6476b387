package org.deebert.streams.registry;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.generic.GenericData;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent wire-format bytes into a generated Avro record class. The writer schema is fetched
 * from the registry by the id in the header (once per id) and resolved against the class's own schema
 * with Avro schema resolution, so records written with an older or newer compatible schema read fine.
 * Null bytes (a tombstone) read as null.
 *
 * <p>A body that fails to decode is not blamed on the record at once: the writer schema is fetched from the
 * registry again (at most once a second per id), and when the registry now holds another schema under that id
 * (it was emptied or restored and re-assigned its ids) the record is decoded with that one, and the registry
 * client drops every cached id ({@link SchemaRegistryClient#refresh}). Good records are therefore not
 * dead-lettered because of a stale cache.
 *
 * @param <T> the generated record class (the reader schema)
 */
public final class SpecificAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

    private final SchemaRegistryClient registry;
    private final SpecificData model;
    private final Schema readerSchema;
    /** Least time between two registry round trips for one schema id after decode failures. */
    static final long REFRESH_PAUSE_NANOS = 1_000_000_000L;

    private final Map<Integer, WriterAndReader<T>> readersById = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lastRefresh = new ConcurrentHashMap<>();
    private volatile long generation;

    /** A writer schema from the registry and the datum reader that resolves it to the reader schema. */
    private record WriterAndReader<T>(Schema writer, SpecificDatumReader<T> reader) {
    }

    /**
     * @param type     the generated record class to read into
     * @param registry where writer schemas are looked up by id
     */
    public SpecificAvroDeserializer(Class<T> type, SchemaRegistryClient registry) {
        this.registry = registry;
        this.model = withExactDoubleArrays(SpecificData.getForClass(type), type.getClassLoader());
        this.readerSchema = model.getSchema(type);
    }

    /**
     * A copy of the class's data model (same logical-type conversions) that reads {@code array<double>}
     * into a plain {@link GenericData.Array}. Why: Avro 1.12.0's {@code GenericData.newArray} returns a
     * {@code PrimitivesArrays.DoubleArray}, whose {@code add(Double)} rounds every element through float
     * (AVRO-4108, apache/avro PR 3285, fixed after 1.12.0), so 0.1 would read back as 0.10000000149 in
     * e.g. {@code ThresholdControl.layer_thresholds}. Also used by the shadow-sample serde, whose scores are
     * {@code array<double>} too.
     *
     * @param base   the class's data model ({@code SpecificData.getForClass})
     * @param loader the class's loader
     * @return the copy
     */
    public static SpecificData withExactDoubleArrays(SpecificData base, ClassLoader loader) {
        SpecificData exact = new SpecificData(loader) {
            @Override
            public Object newArray(Object old, int size, Schema schema) {
                if (schema.getElementType().getType() == Schema.Type.DOUBLE) {
                    if (old instanceof GenericData.Array<?> reused) {
                        reused.clear();
                        return reused;
                    }
                    return new GenericData.Array<Double>(size, schema);
                }
                return super.newArray(old, size, schema);
            }
        };
        base.getConversions().forEach(exact::addLogicalTypeConversion);
        return exact;
    }

    /**
     * @return the decoded record, or null for null bytes
     * @throws WireFormatException with reason NOT_WIRE_FORMAT (no 0x00 + id header), UNKNOWN_SCHEMA_ID
     *     (the registry does not know the id), REGISTRY_UNAVAILABLE (the registry could not answer),
     *     LENGTH_EXCEEDS_RECORD (a length or item count claims more than the record holds; checked by
     *     {@link AvroLengthBounds} before Avro allocates anything) or UNDECODABLE_AVRO (the body is truncated, has trailing bytes, or the writer schema cannot be
     *     resolved to the reader schema)
     */
    @Override
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(bytes);
        long registryGeneration = registry.generation();
        if (registryGeneration != generation) {
            // The registry no longer agreed with some cached id: every reader built from a cached schema may be wrong.
            readersById.clear();
            generation = registryGeneration;
        }
        WriterAndReader<T> cached = readersById.computeIfAbsent(frame.schemaId(), id -> newReader(topic, id));
        try {
            return decode(cached, frame, topic);
        } catch (WireFormatException e) {
            if (!isBodyFailure(e) || !mayRefresh(frame.schemaId())) {
                throw e;
            }
            // A good record fails to decode when the cached writer schema is stale (the registry was emptied and
            // the id re-assigned): ask the registry once more before blaming the record.
            Schema fresh = fetch(topic, frame.schemaId(), true);
            if (SchemaNormalization.parsingFingerprint64(fresh) == SchemaNormalization.parsingFingerprint64(cached.writer())) {
                throw e;
            }
            WriterAndReader<T> again = new WriterAndReader<>(fresh, new SpecificDatumReader<>(fresh, readerSchema, model));
            readersById.put(frame.schemaId(), again);
            return decode(again, frame, topic);
        }
    }

    private T decode(WriterAndReader<T> writerAndReader, ConfluentWireFormat.Frame frame, String topic) {
        AvroLengthBounds.check(writerAndReader.writer(), frame.bytes(), frame.payloadOffset(), frame.payloadLength());
        BinaryDecoder decoder = DecoderFactory.get()
                .binaryDecoder(frame.bytes(), frame.payloadOffset(), frame.payloadLength(), null);
        try {
            T record = writerAndReader.reader().read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException("trailing bytes after the record");
            }
            return record;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException
                 | ClassCastException e) {
            // Corrupt bodies surface as many exception types (EOF, bad varint, bad union index, huge length).
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "cannot decode a " + readerSchema.getFullName() + " written with schema id " + frame.schemaId()
                            + " on topic " + topic + ": " + e.getClass().getSimpleName(), e);
        }
    }

    private static boolean isBodyFailure(WireFormatException e) {
        return e.getReason() == WireFormatException.Reason.UNDECODABLE_AVRO
                || e.getReason() == WireFormatException.Reason.LENGTH_EXCEEDS_RECORD;
    }

    /** At most one registry round trip per id per {@link #REFRESH_PAUSE_NANOS}: corrupt records must not flood it. */
    private boolean mayRefresh(int schemaId) {
        long now = System.nanoTime();
        Long last = lastRefresh.get(schemaId);
        if (last != null && now - last < REFRESH_PAUSE_NANOS) {
            return false;
        }
        lastRefresh.put(schemaId, now);
        return true;
    }

    private WriterAndReader<T> newReader(String topic, int schemaId) {
        Schema writerSchema = fetch(topic, schemaId, false);
        return new WriterAndReader<>(writerSchema, new SpecificDatumReader<>(writerSchema, readerSchema, model));
    }

    private Schema fetch(String topic, int schemaId, boolean fresh) {
        try {
            return fresh ? registry.refresh(schemaId) : registry.getById(schemaId);
        } catch (SchemaRegistryException e) {
            WireFormatException.Reason reason = e.isNotFound()
                    ? WireFormatException.Reason.UNKNOWN_SCHEMA_ID
                    : WireFormatException.Reason.REGISTRY_UNAVAILABLE;
            throw new WireFormatException(reason,
                    "cannot fetch writer schema id " + schemaId + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }
}
