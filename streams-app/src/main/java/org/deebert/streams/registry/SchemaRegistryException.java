package org.deebert.streams.registry;

/**
 * A Schema Registry request failed: the registry answered with an error status, or could not be
 * reached at all. Unchecked, because callers (serializers inside Kafka Streams) cannot recover
 * locally; they translate it into a {@link WireFormatException} with a reason.
 */
public class SchemaRegistryException extends RuntimeException {

    /** {@link #statusCode()} when no HTTP response arrived (connection refused, timeout, bad body). */
    public static final int NO_RESPONSE = -1;

    private final int statusCode;

    /**
     * @param statusCode the HTTP status of the registry's answer, or {@link #NO_RESPONSE}
     * @param message    what was asked and what went wrong (never record contents)
     * @param cause      the underlying failure, or null
     */
    public SchemaRegistryException(int statusCode, String message, Throwable cause) {
        super(message, cause);
        this.statusCode = statusCode;
    }

    /** @return the HTTP status of the registry's answer, or {@link #NO_RESPONSE} if none arrived */
    public int statusCode() {
        return statusCode;
    }

    /** @return true when the registry said the subject, version or schema id does not exist (HTTP 404) */
    public boolean isNotFound() {
        return statusCode == 404;
    }

    /** @return true when the registry rejected a schema as incompatible with the subject's history (HTTP 409) */
    public boolean isIncompatible() {
        return statusCode == 409;
    }

    /**
     * @return true when the failure is on the registry's side or on the way to it (no response, or a 5xx
     *     status), so that retrying later may succeed
     */
    public boolean isUnavailable() {
        return statusCode == NO_RESPONSE || statusCode >= 500;
    }
}
