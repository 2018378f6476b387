package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

class JsonInputTest {

    private static final FieldMapping FULL = new FieldMapping(FieldPath.parse("meta.id"),
            FieldPath.parse("post.body.text"), FieldPath.parse("post.title"), FieldPath.parse("org"),
            FieldPath.parse("meta.ts"));

    private static TextEvent read(FieldMapping mapping, String json) {
        return new JsonInput(mapping).deserialize("in", json.getBytes(StandardCharsets.UTF_8));
    }

    private static void fails(FieldMapping mapping, String json, InputFieldException.Reason reason, String message) {
        assertThatThrownBy(() -> read(mapping, json)).as(json)
                .isInstanceOfSatisfying(InputFieldException.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
    }

    @Test
    void everyMappedFieldIsReadFromNestedObjects() {
        TextEvent e = read(FULL, """
                {"meta": {"id": "c-1", "ts": 1700000000123}, "org": "acme",
                 "post": {"title": "Re: lunch", "body": {"text": "see you at noon ☕", "lang": "en"}}, "extra": [1, 2]}""");
        assertThat(e.getId()).isEqualTo("c-1");
        assertThat(e.getText()).isEqualTo("see you at noon ☕");
        assertThat(e.getTextPair()).isEqualTo("Re: lunch");
        assertThat(e.getTenant()).isEqualTo("acme");
        assertThat(e.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
        assertThat(e.getSource()).isNull();
        assertThat(e.getAttributes()).isEmpty();
    }

    @Test
    void optionalFieldsMayBeAbsentOrNullAndUnmappedOnesAreLeftToTheRecord() {
        TextEvent e = read(FULL, """
                {"meta": {"id": 12345678901234567890}, "post": {"title": null, "body": {"text": "hi"}}}""");
        assertThat(e.getId()).as("an integral id in decimal").isEqualTo("12345678901234567890");
        assertThat(e.getTextPair()).isNull();
        assertThat(e.getTenant()).isNull();
        assertThat(e.getEventTime()).isNull();
        TextEvent bare = read(FieldMapping.textOnly(FieldPath.parse("text")), "{\"text\": \"hi\"}");
        assertThat(bare.getId()).isNull();
        assertThat(bare.getEventTime()).isNull();
    }

    @Test
    void aRequiredFieldAbsentOrNullIsFieldMissingNamingThePath() {
        fails(FULL, "{\"meta\": {\"id\": \"c\"}, \"post\": {\"body\": {}}}", InputFieldException.Reason.FIELD_MISSING,
                "input field 'post.body.text' (input.field.text) is missing or null");
        fails(FULL, "{\"meta\": {\"id\": \"c\"}, \"post\": null}", InputFieldException.Reason.FIELD_MISSING,
                "'post.body.text'");
        fails(FULL, "{\"meta\": {\"id\": null}, \"post\": {\"body\": {\"text\": \"t\"}}}",
                InputFieldException.Reason.FIELD_MISSING, "input field 'meta.id' (input.field.id) is missing or null");
    }

    @Test
    void aWrongTypeIsFieldTypeNamingThePathAndNeverTheValue() {
        fails(FULL, "{\"meta\": {\"id\": \"c\"}, \"post\": {\"body\": {\"text\": 42}}}",
                InputFieldException.Reason.FIELD_TYPE, "input field 'post.body.text' is a JSON number, not a string");
        fails(FULL, "{\"meta\": {\"id\": \"c\"}, \"post\": {\"body\": \"secret words\"}}",
                InputFieldException.Reason.FIELD_TYPE, "input field 'post.body' is a JSON string, not an object");
        fails(FULL, "{\"meta\": {\"id\": true}, \"post\": {\"body\": {\"text\": \"t\"}}}",
                InputFieldException.Reason.FIELD_TYPE, "'meta.id' is a JSON boolean");
        fails(FULL, "{\"meta\": {\"id\": \"c\", \"ts\": \"2024-01-01\"}, \"post\": {\"body\": {\"text\": \"t\"}}}",
                InputFieldException.Reason.FIELD_TYPE, "'meta.ts' is a JSON string, not an integral number");
        fails(FULL, "{\"meta\": {\"id\": \"c\", \"ts\": 1.5}, \"post\": {\"body\": {\"text\": \"t\"}}}",
                InputFieldException.Reason.FIELD_TYPE, "'meta.ts' is a JSON number");
        fails(FULL, "{\"meta\": {\"id\": \"c\"}, \"org\": 7, \"post\": {\"body\": {\"text\": \"t\"}}}",
                InputFieldException.Reason.FIELD_TYPE, "'org' is a JSON number");
        assertThatThrownBy(() -> read(FULL, "{\"meta\": {\"id\": \"c\"}, \"post\": {\"body\": \"secret words\"}}"))
                .message().doesNotContain("secret");
    }

    @Test
    void bytesThatAreNotOneJsonObjectAreUndecodableJson() {
        FieldMapping text = FieldMapping.textOnly(FieldPath.parse("text"));
        for (String bad : new String[] {"", "not json at all", "[1, 2]", "\"just a string\"", "42", "null",
                "{\"text\": \"a\"} trailing", "{\"text\": \"a\", \"text\": \"b\"}", "{\"text\": \"unterminated"}) {
            assertThatThrownBy(() -> read(text, bad)).as(bad)
                    .isInstanceOfSatisfying(InputFieldException.class,
                            e -> assertThat(e.reason()).isEqualTo(InputFieldException.Reason.UNDECODABLE_JSON))
                    .message().doesNotContain("trailing").doesNotContain("unterminated").doesNotContain("just a");
        }
        byte[] latin1 = "{\"text\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> new JsonInput(text).deserialize("in", latin1))
                .isInstanceOfSatisfying(InputFieldException.class,
                        e -> assertThat(e.reason()).isEqualTo(InputFieldException.Reason.UNDECODABLE_JSON));
    }

    @Test
    void aTombstoneReadsAsNull() {
        assertThat(new JsonInput(FULL).deserialize("in", null)).isNull();
    }
}
