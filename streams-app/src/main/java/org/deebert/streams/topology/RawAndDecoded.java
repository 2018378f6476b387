package org.deebert.streams.topology;

/**
 * A record value both as read from Kafka and as decoded. The classify processor keeps the raw bytes so
 * that a record can be buffered and, if it later fails in the classifier, dead-lettered byte for byte.
 *
 * @param raw     the value bytes exactly as consumed (never null: a null value is read as a null holder)
 * @param decoded the decoded value
 * @param <T>     the decoded type
 */
public record RawAndDecoded<T>(byte[] raw, T decoded) {
}
