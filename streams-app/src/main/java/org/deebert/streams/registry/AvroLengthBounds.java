package org.deebert.streams.registry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Checks, before Avro decodes a body, that no length or item count in it claims more than the body's
 * remaining bytes could hold.
 *
 * <p>Why: Avro's binary reader allocates what a length prefix claims before it reads the bytes. A string
 * whose prefix claims 2,147,483,639 bytes makes it allocate a 2 GiB array; a map block count of 2^28 makes
 * it size a hash table for 2^28 entries. A 27-byte record then throws {@code OutOfMemoryError} on a small
 * heap, the JVM exits before the offset is committed, and every restart meets the same record again. Avro
 * 1.12's own limits ({@code org.apache.avro.limits.*} system properties) are fixed process-wide numbers read
 * once when Avro's classes load; the bytes that remain in the record are the tighter bound and need no
 * tuning. The record can never hold more than its own length, so a claim beyond it is always corrupt.
 *
 * <p>The check walks the writer schema over the body in Avro's binary encoding (Avro 1.12 specification,
 * "Binary Encoding") without allocating anything for the data:
 * <ul>
 *   <li>{@code string} and {@code bytes}: the length must not exceed the bytes that remain;</li>
 *   <li>{@code array} and {@code map} blocks: the item count times the fewest bytes one item can take must not
 *       exceed the bytes that remain, and a negative count's block size must not either; items that take no
 *       bytes (e.g. {@code null}) are capped at {@value #MAX_ZERO_WIDTH_ITEMS} per collection.</li>
 * </ul>
 * Anything else that is wrong with the body (a truncated body, a union index out of range, a negative length)
 * is left to Avro's reader, which reports it without allocating more than the bytes walked so far allowed.
 * Cost: one pass over the body's varints, far below a classifier call.
 */
public final class AvroLengthBounds {

    /** Most items a collection may claim when its items take no bytes (arrays of null, empty records). */
    public static final int MAX_ZERO_WIDTH_ITEMS = 65_536;
    /** Deepest nesting walked; only recursive writer schemas can nest this deep. */
    static final int MAX_DEPTH = 512;
    private static final Schema MAP_KEY = Schema.create(Schema.Type.STRING);

    private final byte[] bytes;
    private final int end;
    private final Map<Schema, Long> minBytesMemo = new HashMap<>();
    private int pos;

    private AvroLengthBounds(byte[] bytes, int offset, int length) {
        this.bytes = bytes;
        this.pos = offset;
        this.end = offset + length;
    }

    /**
     * @param writer the schema the body was written with
     * @param bytes  holds the body
     * @param offset index of the body's first byte
     * @param length the body's length in bytes
     * @throws WireFormatException with reason {@link WireFormatException.Reason#LENGTH_EXCEEDS_RECORD} when a
     *     length or item count claims more than the remaining bytes can hold (the message names the field path,
     *     the claim and the bytes remaining, never the data), or {@link WireFormatException.Reason#UNDECODABLE_AVRO}
     *     when values nest deeper than {@value #MAX_DEPTH} levels
     */
    public static void check(Schema writer, byte[] bytes, int offset, int length) {
        try {
            new AvroLengthBounds(bytes, offset, length).walk(writer, writer.getName(), 0);
        } catch (Malformed stop) {
            // Not an over-claim: Avro's reader fails on it with its own message, within the bytes walked.
        }
    }

    /** Thrown inside the walk where the body is malformed in a way Avro's reader reports safely. */
    private static final class Malformed extends RuntimeException {
        private static final Malformed INSTANCE = new Malformed();

        private Malformed() {
            super(null, null, false, false);
        }
    }

    private void walk(Schema schema, String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw new WireFormatException(WireFormatException.Reason.UNDECODABLE_AVRO,
                    "Avro body nests deeper than " + MAX_DEPTH + " levels at " + path, null);
        }
        switch (schema.getType()) {
            case NULL -> { }
            case BOOLEAN -> skip(1);
            case INT, LONG, ENUM -> readLong();
            case FLOAT -> skip(4);
            case DOUBLE -> skip(8);
            case FIXED -> skip(schema.getFixedSize());
            case STRING, BYTES -> {
                long claimed = readLong();
                if (claimed < 0) {
                    throw Malformed.INSTANCE;
                }
                if (claimed > remaining()) {
                    throw overClaim(path, "a length of " + claimed + " bytes");
                }
                skip((int) claimed);
            }
            case RECORD -> {
                for (Schema.Field field : schema.getFields()) {
                    walk(field.schema(), path + "." + field.name(), depth + 1);
                }
            }
            case UNION -> {
                long index = readLong();
                List<Schema> branches = schema.getTypes();
                if (index < 0 || index >= branches.size()) {
                    throw Malformed.INSTANCE;
                }
                walk(branches.get((int) index), path, depth + 1);
            }
            case ARRAY -> walkBlocks(null, schema.getElementType(), path + "[]", depth);
            case MAP -> walkBlocks(MAP_KEY, schema.getValueType(), path + "{}", depth);
            default -> throw new IllegalStateException("unknown Avro type " + schema.getType());
        }
    }

    /** Array ({@code key == null}) or map blocks: count, [byte size,] items; a count of 0 ends them. */
    private void walkBlocks(Schema key, Schema value, String path, int depth) {
        long minItemBytes = (key == null ? 0 : 1) + minBytes(value);
        long zeroWidthItems = 0;
        for (long count = readLong(); count != 0; count = readLong()) {
            if (count < 0) {
                if (count == Long.MIN_VALUE) {
                    throw overClaim(path, "a block of " + count + " items");
                }
                count = -count;
                long blockBytes = readLong();
                if (blockBytes > remaining()) {
                    throw overClaim(path, "a block of " + blockBytes + " bytes");
                }
            }
            if (minItemBytes > 0) {
                if (count > remaining() / minItemBytes) {
                    throw overClaim(path, "a block of " + count + " items of at least " + minItemBytes + " bytes each");
                }
            } else {
                zeroWidthItems += count;
                if (zeroWidthItems > MAX_ZERO_WIDTH_ITEMS) {
                    throw overClaim(path, zeroWidthItems + " items that take no bytes (at most "
                            + MAX_ZERO_WIDTH_ITEMS + ")");
                }
            }
            for (long i = 0; i < count; i++) {
                if (key != null) {
                    walk(key, path + ".key", depth + 1);
                }
                walk(value, path, depth + 1);
            }
        }
    }

    /** The fewest bytes a value of {@code schema} takes; recursion counts as 0 (a safe under-estimate). */
    private long minBytes(Schema schema) {
        Long known = minBytesMemo.get(schema);
        if (known != null) {
            return known;
        }
        minBytesMemo.put(schema, 0L);
        long min = switch (schema.getType()) {
            case NULL -> 0;
            case BOOLEAN, INT, LONG, ENUM, STRING, BYTES, ARRAY, MAP -> 1;
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FIXED -> schema.getFixedSize();
            case RECORD -> schema.getFields().stream().mapToLong(f -> minBytes(f.schema())).sum();
            case UNION -> 1 + schema.getTypes().stream().mapToLong(this::minBytes).min().orElse(0);
        };
        minBytesMemo.put(schema, min);
        return min;
    }

    private WireFormatException overClaim(String path, String claim) {
        return new WireFormatException(WireFormatException.Reason.LENGTH_EXCEEDS_RECORD,
                "Avro body claims " + claim + " at " + path + " with " + remaining() + " bytes left in the record", null);
    }

    private long remaining() {
        return end - pos;
    }

    private void skip(int n) {
        if (n > remaining()) {
            throw Malformed.INSTANCE;
        }
        pos += n;
    }

    /** Avro's zig-zag varint long (at most 10 bytes). */
    private long readLong() {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw Malformed.INSTANCE;
            }
            int b = bytes[pos++] & 0xff;
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw Malformed.INSTANCE;
    }
}
