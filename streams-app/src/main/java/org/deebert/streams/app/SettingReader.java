package org.deebert.streams.app;

import java.util.Properties;

/**
 * Typed reading of one settings key from the merged properties (classpath defaults, file, environment). Every
 * error names the key, and for a missing value also its environment variable ({@link AppSettings#envName}).
 */
final class SettingReader {

    private final Properties p;

    /** @param p the merged properties */
    SettingReader(Properties p) {
        this.p = p;
    }

    /**
     * @param key the key
     * @return its value, trimmed, or {@code fallback} when absent
     */
    String optional(String key, String fallback) {
        return p.getProperty(key, fallback).trim();
    }

    /**
     * @param key the key
     * @return the value as given, untrimmed, or null: for error messages
     */
    String raw(String key) {
        return p.getProperty(key);
    }

    /**
     * @param key the key
     * @return its value, trimmed
     * @throws IllegalArgumentException if it is absent or blank
     */
    String required(String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("setting " + key + " (env " + AppSettings.envName(key) + ") is missing");
        }
        return v.trim();
    }

    /**
     * @param key the key
     * @return its value: {@code true} or {@code false}, in any case
     * @throws IllegalArgumentException if it is missing or another word
     */
    boolean bool(String key) {
        String v = required(key);
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException("setting " + key + " must be true or false, got " + v);
    }

    /**
     * @param key the key
     * @return its value, an integer &ge; 1
     * @throws IllegalArgumentException if it is missing or not a positive integer
     */
    int positiveInt(String key) {
        try {
            int v = Integer.parseInt(required(key));
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting " + key + " must be a positive integer, got " + p.getProperty(key));
        }
    }

    /**
     * @param key the key
     * @return its value, a TCP port in 0..65535 (0 = any free port)
     * @throws IllegalArgumentException if it is missing or out of range
     */
    int port(String key) {
        long v = nonNegativeLong(key);
        if (v > 65535) {
            throw new IllegalArgumentException("setting " + key + " must be a port in 0..65535, got " + p.getProperty(key));
        }
        return (int) v;
    }

    /**
     * @param key the key
     * @return its value, an integer &ge; 0
     * @throws IllegalArgumentException if it is missing or not an integer &ge; 0
     */
    long nonNegativeLong(String key) {
        try {
            long v = Long.parseLong(required(key));
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting " + key + " must be an integer >= 0, got " + p.getProperty(key));
        }
    }
}
