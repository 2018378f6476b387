package org.deebert.streams.input;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The input side of the settings: {@code input.format}, the {@code input.field.*} mapping and
 * {@code output.include.text}.
 *
 * @param format      the input topic's value format
 * @param mapping     the field mapping; non-null exactly for {@code avro} and {@code json}
 * @param includeText whether output records carry the text and text pair ({@code output.include.text})
 */
public record InputSettings(InputFormat format, FieldMapping mapping, boolean includeText) {

    /** The format key. */
    public static final String FORMAT_KEY = "input.format";
    /** The id field's key. */
    public static final String ID_KEY = "input.field.id";
    /** The text field's key. */
    public static final String TEXT_KEY = "input.field.text";
    /** The text pair field's key. */
    public static final String TEXT_PAIR_KEY = "input.field.text_pair";
    /** The tenant field's key. */
    public static final String TENANT_KEY = "input.field.tenant";
    /** The event-time field's key. */
    public static final String EVENT_TIME_KEY = "input.field.event_time";
    /** Whether outputs carry the text. */
    public static final String INCLUDE_TEXT_KEY = "output.include.text";

    /** Today's behaviour: TextEvent input, texts copied into the output. */
    public static final InputSettings TEXT_EVENT = new InputSettings(InputFormat.TEXT_EVENT, null, true);

    /** @throws IllegalArgumentException if the mapping is missing for avro/json or present for another format */
    public InputSettings {
        if (format == null) {
            throw new IllegalArgumentException(FORMAT_KEY + " is missing");
        }
        if (format.mapsFields() != (mapping != null)) {
            throw new IllegalArgumentException(format.mapsFields()
                    ? "input.format=" + format.key() + " needs a field mapping (" + TEXT_KEY + ")"
                    : "input.format=" + format.key() + " takes no field mapping");
        }
    }

    /**
     * Reads the input settings. A key whose value is absent or blank counts as not set.
     *
     * @param setting the merged settings, key to value (null when absent)
     * @param envName the environment variable of a key, for error messages
     * @return the settings
     * @throws IllegalArgumentException with one line naming the key (and its environment variable): an unknown
     *     format; {@code input.field.text} missing for {@code avro}/{@code json}; an {@code input.field.*} key set
     *     with {@code text-event} or {@code string}; a path with an empty segment; {@code output.include.text} not
     *     {@code true}/{@code false}
     */
    public static InputSettings parse(Function<String, String> setting, Function<String, String> envName) {
        String formatValue = value(setting, FORMAT_KEY);
        InputFormat format;
        try {
            format = formatValue == null ? InputFormat.TEXT_EVENT : InputFormat.parse(formatValue);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where(FORMAT_KEY, envName) + " " + e.getMessage(), e);
        }
        Map<String, FieldPath> paths = new LinkedHashMap<>();
        for (String key : new String[] {ID_KEY, TEXT_KEY, TEXT_PAIR_KEY, TENANT_KEY, EVENT_TIME_KEY}) {
            String v = value(setting, key);
            if (v == null) {
                continue;
            }
            if (!format.mapsFields()) {
                throw new IllegalArgumentException(where(key, envName) + " is set, but input.format=" + format.key()
                        + " takes no field mapping (only avro and json do)");
            }
            try {
                paths.put(key, FieldPath.parse(v));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where(key, envName) + ": " + e.getMessage(), e);
            }
        }
        FieldMapping mapping = null;
        if (format.mapsFields()) {
            if (!paths.containsKey(TEXT_KEY)) {
                throw new IllegalArgumentException(where(TEXT_KEY, envName) + " is missing: input.format="
                        + format.key() + " needs the path of the text to classify");
            }
            mapping = new FieldMapping(paths.get(ID_KEY), paths.get(TEXT_KEY), paths.get(TEXT_PAIR_KEY),
                    paths.get(TENANT_KEY), paths.get(EVENT_TIME_KEY));
        }
        String include = value(setting, INCLUDE_TEXT_KEY);
        boolean includeText;
        if (include == null) {
            // TextEvent producers have always had their texts back; other topics' owners opt in.
            includeText = format == InputFormat.TEXT_EVENT;
        } else if (include.equalsIgnoreCase("true") || include.equalsIgnoreCase("false")) {
            includeText = Boolean.parseBoolean(include.toLowerCase(java.util.Locale.ROOT));
        } else {
            throw new IllegalArgumentException(where(INCLUDE_TEXT_KEY, envName) + " must be true or false, got " + include);
        }
        return new InputSettings(format, mapping, includeText);
    }

    private static String value(Function<String, String> setting, String key) {
        String v = setting.apply(key);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static String where(String key, Function<String, String> envName) {
        return "setting " + key + " (env " + envName.apply(key) + ")";
    }
}
