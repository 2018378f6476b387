package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * The shared decode-and-refresh path of both deserializers, on an in-memory registry whose id is re-assigned (a
 * fake for this one class; {@code RegistryIdReuseE2ETest} runs the same path against a real registry).
 */
class WriterSchemaDecoderTest {

    private static final Schema TEXT = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}");
    private static final Schema NUMBERS = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":\"long\"},"
                    + "{\"name\":\"y\",\"type\":\"long\"}]}");

    /** Answers refresh() with another schema under the same id, as a registry that was emptied and refilled. */
    private static final class ReassigningRegistry extends InMemorySchemaRegistryClient {
        final AtomicInteger refreshes = new AtomicInteger();
        volatile Schema afterRefresh;

        @Override
        public Schema refresh(int id) {
            refreshes.incrementAndGet();
            return afterRefresh != null ? afterRefresh : getById(id);
        }
    }

    private static WriterSchemaDecoder<Object> decoder(SchemaRegistryClient registry) {
        return new WriterSchemaDecoder<>(registry, w -> new GenericDatumReader<>(w, w, new GenericData()),
                Schema::getFullName);
    }

    private static byte[] avro(Schema schema, GenericRecord datum) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(schema).write(datum, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GenericRecord text(String a) {
        GenericRecord r = new GenericData.Record(TEXT);
        r.put("a", a);
        return r;
    }

    private static GenericRecord numbers(long x, long y) {
        GenericRecord r = new GenericData.Record(NUMBERS);
        r.put("x", x);
        r.put("y", y);
        return r;
    }

    @Test
    void aBodyThatFailsWithTheCachedSchemaIsDecodedWithTheSchemaTheRegistryNowHolds() {
        ReassigningRegistry registry = new ReassigningRegistry();
        int id = registry.register("t-value", TEXT);
        WriterSchemaDecoder<Object> decoder = decoder(registry);
        assertThat(decoder.decode("t", ConfluentWireFormat.frame(id, avro(TEXT, text("hi")))).toString())
                .contains("\"a\": \"hi\"");

        // The id now means NUMBERS: read as TEXT, x = 1000 claims a 1000-byte string the record does not hold.
        registry.afterRefresh = NUMBERS;
        Object read = decoder.decode("t", ConfluentWireFormat.frame(id, avro(NUMBERS, numbers(1000, 7))));

        assertThat(((GenericRecord) read).get("y")).isEqualTo(7L);
        assertThat(registry.refreshes).hasValue(1);
    }

    @Test
    void aCorruptBodyAsksTheRegistryAgainAtMostOncePerPauseAndIsThenBlamed() {
        ReassigningRegistry registry = new ReassigningRegistry();
        int id = registry.register("t-value", TEXT);
        WriterSchemaDecoder<Object> decoder = decoder(registry);
        byte[] truncated = ConfluentWireFormat.frame(id, new byte[] {(byte) 0x50, 'a'}); // a 40-byte string, 1 byte

        assertThatThrownBy(() -> decoder.decode("t", truncated)).isInstanceOf(WireFormatException.class)
                .satisfies(e -> assertThat(((WireFormatException) e).getReason())
                        .isEqualTo(WireFormatException.Reason.LENGTH_EXCEEDS_RECORD));
        assertThatThrownBy(() -> decoder.decode("t", truncated)).isInstanceOf(WireFormatException.class);
        assertThat(registry.refreshes).hasValue(1); // the same schema came back; the second failure asks nobody
    }

    @Test
    void anUnknownIdAndAnUnreachableRegistryHaveTheirOwnReasons() {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        WriterSchemaDecoder<Object> decoder = decoder(registry);
        byte[] bytes = ConfluentWireFormat.frame(42, avro(TEXT, text("hi")));

        assertThatThrownBy(() -> decoder.decode("t", bytes))
                .satisfies(e -> assertThat(((WireFormatException) e).getReason())
                        .isEqualTo(WireFormatException.Reason.UNKNOWN_SCHEMA_ID));
        registry.setUnavailable(true);
        assertThatThrownBy(() -> decoder.decode("t", bytes))
                .satisfies(e -> assertThat(((WireFormatException) e).getReason())
                        .isEqualTo(WireFormatException.Reason.REGISTRY_UNAVAILABLE));
    }
}
