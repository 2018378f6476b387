package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.deebert.streams.registry.ConfluentWireFormat;
import org.deebert.streams.registry.GenericAvroDeserializer;
import org.deebert.streams.registry.InMemorySchemaRegistryClient;
import org.deebert.streams.registry.WireFormatException;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

/** The avro format on an in-memory registry (the real registry and Apicurio's serde: InputFormatsE2ETest). */
class AvroInputTest {

    private static final Schema TS = LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
    private static final Schema CONTENT = SchemaBuilder.record("Content").fields().requiredString("text").endRecord();
    private static final Schema BODY = SchemaBuilder.record("Body").fields()
            .name("content").type().unionOf().nullType().and().type(CONTENT).endUnion().nullDefault()
            .optionalString("subject")
            .endRecord();
    private static final Schema META = SchemaBuilder.record("Meta").fields()
            .requiredLong("comment_id").name("created").type(TS).noDefault()
            .name("labels").type().map().values().stringType().noDefault()
            .endRecord();
    private static final Schema COMMENT = SchemaBuilder.record("Comment").namespace("com.example").fields()
            .name("meta").type(META).noDefault()
            .name("body").type(BODY).noDefault()
            .optionalString("tenant")
            .requiredInt("likes")
            .endRecord();

    private static final FieldMapping FULL = new FieldMapping(FieldPath.parse("meta.comment_id"),
            FieldPath.parse("body.content.text"), FieldPath.parse("body.subject"), FieldPath.parse("meta.labels.org"),
            FieldPath.parse("meta.created"));

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    private static GenericRecord comment(String text, String subject) {
        GenericRecord content = new GenericData.Record(CONTENT);
        content.put("text", text);
        GenericRecord body = new GenericData.Record(BODY);
        body.put("content", text == null ? null : content);
        body.put("subject", subject);
        GenericRecord meta = new GenericData.Record(META);
        meta.put("comment_id", 7_000_000_001L);
        meta.put("created", 1_700_000_000_123L);
        meta.put("labels", Map.of("org", "acme"));
        GenericRecord c = new GenericData.Record(COMMENT);
        c.put("meta", meta);
        c.put("body", body);
        c.put("tenant", null);
        c.put("likes", 3);
        return c;
    }

    private byte[] frame(GenericRecord record) {
        int id = registry.register("in-value", record.getSchema());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        try {
            new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return ConfluentWireFormat.frame(id, bytes.toByteArray());
    }

    private TextEvent read(FieldMapping mapping, GenericRecord record) {
        return new AvroInput(new GenericAvroDeserializer(registry), mapping).deserialize("in", frame(record));
    }

    private void fails(FieldMapping mapping, GenericRecord record, InputFieldException.Reason reason, String message) {
        assertThatThrownBy(() -> read(mapping, record))
                .isInstanceOfSatisfying(InputFieldException.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
    }

    @Test
    void fieldsAreReadThroughNestedRecordsUnionsAndMaps() {
        TextEvent e = read(FULL, comment("great post, thanks", "Re: the release"));
        assertThat(e.getId()).isEqualTo("7000000001");
        assertThat(e.getText()).isEqualTo("great post, thanks");
        assertThat(e.getTextPair()).isEqualTo("Re: the release");
        assertThat(e.getTenant()).isEqualTo("acme");
        assertThat(e.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
    }

    @Test
    void optionalFieldsMayBeNullOrAbsentFromTheSchema() {
        FieldMapping mapping = new FieldMapping(null, FieldPath.parse("body.content.text"),
                FieldPath.parse("body.subject"), FieldPath.parse("no_such_field"), null);
        TextEvent e = read(mapping, comment("hello", null));
        assertThat(e.getTextPair()).isNull();
        assertThat(e.getTenant()).isNull();
        assertThat(e.getId()).isNull();
        assertThat(e.getEventTime()).isNull();
    }

    @Test
    void aRequiredFieldAbsentFromTheSchemaOrNullIsFieldMissing() {
        fails(FieldMapping.textOnly(FieldPath.parse("body.content.txt")), comment("hello", null),
                InputFieldException.Reason.FIELD_MISSING, "input field 'body.content.txt' (input.field.text) is missing");
        fails(FULL, comment(null, "s"), InputFieldException.Reason.FIELD_MISSING, "'body.content.text'");
        fails(new FieldMapping(FieldPath.parse("meta.nope"), FieldPath.parse("body.content.text"), null, null, null),
                comment("hello", null), InputFieldException.Reason.FIELD_MISSING, "'meta.nope' (input.field.id)");
    }

    @Test
    void aWrongTypeIsFieldTypeNamingThePathAndTheAvroType() {
        fails(FieldMapping.textOnly(FieldPath.parse("likes")), comment("hello", null),
                InputFieldException.Reason.FIELD_TYPE, "input field 'likes' is an Avro int, not a string");
        fails(FieldMapping.textOnly(FieldPath.parse("body.content.text.more")), comment("hello", null),
                InputFieldException.Reason.FIELD_TYPE, "input field 'body.content.text' is an Avro string, not a record or a map");
        fails(new FieldMapping(null, FieldPath.parse("body.content.text"), null, null, FieldPath.parse("likes")),
                comment("hello", null), InputFieldException.Reason.FIELD_TYPE, "'likes' is an Avro int, not a long");
        fails(new FieldMapping(FieldPath.parse("body"), FieldPath.parse("body.content.text"), null, null, null),
                comment("hello", null), InputFieldException.Reason.FIELD_TYPE, "'body' is an Avro record");
    }

    @Test
    void aPlainLongIsEpochMillisButTimestampMicrosIsNot() {
        Schema micros = LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
        Schema s = SchemaBuilder.record("E").fields().requiredString("text").requiredLong("ms")
                .name("us").type(micros).noDefault().endRecord();
        GenericRecord r = new GenericData.Record(s);
        r.put("text", "t");
        r.put("ms", 42L);
        r.put("us", 42_000L);
        assertThat(read(new FieldMapping(null, FieldPath.parse("text"), null, null, FieldPath.parse("ms")), r)
                .getEventTime()).isEqualTo(Instant.ofEpochMilli(42));
        fails(new FieldMapping(null, FieldPath.parse("text"), null, null, FieldPath.parse("us")), r,
                InputFieldException.Reason.FIELD_TYPE, "'us' is an Avro long (timestamp-micros)");
    }

    @Test
    void aValueThatIsNotARecordIsFieldTypeAndWireFormatErrorsPassThrough() {
        int id = registry.register("in-value", Schema.create(Schema.Type.STRING));
        byte[] framedString = ConfluentWireFormat.frame(id, new byte[] {2, 'h'});
        AvroInput input = new AvroInput(new GenericAvroDeserializer(registry), FieldMapping.textOnly(FieldPath.parse("text")));
        assertThatThrownBy(() -> input.deserialize("in", framedString))
                .isInstanceOfSatisfying(InputFieldException.class,
                        e -> assertThat(e.reason()).isEqualTo(InputFieldException.Reason.FIELD_TYPE))
                .hasMessageContaining("not a record");
        assertThatThrownBy(() -> input.deserialize("in", "{\"text\": 1}".getBytes()))
                .isInstanceOfSatisfying(WireFormatException.class,
                        e -> assertThat(e.getReason()).isEqualTo(WireFormatException.Reason.NOT_WIRE_FORMAT));
        assertThat(input.deserialize("in", null)).isNull();
    }
}
