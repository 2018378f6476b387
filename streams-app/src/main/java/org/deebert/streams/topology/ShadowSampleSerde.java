package org.deebert.streams.topology;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.registry.AvroLengthBounds;
import org.deebert.streams.registry.SpecificAvroDeserializer;
import org.deebert.streams.schema.ShadowSample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ShadowSample}s on the internal shadow-sample topic and in the controller's window store: a format
 * byte ({@value #FORMAT}) then Avro binary of {@code ShadowSample.avsc}. Kept out of the Schema Registry, like
 * Kafka Streams' own internal topics: only this service writes and reads them, and a registry subject per
 * application id would outlive it. A new format gets a new format byte.
 *
 * <p>A record that does not decode (another format byte, truncated bytes) is logged as one WARN line without
 * its bytes and read as null, which the controller skips: one lost sample only makes its window smaller.
 */
public final class ShadowSampleSerde implements Serde<ShadowSample> {

    /** The format byte of Avro binary of the current {@code ShadowSample.avsc}. */
    static final byte FORMAT = 1;

    private static final Logger LOG = LoggerFactory.getLogger(ShadowSampleSerde.class);

    @Override
    public Serializer<ShadowSample> serializer() {
        SpecificDatumWriter<ShadowSample> writer = new SpecificDatumWriter<>(ShadowSample.class);
        return (topic, sample) -> {
            if (sample == null) {
                return null;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(128);
            out.write(FORMAT);
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            try {
                writer.write(sample, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
            }
            return out.toByteArray();
        };
    }

    @Override
    public Deserializer<ShadowSample> deserializer() {
        // Not `new SpecificDatumReader<>(ShadowSample.class)`: Avro 1.12.0 would round the array<double> scores
        // through float (AVRO-4108), and the controller would replay S on rounded entropies.
        SpecificDatumReader<ShadowSample> reader = new SpecificDatumReader<>(ShadowSample.getClassSchema(),
                ShadowSample.getClassSchema(), SpecificAvroDeserializer.withExactDoubleArrays(
                        SpecificData.getForClass(ShadowSample.class), ShadowSample.class.getClassLoader()));
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            if (bytes.length == 0 || bytes[0] != FORMAT) {
                LOG.warn("Skipping a shadow sample on {} in an unknown format ({} bytes)", topic, bytes.length);
                return null;
            }
            try {
                AvroLengthBounds.check(ShadowSample.getClassSchema(), bytes, 1, bytes.length - 1);
                BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 1, bytes.length - 1, null);
                return reader.read(null, decoder);
            } catch (IOException | RuntimeException e) {
                LOG.warn("Skipping an undecodable shadow sample on {} ({} bytes): {}", topic, bytes.length,
                        e.getClass().getName());
                return null;
            }
        };
    }
}
