package org.deebert.streams.registry;

import org.apache.avro.Schema;

/**
 * One version of a subject as the Schema Registry holds it ({@code GET /subjects/{subject}/versions/latest}).
 *
 * @param subject the subject
 * @param id      the registry-wide schema id
 * @param version the version number within the subject (1 = first)
 * @param schema  the Avro schema
 */
public record RegisteredSchema(String subject, int id, int version, Schema schema) {
}
