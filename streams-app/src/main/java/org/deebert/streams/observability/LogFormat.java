package org.deebert.streams.observability;

import java.util.Map;

/**
 * The log format the packaged {@code logback.xml} writes: {@code text} (one human-readable line per event, the
 * default) or {@code json} (one JSON object per line, logback's {@code JsonEncoder}, for log collectors). Chosen
 * by the environment variable or system property {@value #KEY}; logback reads it itself (its appender is named
 * after the value), so this class only refuses a value logback would silently turn into no logging at all.
 */
public enum LogFormat {
    TEXT, JSON;

    /** The setting's name, as environment variable or Java system property (the property wins, as in logback). */
    public static final String KEY = "DEEBERT_LOG_FORMAT";

    /**
     * @param systemProperty the system property {@value #KEY}, or null
     * @param environment    the process environment
     * @return the format in force
     * @throws IllegalArgumentException naming {@value #KEY} when the value is neither {@code text} nor {@code json}
     */
    public static LogFormat resolve(String systemProperty, Map<String, String> environment) {
        String value = systemProperty != null ? systemProperty : environment.get(KEY);
        if (value == null || value.equals("text")) {
            return TEXT;
        }
        if (value.equals("json")) {
            return JSON;
        }
        throw new IllegalArgumentException(KEY + " must be text or json, not '" + value + "'");
    }

    /**
     * @return the format of this process
     * @throws IllegalArgumentException naming {@value #KEY} when its value is neither {@code text} nor {@code json}
     */
    public static LogFormat ofThisProcess() {
        return resolve(System.getProperty(KEY), System.getenv());
    }
}
