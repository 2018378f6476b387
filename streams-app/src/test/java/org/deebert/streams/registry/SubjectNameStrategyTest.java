package org.deebert.streams.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.avro.Schema;
import org.deebert.streams.schema.ClassifiedEvent;
import org.junit.jupiter.api.Test;

class SubjectNameStrategyTest {

    private final Schema schema = ClassifiedEvent.getClassSchema();

    @Test
    void acceptsConfluentsShortAndFullyQualifiedNames() {
        for (SubjectNameStrategy s : SubjectNameStrategy.values()) {
            assertThat(SubjectNameStrategy.parse(s.shortName())).isEqualTo(s);
            assertThat(SubjectNameStrategy.parse(" io.confluent.kafka.serializers.subject." + s.shortName() + " "))
                    .isEqualTo(s);
        }
        assertThat(SubjectNameStrategy.parse("io.confluent.kafka.serializers.subject.RecordNameStrategy"))
                .isEqualTo(SubjectNameStrategy.RECORD_NAME);
    }

    @Test
    void rejectsAnythingElseNamingTheChoices() {
        assertThatThrownBy(() -> SubjectNameStrategy.parse("com.example.MyStrategy"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy")
                .hasMessageContaining("com.example.MyStrategy");
        assertThatThrownBy(() -> SubjectNameStrategy.parse("topicnamestrategy")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SubjectNameStrategy.parse("org.other.TopicNameStrategy"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void namesSubjectsAsConfluentsStrategiesDo() {
        assertThat(SubjectNameStrategy.TOPIC_NAME.subject("out", false, schema)).isEqualTo("out-value");
        assertThat(SubjectNameStrategy.TOPIC_NAME.subject("out", true, schema)).isEqualTo("out-key");
        assertThat(SubjectNameStrategy.RECORD_NAME.subject("out", false, schema))
                .isEqualTo("org.deebert.streams.schema.ClassifiedEvent");
        assertThat(SubjectNameStrategy.RECORD_NAME.subject("out", true, schema))
                .isEqualTo("org.deebert.streams.schema.ClassifiedEvent");
        assertThat(SubjectNameStrategy.TOPIC_RECORD_NAME.subject("out", false, schema))
                .isEqualTo("out-org.deebert.streams.schema.ClassifiedEvent");
    }

    @Test
    void recordNameStrategiesNeedARecordSchema() {
        assertThatThrownBy(() -> SubjectNameStrategy.RECORD_NAME.subject("t", false, Schema.create(Schema.Type.STRING)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("record schema");
    }
}
