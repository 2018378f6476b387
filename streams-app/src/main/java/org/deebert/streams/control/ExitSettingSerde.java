package org.deebert.streams.control;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;

/**
 * Binary form of a validated {@link ExitSettingInForce} inside the threshold global store. Kept out of the
 * Schema Registry on purpose: a store serde talking to the registry would register a subject for an internal
 * topic name.
 *
 * <p>Format 2 (written): the marker byte {@code 0xFF}, the format byte {@code 2}, the threshold as an 8-byte
 * double, the number of per-layer thresholds as a 4-byte int (-1 = none) and that many 8-byte doubles, the
 * number of per-label thresholds as a 4-byte int (-1 = none) and that many 8-byte doubles (by label index), a
 * budget flag byte (0 = none, 1 = the budget's max disagreement, sample rate, min and max threshold as doubles,
 * window events as an int, window ms as a long, confidence as a double follow; 2 = the same, then its label
 * guard: the protected label as a 4-byte length and UTF-8 bytes, and the max recall loss as a double), the
 * source as a 4-byte length and UTF-8 bytes, then the policy's constant name
 * ({@link ExitPolicy#name()}, read back by {@link ExitPolicy#fromName}) in UTF-8.
 *
 * <p>Format 1 (read only): the same without the two leading bytes and without the per-label part. It starts
 * with the threshold, a finite double {@code >= 0} (first byte 0x00-0x7F, or 0x80 for -0.0), which can never
 * begin with 0xFF (a negative number or NaN): the marker tells the two apart. The store is in memory and
 * rebuilt from the control topic at every start, so an old value is met only by a store or a test that kept
 * bytes across versions; it still reads rather than failing.
 */
public final class ExitSettingSerde implements Serde<ExitSettingInForce> {

    /** First byte of every value written since format 2; never the first byte of a format-1 value. */
    static final byte MARKER = (byte) 0xFF;
    /** The format this serde writes. */
    static final byte FORMAT = 2;

    @Override
    public Serializer<ExitSettingInForce> serializer() {
        return (topic, inForce) -> {
            if (inForce == null) {
                return null;
            }
            ExitSetting s = inForce.setting();
            Budget b = inForce.budget();
            byte[] policy = s.policy().name().getBytes(StandardCharsets.UTF_8);
            byte[] source = inForce.source().getBytes(StandardCharsets.UTF_8);
            List<Double> perLayer = s.layerThresholds();
            List<Double> perLabel = s.labelThresholds();
            int layers = perLayer == null ? 0 : perLayer.size();
            int labels = perLabel == null ? 0 : perLabel.size();
            byte[] guardLabel = b == null || b.guard() == null ? null : b.guard().label().getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.allocate(2 + 8 + 4 + 8 * layers + 4 + 8 * labels + 1
                            + (b == null ? 0 : 4 * 8 + 4 + 8 + 8)
                            + (guardLabel == null ? 0 : 4 + guardLabel.length + 8)
                            + 4 + source.length + policy.length)
                    .put(MARKER).put(FORMAT).putDouble(s.threshold());
            putList(buffer, perLayer);
            putList(buffer, perLabel);
            buffer.put((byte) (b == null ? 0 : guardLabel == null ? 1 : 2));
            if (b != null) {
                buffer.putDouble(b.maxDisagreement()).putDouble(b.sampleRate()).putDouble(b.minThreshold())
                        .putDouble(b.maxThreshold()).putInt(b.windowEvents()).putLong(b.windowMs()).putDouble(b.confidence());
                if (guardLabel != null) {
                    buffer.putInt(guardLabel.length).put(guardLabel).putDouble(b.guard().maxRecallLoss());
                }
            }
            return buffer.putInt(source.length).put(source).put(policy).array();
        };
    }

    private static void putList(ByteBuffer buffer, List<Double> values) {
        buffer.putInt(values == null ? -1 : values.size());
        if (values != null) {
            for (double v : values) {
                buffer.putDouble(v);
            }
        }
    }

    @Override
    public Deserializer<ExitSettingInForce> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                boolean versioned = bytes.length > 0 && bytes[0] == MARKER;
                if (versioned) {
                    buffer.get();
                    byte format = buffer.get();
                    if (format != FORMAT) {
                        throw new IllegalArgumentException("unknown exit setting format " + format + " (this version reads 1 and "
                                + FORMAT + ")");
                    }
                }
                double threshold = buffer.getDouble();
                List<Double> perLayer = getList(buffer);
                List<Double> perLabel = versioned ? getList(buffer) : null;
                Budget budget = null;
                byte budgetFlag = buffer.get();
                if (budgetFlag == 1 || budgetFlag == 2) {
                    budget = new Budget(buffer.getDouble(), buffer.getDouble(), buffer.getDouble(),
                            buffer.getDouble(), buffer.getInt(), buffer.getLong(), buffer.getDouble());
                    if (budgetFlag == 2) {
                        String label = new String(lengthPrefixed(buffer, "protected label"), StandardCharsets.UTF_8);
                        budget = budget.withGuard(new Budget.LabelGuard(label, buffer.getDouble()));
                    }
                }
                byte[] source = lengthPrefixed(buffer, "source");
                String policy = new String(bytes, buffer.position(), buffer.remaining(), StandardCharsets.UTF_8);
                return new ExitSettingInForce(new ExitSetting(ExitPolicy.fromName(policy), threshold, perLayer, perLabel),
                        new String(source, StandardCharsets.UTF_8), budget);
            } catch (RuntimeException e) {
                throw new SerializationException("corrupt exit setting in the threshold store", e);
            }
        };
    }

    /** A count (-1 = null) and that many doubles. */
    private static List<Double> getList(ByteBuffer buffer) {
        int count = buffer.getInt();
        if (count < 0) {
            return null;
        }
        // A corrupt count must not size a list beyond what the bytes can hold.
        List<Double> values = new ArrayList<>(Math.min(count, buffer.remaining() / Double.BYTES));
        for (int i = 0; i < count; i++) {
            values.add(buffer.getDouble());
        }
        return values;
    }

    /** Reads a 4-byte length and that many bytes; a corrupt length must not size an array beyond the bytes left. */
    private static byte[] lengthPrefixed(ByteBuffer buffer, String what) {
        int length = buffer.getInt();
        if (length < 0 || length > buffer.remaining()) {
            throw new IllegalArgumentException(what + " length " + length + " exceeds the " + buffer.remaining()
                    + " bytes left");
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }
}
