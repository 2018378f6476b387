package org.deebert.streams.registry;

import java.nio.ByteBuffer;

/**
 * The Confluent Schema Registry wire format of a Kafka key or value: one magic byte {@code 0x00},
 * the schema id as a 4-byte big-endian signed int, then the Avro binary encoding of the datum
 * (no Avro container header). Static helpers only.
 */
public final class ConfluentWireFormat {

    /** The first byte of every framed message. */
    public static final byte MAGIC_BYTE = 0x00;
    /** Bytes before the Avro body: the magic byte plus the 4-byte schema id. */
    public static final int HEADER_LENGTH = 5;

    private ConfluentWireFormat() {
    }

    /**
     * A parsed frame: the schema id and where the Avro body lies in the original array (not copied).
     *
     * @param schemaId      the registry-wide id of the writer schema
     * @param bytes         the whole framed message
     * @param payloadOffset index of the first Avro byte in {@code bytes}
     * @param payloadLength number of Avro bytes
     */
    public record Frame(int schemaId, byte[] bytes, int payloadOffset, int payloadLength) {
    }

    /**
     * Frames an Avro body.
     *
     * @param schemaId the registry-wide id of the schema that {@code avroPayload} was written with
     * @param avroPayload the Avro binary encoding of one datum
     * @return a new array: magic byte, big-endian id, payload
     */
    public static byte[] frame(int schemaId, byte[] avroPayload) {
        return ByteBuffer.allocate(HEADER_LENGTH + avroPayload.length)
                .put(MAGIC_BYTE)
                .putInt(schemaId)
                .put(avroPayload)
                .array();
    }

    /**
     * Splits a framed message into schema id and Avro body.
     *
     * @param bytes a Kafka key or value; must not be null
     * @return the frame, referencing {@code bytes}
     * @throws WireFormatException with reason {@link WireFormatException.Reason#NOT_WIRE_FORMAT} when the
     *     message is shorter than {@value #HEADER_LENGTH} bytes or does not start with {@code 0x00}
     */
    public static Frame parse(byte[] bytes) {
        if (bytes.length < HEADER_LENGTH) {
            throw new WireFormatException(WireFormatException.Reason.NOT_WIRE_FORMAT,
                    "not Confluent wire format: too short (" + bytes.length + " bytes, the header alone is "
                            + HEADER_LENGTH + ")", null);
        }
        if (bytes[0] != MAGIC_BYTE) {
            throw new WireFormatException(WireFormatException.Reason.NOT_WIRE_FORMAT,
                    String.format("not Confluent wire format: magic byte 0x%02x, expected 0x00", bytes[0] & 0xff), null);
        }
        int schemaId = ByteBuffer.wrap(bytes, 1, 4).getInt();
        return new Frame(schemaId, bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH);
    }
}
