package org.deebert.streams.input;

import java.util.List;

/**
 * A dotted path to a field of a nested value: {@code post.body.text} names field {@code text} of the record (or
 * object, or map) in field {@code body} of the one in field {@code post} of the value. Field names are case
 * sensitive; a name that itself holds a dot cannot be named.
 *
 * @param segments the field names, outermost first; at least one, none empty
 */
public record FieldPath(List<String> segments) {

    /** @throws IllegalArgumentException if there is no segment or one is empty */
    public FieldPath {
        segments = List.copyOf(segments);
        if (segments.isEmpty()) {
            throw new IllegalArgumentException("a field path needs at least one field name");
        }
        for (String s : segments) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty field name in path '" + String.join(".", segments) + "'");
            }
        }
    }

    /**
     * @param dotted e.g. {@code post.body.text}; surrounding blanks ignored
     * @return the path
     * @throws IllegalArgumentException if the path is blank or has an empty segment ({@code a..b}, {@code .a},
     *     {@code a.}); the message quotes the path
     */
    public static FieldPath parse(String dotted) {
        String trimmed = dotted.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty field path");
        }
        // limit -1 keeps trailing empty strings, so "a." is caught as well as "a..b".
        String[] parts = trimmed.split("\\.", -1);
        for (String part : parts) {
            if (part.isEmpty()) {
                throw new IllegalArgumentException("empty field name in path '" + trimmed + "'");
            }
        }
        return new FieldPath(List.of(parts));
    }

    /** @return the path up to and including segment {@code index} (0-based), dotted */
    public String prefix(int index) {
        return String.join(".", segments.subList(0, index + 1));
    }

    /** @return the dotted path */
    @Override
    public String toString() {
        return String.join(".", segments);
    }
}
