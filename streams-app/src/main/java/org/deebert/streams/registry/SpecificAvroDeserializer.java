package org.deebert.streams.registry;

import org.apache.avro.Schema;
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
 * dead-lettered because of a stale cache. The frame, the cache and the refresh are {@link WriterSchemaDecoder}'s.
 *
 * @param <T> the generated record class (the reader schema)
 */
public final class SpecificAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

    private final WriterSchemaDecoder<T> decoder;

    /**
     * @param type     the generated record class to read into
     * @param registry where writer schemas are looked up by id
     */
    public SpecificAvroDeserializer(Class<T> type, SchemaRegistryClient registry) {
        SpecificData model = withExactDoubleArrays(SpecificData.getForClass(type), type.getClassLoader());
        Schema readerSchema = model.getSchema(type);
        this.decoder = new WriterSchemaDecoder<>(registry,
                writer -> new SpecificDatumReader<>(writer, readerSchema, model), writer -> readerSchema.getFullName());
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
     *     {@link AvroLengthBounds} before Avro allocates anything) or UNDECODABLE_AVRO (the body is truncated, has
     *     trailing bytes, or the writer schema cannot be resolved to the reader schema)
     */
    @Override
    public T deserialize(String topic, byte[] bytes) {
        return bytes == null ? null : decoder.decode(topic, bytes);
    }
}
