package org.deebert.streams.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record could not be converted between Avro objects and Confluent wire-format bytes. The
 * {@link Reason} lets a dead-letter handler say why without inspecting the message text.
 */
public class WireFormatException extends SerializationException {

    /** Why the conversion failed. */
    public enum Reason {
        /** The bytes do not start with the Confluent magic byte 0x00 and a 4-byte schema id. */
        NOT_WIRE_FORMAT,
        /** The schema id in the header is unknown to the Schema Registry (HTTP 404). */
        UNKNOWN_SCHEMA_ID,
        /** The Avro body does not decode with the writer schema, or cannot be resolved to the reader schema. */
        UNDECODABLE_AVRO,
        /**
         * A length or item count in the Avro body claims more than the rest of the record could hold (corrupt or
         * hostile bytes); found before Avro allocates anything for it, see {@link AvroLengthBounds}.
         */
        LENGTH_EXCEEDS_RECORD,
        /** The Schema Registry could not be reached, or answered with a server error. */
        REGISTRY_UNAVAILABLE,
        /** The Schema Registry refused to register the writer schema (incompatible: 409, invalid: 422). */
        SCHEMA_REJECTED
    }

    private final Reason reason;

    /**
     * @param reason  why the conversion failed
     * @param message what failed (topic, schema id), never the record's contents
     * @param cause   the underlying failure, or null
     */
    public WireFormatException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** @return why the conversion failed */
    public Reason getReason() {
        return reason;
    }
}
