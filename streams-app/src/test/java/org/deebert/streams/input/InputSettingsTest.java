package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InputSettingsTest {

    private static InputSettings parse(Map<String, String> settings) {
        return InputSettings.parse(settings::get, key -> "DEEBERT_" + key.toUpperCase().replace('.', '_'));
    }

    private static Map<String, String> of(String... keysAndValues) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    @Test
    void nothingSetIsTextEventWithTheTextInTheOutput() {
        assertThat(parse(of())).isEqualTo(InputSettings.TEXT_EVENT);
        // The defaults file lists every key with an empty value: the same as not set.
        assertThat(parse(of("input.format", "text-event", "input.field.text", " ", "output.include.text", "")))
                .isEqualTo(InputSettings.TEXT_EVENT);
    }

    @Test
    void avroAndJsonReadEveryMappedPathAndLeaveTheTextOutByDefault() {
        InputSettings json = parse(of("input.format", "JSON", "input.field.text", "post.body.text",
                "input.field.id", "meta.id", "input.field.text_pair", "title", "input.field.tenant", "org",
                "input.field.event_time", "meta.ts"));
        assertThat(json.format()).isEqualTo(InputFormat.JSON);
        assertThat(json.includeText()).isFalse();
        assertThat(json.mapping()).isEqualTo(new FieldMapping(FieldPath.parse("meta.id"),
                FieldPath.parse("post.body.text"), FieldPath.parse("title"), FieldPath.parse("org"),
                FieldPath.parse("meta.ts")));
        InputSettings avro = parse(of("input.format", "avro", "input.field.text", "text", "output.include.text", "true"));
        assertThat(avro.mapping()).isEqualTo(FieldMapping.textOnly(FieldPath.parse("text")));
        assertThat(avro.includeText()).isTrue();
    }

    @Test
    void stringTakesNoMappingAndTextEventMayDropTheText() {
        assertThat(parse(of("input.format", "string"))).isEqualTo(new InputSettings(InputFormat.STRING, null, false));
        assertThat(parse(of("output.include.text", "FALSE")).includeText()).isFalse();
    }

    @Test
    void anUnknownFormatFailsNamingTheKeyAndTheFormats() {
        assertThatThrownBy(() -> parse(of("input.format", "protobuf")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("setting input.format (env DEEBERT_INPUT_FORMAT) must be one of text-event, avro, json, "
                        + "string, got protobuf");
    }

    @Test
    void avroOrJsonWithoutATextPathFails() {
        for (String format : new String[] {"avro", "json"}) {
            assertThatThrownBy(() -> parse(of("input.format", format, "input.field.id", "id")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("setting input.field.text (env DEEBERT_INPUT_FIELD_TEXT) is missing")
                    .hasMessageContaining("input.format=" + format);
        }
    }

    @Test
    void aFieldKeyWithTextEventOrStringFailsNamingTheKey() {
        assertThatThrownBy(() -> parse(of("input.field.text", "body")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("setting input.field.text (env DEEBERT_INPUT_FIELD_TEXT) is set, but "
                        + "input.format=text-event takes no field mapping");
        assertThatThrownBy(() -> parse(of("input.format", "string", "input.field.tenant", "org")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("setting input.field.tenant (env DEEBERT_INPUT_FIELD_TENANT) is set, but "
                        + "input.format=string");
    }

    @Test
    void anEmptyPathSegmentFailsNamingTheKey() {
        assertThatThrownBy(() -> parse(of("input.format", "json", "input.field.text", "post..text")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("setting input.field.text (env DEEBERT_INPUT_FIELD_TEXT): empty field name in path "
                        + "'post..text'");
        assertThatThrownBy(() -> parse(of("input.format", "avro", "input.field.text", "t",
                "input.field.event_time", "meta.")))
                .hasMessageStartingWith("setting input.field.event_time (env DEEBERT_INPUT_FIELD_EVENT_TIME)");
    }

    @Test
    void includeTextMustBeABoolean() {
        assertThatThrownBy(() -> parse(of("output.include.text", "yes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("setting output.include.text (env DEEBERT_OUTPUT_INCLUDE_TEXT) must be true or false, got yes");
    }
}
