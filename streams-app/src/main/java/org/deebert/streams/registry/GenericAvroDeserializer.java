package org.deebert.streams.registry;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent wire-format bytes of any Avro schema into Avro's generic representation, with the writer
 * schema (fetched from the registry by the id in the header, once per id) as the reader schema: records are
 * {@link org.apache.avro.generic.GenericRecord}s, strings {@link org.apache.avro.util.Utf8} (a
 * {@link CharSequence}), {@code long} values with a {@code timestamp-millis} logical type plain {@link Long}s (no
 * logical-type conversions). Null bytes (a tombstone) read as null.
 *
 * <p>Like {@link SpecificAvroDeserializer}: every length and item count is checked against the record's bytes
 * before Avro allocates anything ({@link AvroLengthBounds}), and a body that fails to decode makes it ask the
 * registry about the id once more (at most once a second per id) before the record is blamed, so a registry that
 * re-assigned its ids does not dead-letter good records.
 */
public final class GenericAvroDeserializer implements Deserializer<Object> {

    private final SchemaRegistryClient registry;
    private final Map<Integer, WriterAndReader> readersById = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lastRefresh = new ConcurrentHashMap<>();
    private volatile long generation;

    /** A writer schema from the registry and the datum reader for it. */
    private record WriterAndReader(Schema writer, GenericDatumReader<Object> reader) {
        static WriterAndReader of(Schema writer) {
            // A bare GenericData: no logical-type conversions, so timestamp-millis reads as a Long.
            return new WriterAndReader(writer, new GenericDatumReader<>(writer, writer, new GenericData()));
        }
    }

    /** @param registry where writer schemas are looked up by id */
    public GenericAvroDeserializer(SchemaRegistryClient registry) {
        this.registry = registry;
    }

    /**
     * @return the decoded datum (a GenericRecord for a record schema), or null for null bytes
     * @throws WireFormatException with reason NOT_WIRE_FORMAT, UNKNOWN_SCHEMA_ID, REGISTRY_UNAVAILABLE,
     *     LENGTH_EXCEEDS_RECORD or UNDECODABLE_AVRO, as {@link SpecificAvroDeserializer#deserialize}
     */
    @Override
    public Object deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(bytes);
        long registryGeneration = registry.generation();
        if (registryGeneration != generation) {
            readersById.clear();
            generation = registryGeneration;
        }
        WriterAndReader cached = readersById.computeIfAbsent(frame.schemaId(),
                id -> WriterAndReader.of(fetch(topic, id, false)));
        try {
            return decode(cached, frame, topic);
        } catch (WireFormatException e) {
            if (!isBodyFailure(e) || !mayRefresh(frame.schemaId())) {
                throw e;
            }
            Schema fresh = fetch(topic, frame.schemaId(), true);
            if (SchemaNormalization.parsingFingerprint64(fresh) == SchemaNormalization.parsingFingerprint64(cached.writer())) {
                throw e;
            }
            WriterAndReader again = WriterAndReader.of(fresh);
            readersById.put(frame.schemaId(), again);
            return decode(again, frame, topic);
        }
    }

    private static Object decode(WriterAndReader writerAndReader, ConfluentWireFormat.Frame frame, String topic) {
        AvroLengthBounds.check(writerAndReader.writer(), frame.bytes(), frame.payloadOffset(), frame.payloadLength());
        BinaryDecoder decoder = DecoderFactory.get()
                .binaryDecoder(frame.bytes(), frame.payloadOffset(), frame.payloadLength(), null);
        try {
            Object datum = writerAndReader.reader().read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException("trailing bytes after the record");
            }
            return datum;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException
                 | ClassCastException e) {
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "cannot decode a " + writerAndReader.writer().getFullName() + " written with schema id "
                            + frame.schemaId() + " on topic " + topic + ": " + e.getClass().getSimpleName(), e);
        }
    }

    private static boolean isBodyFailure(WireFormatException e) {
        return e.getReason() == WireFormatException.Reason.UNDECODABLE_AVRO
                || e.getReason() == WireFormatException.Reason.LENGTH_EXCEEDS_RECORD;
    }

    private boolean mayRefresh(int schemaId) {
        long now = System.nanoTime();
        Long last = lastRefresh.get(schemaId);
        if (last != null && now - last < SpecificAvroDeserializer.REFRESH_PAUSE_NANOS) {
            return false;
        }
        lastRefresh.put(schemaId, now);
        return true;
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
