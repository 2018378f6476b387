package org.deebert.streams.topology;

import org.apache.kafka.common.header.Headers;

/**
 * One input record waiting in the batch buffer (a changelogged state store) to be classified.
 *
 * @param key       the record key bytes exactly as consumed, or null
 * @param rawValue  the value bytes exactly as consumed (Confluent wire format)
 * @param timestamp the record timestamp, ms since the epoch
 * @param headers   the record headers
 * @param topic     the topic it was read from
 * @param partition the partition it was read from
 * @param offset    its offset there
 */
public record BufferedRecord(byte[] key, byte[] rawValue, long timestamp, Headers headers,
                             String topic, int partition, long offset) {
}
