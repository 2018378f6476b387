package org.deebert.streams.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.deebert.streams.classifier.ExitPolicy;
import org.deebert.streams.classifier.ExitSetting;

/**
 * Binary form of a validated {@link ExitSetting} inside the threshold global store: the threshold as an
 * 8-byte double, then the policy name in UTF-8. Kept out of the Schema Registry on purpose: a store
 * serde talking to the registry would register a subject for an internal topic name.
 */
public final class ExitSettingSerde implements Serde<ExitSetting> {

    @Override
    public Serializer<ExitSetting> serializer() {
        return (topic, s) -> {
            if (s == null) {
                return null;
            }
            byte[] policy = s.policy().name().getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(8 + policy.length).putDouble(s.threshold()).put(policy).array();
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
                String policy = new String(bytes, 8, bytes.length - 8, StandardCharsets.UTF_8);
                return new ExitSetting(ExitPolicy.valueOf(policy), threshold);
            } catch (RuntimeException e) {
                throw new SerializationException("corrupt exit setting in the threshold store", e);
            }
        };
    }
}
