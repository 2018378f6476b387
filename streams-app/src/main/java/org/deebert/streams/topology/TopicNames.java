package org.deebert.streams.topology;

import java.util.HashSet;
import java.util.List;

/**
 * The names of the four topics the service uses (see {@link Topics} for what a record on each means).
 *
 * @param input      TextEvents to classify
 * @param output     ClassifiedEvents, one per good input record
 * @param control    compacted ThresholdControl topic, keyed by model name
 * @param deadLetter input records that could not be classified, with their original bytes
 */
public record TopicNames(String input, String output, String control, String deadLetter) {

    /** The default names: {@code text-events}, {@code text-events-classified}, {@code deebert-control}, {@code text-events-dlq}. */
    public static final TopicNames DEFAULTS =
            new TopicNames("text-events", "text-events-classified", "deebert-control", "text-events-dlq");

    /** @throws IllegalArgumentException if a name is null or blank, or two topics share a name */
    public TopicNames {
        List<String> all = java.util.Arrays.asList(input, output, control, deadLetter);
        for (String name : all) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("topic names must not be blank");
            }
        }
        if (new HashSet<>(all).size() != all.size()) {
            throw new IllegalArgumentException("the four topics must have distinct names, got " + all);
        }
    }
}
