package org.deebert.streams.deadletter;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers no input may set on an output or dead-letter record: ours ({@value #OWN_PREFIX}*, e.g.
 * {@value DeadLetterCode#HEADER}) and Kafka Streams' dead-letter headers ({@value #STREAMS_ERRORS_PREFIX}*,
 * KIP-1034). Both only mean something when this service (or Kafka Streams) wrote them; copied from an input
 * they would let a producer mark a classified record as failed, or carry a stale code from a re-fed
 * dead-letter record. Header forwarding and the dead-letter headers both apply this one rule.
 */
public final class ReservedHeaders {

    /** Prefix of the headers this service writes (dead-letter code). */
    public static final String OWN_PREFIX = "deebert.";
    /** Prefix of Kafka Streams' dead-letter headers (KIP-1034), see {@link DeadLetterHeaders}. */
    public static final String STREAMS_ERRORS_PREFIX = "__streams.errors.";

    private ReservedHeaders() {
    }

    /**
     * @param key a header name
     * @return whether it is ours or Kafka Streams' error header, which no input may set on an output
     */
    public static boolean isReserved(String key) {
        return key.startsWith(OWN_PREFIX) || key.startsWith(STREAMS_ERRORS_PREFIX);
    }

    /**
     * @param input a record's headers (not modified), or null
     * @return a new set of its headers without the reserved ones, in input order
     */
    public static Headers withoutReserved(Headers input) {
        RecordHeaders out = new RecordHeaders();
        if (input != null) {
            for (Header h : input) {
                if (!isReserved(h.key())) {
                    out.add(h);
                }
            }
        }
        return out;
    }
}
