package org.deebert.streams.registry;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;

/**
 * Decodes the body of Confluent wire-format bytes with the writer schema the registry holds under the frame's id:
 * one datum reader per id, built once by the caller's {@code readerFor} (so the specific and the generic
 * deserializer differ only there), the bytes checked against their lengths before Avro allocates anything
 * ({@link AvroLengthBounds}), and trailing bytes refused.
 *
 * <p>A body that fails to decode is not blamed on the record at once: the writer schema is fetched again (at most
 * once per {@link #REFRESH_PAUSE_NANOS} per id, so corrupt records cannot flood the registry), and when the
 * registry now holds another schema under that id (it was emptied or restored and re-assigned its ids) the record
 * is decoded with that one. When the registry client's {@link SchemaRegistryClient#generation()} moves, every
 * cached reader is dropped. Thread-safe.
 *
 * @param <D> what a reader returns: a generated record class, or Avro's generic representation
 */
final class WriterSchemaDecoder<D> {

    /** Least time between two registry round trips for one schema id after decode failures, ns. */
    static final long REFRESH_PAUSE_NANOS = 1_000_000_000L;

    private final SchemaRegistryClient registry;
    private final Function<Schema, DatumReader<D>> readerFor;
    private final Function<Schema, String> decodedName;
    private final Map<Integer, WriterAndReader<D>> readersById = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lastRefresh = new ConcurrentHashMap<>();
    private volatile long generation;

    /** A writer schema from the registry and the datum reader built for it. */
    private record WriterAndReader<D>(Schema writer, DatumReader<D> reader) {
    }

    /**
     * @param registry    where writer schemas are looked up by id
     * @param readerFor   builds the datum reader for a writer schema
     * @param decodedName given the writer schema, the type name an UNDECODABLE_AVRO message gives
     */
    WriterSchemaDecoder(SchemaRegistryClient registry, Function<Schema, DatumReader<D>> readerFor,
                        Function<Schema, String> decodedName) {
        this.registry = registry;
        this.readerFor = readerFor;
        this.decodedName = decodedName;
    }

    /**
     * @param topic the record's topic (for messages only)
     * @param bytes Confluent wire-format bytes, not null
     * @return the decoded datum
     * @throws WireFormatException with reason NOT_WIRE_FORMAT (no 0x00 + id header), UNKNOWN_SCHEMA_ID (the
     *     registry does not know the id), REGISTRY_UNAVAILABLE (the registry could not answer), LENGTH_EXCEEDS_RECORD
     *     (a length or item count claims more than the record holds) or UNDECODABLE_AVRO (the body is truncated, has
     *     trailing bytes, or the reader cannot read the writer schema's data)
     */
    D decode(String topic, byte[] bytes) {
        ConfluentWireFormat.Frame frame = ConfluentWireFormat.parse(bytes);
        long registryGeneration = registry.generation();
        if (registryGeneration != generation) {
            // The registry no longer agreed with some cached id: every reader built from a cached schema may be wrong.
            readersById.clear();
            generation = registryGeneration;
        }
        WriterAndReader<D> cached = readersById.computeIfAbsent(frame.schemaId(),
                id -> withReader(fetch(topic, id, false)));
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
            WriterAndReader<D> again = withReader(fresh);
            readersById.put(frame.schemaId(), again);
            return decode(again, frame, topic);
        }
    }

    private WriterAndReader<D> withReader(Schema writer) {
        return new WriterAndReader<>(writer, readerFor.apply(writer));
    }

    private D decode(WriterAndReader<D> writerAndReader, ConfluentWireFormat.Frame frame, String topic) {
        AvroLengthBounds.check(writerAndReader.writer(), frame.bytes(), frame.payloadOffset(), frame.payloadLength());
        BinaryDecoder decoder = DecoderFactory.get()
                .binaryDecoder(frame.bytes(), frame.payloadOffset(), frame.payloadLength(), null);
        try {
            D datum = writerAndReader.reader().read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException("trailing bytes after the record");
            }
            return datum;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException
                 | ClassCastException e) {
            // Corrupt bodies surface as many exception types (EOF, bad varint, bad union index, huge length).
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "cannot decode a " + decodedName.apply(writerAndReader.writer()) + " written with schema id "
                            + frame.schemaId() + " on topic " + topic + ": " + e.getClass().getSimpleName(), e);
        }
    }

    private static boolean isBodyFailure(WireFormatException e) {
        return e.getReason() == WireFormatException.Reason.UNDECODABLE_AVRO
                || e.getReason() == WireFormatException.Reason.LENGTH_EXCEEDS_RECORD;
    }

    /** At most one registry round trip per id per {@link #REFRESH_PAUSE_NANOS}. */
    private boolean mayRefresh(int schemaId) {
        long now = System.nanoTime();
        Long last = lastRefresh.get(schemaId);
        if (last != null && now - last < REFRESH_PAUSE_NANOS) {
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
