package org.deebert.streams.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.registry.SchemaRegistryException;
import org.deebert.streams.registry.SerializerSettings;
import org.deebert.streams.registry.SubjectNameStrategy;
import org.deebert.streams.schema.ClassifiedEvent;
import org.deebert.streams.schema.ExitTelemetry;
import org.deebert.streams.schema.ThresholdControl;
import org.deebert.streams.topology.TopicNames;
import org.deebert.streams.topology.Topics;
import org.junit.jupiter.api.Test;

class SchemaRegistrationTest {

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final TopicNames names = TopicNames.DEFAULTS;

    private void registerAll(SerializerSettings settings) {
        SchemaRegistration.registerAll(registry, Topics.create(names, registry, settings), settings);
    }

    @Test
    void registersTheSubjectsTheServiceWritesAndNeverTheProducersInputSubject() {
        registerAll(SerializerSettings.DEFAULT);

        assertThat(registry.subjects()).containsExactlyInAnyOrder(names.output() + "-value", names.control() + "-value",
                names.telemetry() + "-value");
        assertThat(registry.subjects()).doesNotContain(names.input() + "-value");
    }

    @Test
    void followsTheValueSubjectNameStrategy() {
        registerAll(new SerializerSettings(true, false, SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.RECORD_NAME));

        assertThat(registry.subjects()).containsExactlyInAnyOrder(ClassifiedEvent.getClassSchema().getFullName(),
                ThresholdControl.getClassSchema().getFullName(), ExitTelemetry.getClassSchema().getFullName());
    }

    @Test
    void withRegistrationOffAMissingSubjectFailsTheStartNamingItAndRegistersNothing() {
        SerializerSettings off = new SerializerSettings(false, false, SubjectNameStrategy.TOPIC_NAME,
                SubjectNameStrategy.TOPIC_NAME);

        assertThatThrownBy(() -> registerAll(off)).isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("subject " + names.output() + "-value")
                .hasMessageContaining("auto.register.schemas is false");
        assertThat(registry.subjects()).isEmpty();
    }

    @Test
    void withRegistrationOffSubjectsRegisteredAheadAreFoundWithoutRegistering() {
        registry.register(names.output() + "-value", ClassifiedEvent.getClassSchema());
        registry.register(names.control() + "-value", ThresholdControl.getClassSchema());
        registry.register(names.telemetry() + "-value", ExitTelemetry.getClassSchema());
        int before = registry.registrations();

        registerAll(new SerializerSettings(false, false, SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.TOPIC_NAME));

        assertThat(registry.registrations()).isEqualTo(before);
    }
}
