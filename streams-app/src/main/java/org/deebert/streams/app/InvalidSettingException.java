package org.deebert.streams.app;

/**
 * A configuration the service cannot start with: an unknown key or {@code DEEBERT_*} variable, two keys that set
 * the same thing, or a value that is missing, malformed or out of range. The message is one line and names the
 * key (or variable); the command line prints it and exits 2.
 */
public final class InvalidSettingException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** @param message one line naming the key */
    public InvalidSettingException(String message) {
        super(oneLine(message));
    }

    /**
     * @param message one line naming the key
     * @param cause   the parse error behind it
     */
    public InvalidSettingException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    private static String oneLine(String message) {
        return message == null ? "invalid settings" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
