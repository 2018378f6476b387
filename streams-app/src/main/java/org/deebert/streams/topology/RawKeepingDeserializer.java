package org.deebert.streams.topology;

import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decodes with a wrapped deserializer and keeps the raw bytes beside the result. Decoding failures are
 * thrown unchanged, so Kafka Streams' deserialization exception handler still sees them.
 *
 * @param <T> the decoded type
 */
public final class RawKeepingDeserializer<T> implements Deserializer<RawAndDecoded<T>> {

    private final Deserializer<T> inner;

    /** @param inner the deserializer that does the decoding */
    public RawKeepingDeserializer(Deserializer<T> inner) {
        this.inner = inner;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        inner.configure(configs, isKey);
    }

    /** @return null for null bytes (a tombstone), otherwise raw bytes plus the decoded value */
    @Override
    public RawAndDecoded<T> deserialize(String topic, byte[] data) {
        return data == null ? null : new RawAndDecoded<>(data, inner.deserialize(topic, data));
    }

    /** @return null for null bytes (a tombstone), otherwise raw bytes plus the decoded value */
    @Override
    public RawAndDecoded<T> deserialize(String topic, Headers headers, byte[] data) {
        return data == null ? null : new RawAndDecoded<>(data, inner.deserialize(topic, headers, data));
    }

    @Override
    public void close() {
        inner.close();
    }
}
