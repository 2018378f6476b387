package org.deebert.streams.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.classifier.AccuracyBudget;
import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;

/**
 * Binary form of a validated {@link ExitSettingInForce} inside the threshold global store: the threshold as an
 * 8-byte double, the number of per-layer thresholds as a 4-byte int (-1 = none), that many 8-byte doubles, a
 * budget flag byte (0 = none, 1 = the budget's max disagreement, sample rate, min and max threshold as doubles,
 * window events as an int, window ms as a long, confidence as a double follow; 2 = the same, then its label guard:
 * the protected label as a 4-byte length and UTF-8 bytes, and the max recall loss as a double), the source as a 4-byte length
 * and UTF-8 bytes, then the policy name in UTF-8. Kept out of the Schema Registry on purpose: a store serde
 * talking to the registry would register a subject for an internal topic name. The store is in memory and
 * rebuilt from the control topic at every start, so this format can change between versions without migration.
 */
public final class ExitSettingSerde implements Serde<ExitSettingInForce> {

    @Override
    public Serializer<ExitSettingInForce> serializer() {
        return (topic, inForce) -> {
            if (inForce == null) {
                return null;
            }
            ExitSetting s = inForce.setting();
            AccuracyBudget b = inForce.budget();
            byte[] policy = s.policy().name().getBytes(StandardCharsets.UTF_8);
            byte[] source = inForce.source().getBytes(StandardCharsets.UTF_8);
            List<Double> perLayer = s.layerThresholds();
            int count = perLayer == null ? 0 : perLayer.size();
            byte[] guardLabel = b == null || b.guard() == null ? null : b.guard().label().getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.allocate(8 + 4 + 8 * count + 1 + (b == null ? 0 : 4 * 8 + 4 + 8 + 8)
                            + (guardLabel == null ? 0 : 4 + guardLabel.length + 8)
                            + 4 + source.length + policy.length)
                    .putDouble(s.threshold()).putInt(perLayer == null ? -1 : count);
            for (int i = 0; i < count; i++) {
                buffer.putDouble(perLayer.get(i));
            }
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

    @Override
    public Deserializer<ExitSettingInForce> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                double threshold = buffer.getDouble();
                int count = buffer.getInt();
                List<Double> perLayer = null;
                if (count >= 0) {
                    // A corrupt count must not size a list beyond what the bytes can hold.
                    perLayer = new ArrayList<>(Math.min(count, buffer.remaining() / Double.BYTES));
                    for (int i = 0; i < count; i++) {
                        perLayer.add(buffer.getDouble());
                    }
                }
                AccuracyBudget budget = null;
                byte budgetFlag = buffer.get();
                if (budgetFlag == 1 || budgetFlag == 2) {
                    budget = new AccuracyBudget(buffer.getDouble(), buffer.getDouble(), buffer.getDouble(),
                            buffer.getDouble(), buffer.getInt(), buffer.getLong(), buffer.getDouble());
                    if (budgetFlag == 2) {
                        String label = new String(lengthPrefixed(buffer, "protected label"), StandardCharsets.UTF_8);
                        budget = budget.withGuard(new AccuracyBudget.LabelGuard(label, buffer.getDouble()));
                    }
                }
                byte[] source = lengthPrefixed(buffer, "source");
                String policy = new String(bytes, buffer.position(), buffer.remaining(), StandardCharsets.UTF_8);
                return new ExitSettingInForce(new ExitSetting(ExitPolicy.valueOf(policy), threshold, perLayer),
                        new String(source, StandardCharsets.UTF_8), budget);
            } catch (RuntimeException e) {
                throw new SerializationException("corrupt exit setting in the threshold store", e);
            }
        };
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
