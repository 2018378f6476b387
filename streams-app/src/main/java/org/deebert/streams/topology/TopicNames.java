package org.deebert.streams.topology;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * The names of the six topics the service uses (see {@link Topics} for what a record on each means). The first
 * five come from the settings ({@code topic.input}, {@code topic.output}, {@code topic.control},
 * {@code topic.dead.letter}, {@code topic.telemetry}); the shadow-sample topic is internal and named after the
 * application id ({@link #shadowSamplesTopic(String)}).
 *
 * @param input         TextEvents to classify
 * @param output        ClassifiedEvents, one per good input record
 * @param control       compacted ThresholdControl topic, keyed by model name
 * @param deadLetter    input records that could not be classified, with their original bytes
 * @param telemetry     ExitTelemetry records, one per instance per interval, keyed by instance id
 * @param shadowSamples the internal shadow-sample topic, keyed by model name
 */
public record TopicNames(String input, String output, String control, String deadLetter, String telemetry,
                         String shadowSamples) {

    /** The application id of {@link #DEFAULTS}, as in the classpath defaults ({@code application.id}). */
    private static final String DEFAULT_APPLICATION_ID = "deebert-streams";

    /**
     * The default names: {@code text-events}, {@code text-events-classified}, {@code deebert-control},
     * {@code text-events-dlq}, {@code deebert-telemetry} and {@code deebert-streams-shadow-samples}.
     */
    public static final TopicNames DEFAULTS = new TopicNames("text-events", "text-events-classified",
            "deebert-control", "text-events-dlq", "deebert-telemetry", shadowSamplesTopic(DEFAULT_APPLICATION_ID));

    /**
     * @throws IllegalArgumentException if a name is null or blank, or two of the input, output, control and
     *                                  dead-letter topics share a name
     */
    public TopicNames {
        List<String> records = java.util.Arrays.asList(input, output, control, deadLetter);
        for (String name : java.util.Arrays.asList(input, output, control, deadLetter, telemetry, shadowSamples)) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("topic names must not be blank");
            }
        }
        if (new HashSet<>(records).size() != records.size()) {
            throw new IllegalArgumentException("the four topics must have distinct names, got " + records);
        }
    }

    /**
     * The service's internal shadow-sample topic. Shadow samples are keyed by model name, so a model's samples
     * all reach one partition and one instance's budget controller; the service creates the topic with one
     * partition at startup, like Kafka Streams' own internal topics, under the application id's prefix.
     *
     * @param applicationId the Streams application id
     * @return {@code <applicationId>-shadow-samples}
     * @throws NullPointerException if {@code applicationId} is null
     */
    public static String shadowSamplesTopic(String applicationId) {
        return Objects.requireNonNull(applicationId, "applicationId") + "-shadow-samples";
    }

    /**
     * @param applicationId the Streams application id
     * @return these names with the shadow-sample topic of {@code applicationId}
     */
    public TopicNames forApplication(String applicationId) {
        return new TopicNames(input, output, control, deadLetter, telemetry, shadowSamplesTopic(applicationId));
    }

    /** @return the topics whose deletion or re-creation is fatal to a running instance: input, output, control, dead letter */
    public List<String> watched() {
        return List.of(input, output, control, deadLetter);
    }
}
