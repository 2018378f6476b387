package org.deebert.streams.registry;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent wire-format bytes of any Avro schema into Avro's generic representation, with the writer
 * schema (fetched from the registry by the id in the header, once per id) as the reader schema: records are
 * {@link org.apache.avro.generic.GenericRecord}s, strings {@link org.apache.avro.util.Utf8} (a
 * {@link CharSequence}), {@code long} values with a {@code timestamp-millis} logical type plain {@link Long}s (no
 * logical-type conversions). Null bytes (a tombstone) read as null.
 *
 * <p>Like {@link SpecificAvroDeserializer}, through the same {@link WriterSchemaDecoder}: every length and item
 * count is checked against the record's bytes before Avro allocates anything ({@link AvroLengthBounds}), and a body
 * that fails to decode makes it ask the registry about the id once more (at most once a second per id) before the
 * record is blamed, so a registry that re-assigned its ids does not dead-letter good records.
 */
public final class GenericAvroDeserializer implements Deserializer<Object> {

    private final WriterSchemaDecoder<Object> decoder;

    /** @param registry where writer schemas are looked up by id */
    public GenericAvroDeserializer(SchemaRegistryClient registry) {
        // A bare GenericData: no logical-type conversions, so timestamp-millis reads as a Long.
        this.decoder = new WriterSchemaDecoder<>(registry,
                writer -> new GenericDatumReader<>(writer, writer, new GenericData()), Schema::getFullName);
    }

    /**
     * @return the decoded datum (a GenericRecord for a record schema), or null for null bytes
     * @throws WireFormatException with reason NOT_WIRE_FORMAT, UNKNOWN_SCHEMA_ID, REGISTRY_UNAVAILABLE,
     *     LENGTH_EXCEEDS_RECORD or UNDECODABLE_AVRO, as {@link SpecificAvroDeserializer#deserialize}
     */
    @Override
    public Object deserialize(String topic, byte[] bytes) {
        return bytes == null ? null : decoder.decode(topic, bytes);
    }
}
