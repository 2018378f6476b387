package org.deebert.streams.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;

/**
 * Binary form of a validated {@link ExitSetting} inside the threshold global store: the threshold as an
 * 8-byte double, the number of per-layer thresholds as a 4-byte int (-1 = none), that many 8-byte doubles,
 * then the policy name in UTF-8. Kept out of the Schema Registry on purpose: a store serde talking to the
 * registry would register a subject for an internal topic name. The store is in memory and rebuilt from
 * the control topic at every start, so this format can change between versions without migration.
 */
public final class ExitSettingSerde implements Serde<ExitSetting> {

    @Override
    public Serializer<ExitSetting> serializer() {
        return (topic, s) -> {
            if (s == null) {
                return null;
            }
            byte[] policy = s.policy().name().getBytes(StandardCharsets.UTF_8);
            List<Double> perLayer = s.layerThresholds();
            int count = perLayer == null ? 0 : perLayer.size();
            ByteBuffer buffer = ByteBuffer.allocate(8 + 4 + 8 * count + policy.length)
                    .putDouble(s.threshold()).putInt(perLayer == null ? -1 : count);
            for (int i = 0; i < count; i++) {
                buffer.putDouble(perLayer.get(i));
            }
            return buffer.put(policy).array();
        };
    }

    @Override
    public Deserializer<ExitSetting> deserializer() {
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
                    perLayer = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        perLayer.add(buffer.getDouble());
                    }
                }
                String policy = new String(bytes, buffer.position(), buffer.remaining(), StandardCharsets.UTF_8);
                return new ExitSetting(ExitPolicy.valueOf(policy), threshold, perLayer);
            } catch (RuntimeException e) {
                throw new SerializationException("corrupt exit setting in the threshold store", e);
            }
        };
    }
}
