package org.deebert.streams.registry;

import org.apache.avro.Schema;

/**
 * Which Schema Registry subject a record's schema belongs to, as Confluent's serializers name it with
 * {@code key.subject.name.strategy} / {@code value.subject.name.strategy}. Used by {@link SpecificAvroSerializer}
 * and by the service's start-up registration, so both always agree on the subject.
 */
public enum SubjectNameStrategy {

    /** {@code <topic>-key} or {@code <topic>-value}: one schema (and its versions) per topic. Confluent's default. */
    TOPIC_NAME("TopicNameStrategy"),
    /** The record's full name, e.g. {@code org.deebert.streams.schema.ClassifiedEvent}, whatever the topic. */
    RECORD_NAME("RecordNameStrategy"),
    /** {@code <topic>-<record full name>}: several record types per topic, versions kept per topic. */
    TOPIC_RECORD_NAME("TopicRecordNameStrategy");

    /** Package of Confluent's strategy classes, accepted in front of the short names. */
    public static final String CONFLUENT_PACKAGE = "io.confluent.kafka.serializers.subject.";

    private final String shortName;

    SubjectNameStrategy(String shortName) {
        this.shortName = shortName;
    }

    /** @return Confluent's class name without its package, e.g. {@code TopicNameStrategy} */
    public String shortName() {
        return shortName;
    }

    /**
     * @param value a short name ({@code TopicNameStrategy}, {@code RecordNameStrategy},
     *              {@code TopicRecordNameStrategy}) or Confluent's fully qualified class name
     *              ({@code io.confluent.kafka.serializers.subject.TopicNameStrategy}, ...); surrounding blanks ignored
     * @return the strategy
     * @throws IllegalArgumentException naming the accepted values when {@code value} is none of them
     */
    public static SubjectNameStrategy parse(String value) {
        String name = value.trim();
        if (name.startsWith(CONFLUENT_PACKAGE)) {
            name = name.substring(CONFLUENT_PACKAGE.length());
        }
        for (SubjectNameStrategy s : values()) {
            if (s.shortName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("must be TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy"
                + " (optionally prefixed with " + CONFLUENT_PACKAGE + "; no other strategy class is supported), got "
                + value.trim());
    }

    /**
     * @param topic  the topic the record is written to
     * @param isKey  true for the record's key, false for its value
     * @param schema the record's schema; a record schema for the record-name strategies
     * @return the subject
     * @throws IllegalArgumentException when a record-name strategy is given a schema that is not a named record
     */
    public String subject(String topic, boolean isKey, Schema schema) {
        return switch (this) {
            case TOPIC_NAME -> topic + (isKey ? "-key" : "-value");
            case RECORD_NAME -> recordName(schema);
            case TOPIC_RECORD_NAME -> topic + "-" + recordName(schema);
        };
    }

    private String recordName(Schema schema) {
        if (schema.getType() != Schema.Type.RECORD) {
            throw new IllegalArgumentException(shortName + " needs a record schema, got " + schema.getType());
        }
        return schema.getFullName();
    }
}
