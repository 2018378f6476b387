package org.deebert.streams.topology;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * One Kafka topic as the topology sees it: its name and the serdes of its keys and values.
 *
 * @param name       the topic name
 * @param keySerde   serde of record keys
 * @param valueSerde serde of record values
 * @param <K>        key type
 * @param <V>        value type
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    /** @throws NullPointerException if any argument is null */
    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
    }
}
