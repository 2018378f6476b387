/**
 * The Confluent Schema Registry's REST API ({@link org.deebert.streams.registry.ConfluentSchemaRegistryClient},
 * with its HTTP transport in {@link org.deebert.streams.registry.SchemaRegistryHttp}) and the Confluent wire format
 * (magic byte 0, 4-byte big-endian schema id, Avro binary body) for Avro specific records. Our own code because no
 * Confluent client jar is on Maven Central; checked against the real registry and Apicurio's serde. Depends on no
 * other package of the service.
 */
package org.deebert.streams.registry;
