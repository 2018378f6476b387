package org.deebert.streams.deadletter;


/**
 * A TextEvent that must not be classified (no id, empty or too long text). Thrown by the classify
 * processor so that Kafka Streams' processing exception handler sends the record to the dead-letter
 * topic. The message never contains the text.
 */
public class InvalidTextEventException extends RuntimeException {

    private final DeadLetterCode code;

    /**
     * @param code    why the event is invalid
     * @param message a description without the event's text
     */
    public InvalidTextEventException(DeadLetterCode code, String message) {
        super(message);
        this.code = code;
    }

    /** @return why the event is invalid */
    public DeadLetterCode code() {
        return code;
    }
}
