package org.deebert.streams.topology;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary form of a {@link BufferedRecord} in the batch-buffer store and its changelog. Private to this
 * service (no registry): a version byte, then the fields with length-prefixed strings and byte arrays
 * (length -1 = null).
 *
 * <p>The key is stored as its raw bytes. Version 1 has always stored the key as a length-prefixed byte array;
 * before keys were kept as bytes, those were the UTF-8 encoding of the key decoded as a string. Entries written
 * then therefore read back unchanged (the same key the service would have written then), so the layout and its
 * version byte stay as they were; a change of layout must bump {@link #VERSION} and keep reading version 1.
 */
public final class BufferedRecordSerde implements Serde<BufferedRecord> {

    private static final byte VERSION = 1;

    @Override
    public Serializer<BufferedRecord> serializer() {
        return (topic, record) -> record == null ? null : write(record);
    }

    @Override
    public Deserializer<BufferedRecord> deserializer() {
        return (topic, bytes) -> bytes == null ? null : read(bytes);
    }

    static byte[] write(BufferedRecord r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(r.rawValue().length + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            writeBytes(out, r.key());
            writeBytes(out, r.rawValue());
            out.writeLong(r.timestamp());
            Header[] headers = r.headers().toArray();
            out.writeInt(headers.length);
            for (Header h : headers) {
                writeBytes(out, h.key().getBytes(StandardCharsets.UTF_8));
                writeBytes(out, h.value());
            }
            writeBytes(out, r.topic() == null ? null : r.topic().getBytes(StandardCharsets.UTF_8));
            out.writeInt(r.partition());
            out.writeLong(r.offset());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on an in-memory stream
        }
        return bytes.toByteArray();
    }

    static BufferedRecord read(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte version = in.readByte();
            if (version != VERSION) {
                throw new SerializationException("unknown buffered-record version " + version);
            }
            byte[] key = readBytes(in);
            byte[] rawValue = readBytes(in);
            long timestamp = in.readLong();
            int headerCount = in.readInt();
            if (headerCount < 0 || headerCount > in.available()) {
                throw new SerializationException("corrupt buffered record: " + headerCount + " headers");
            }
            RecordHeaders headers = new RecordHeaders();
            for (int i = 0; i < headerCount; i++) {
                headers.add(string(readBytes(in)), readBytes(in));
            }
            String topic = string(readBytes(in));
            int partition = in.readInt();
            long offset = in.readLong();
            return new BufferedRecord(key, rawValue, timestamp, headers, topic, partition, offset);
        } catch (IOException e) {
            throw new SerializationException("corrupt buffered record", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        // The stream reads a byte array, so available() is exact: a corrupt length must not allocate beyond it.
        if (length > in.available()) {
            throw new IOException("length " + length + " exceeds the " + in.available() + " bytes left");
        }
        byte[] b = new byte[length];
        in.readFully(b);
        return b;
    }

    private static String string(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
