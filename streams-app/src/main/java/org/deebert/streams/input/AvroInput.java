package org.deebert.streams.input;

import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.deebert.streams.schema.TextEvent;

/**
 * The {@code avro} format: a value is any Avro record in the Confluent wire format, decoded with its writer's
 * schema from the registry ({@code registry.GenericAvroDeserializer}); the {@link FieldMapping}'s paths name fields
 * of it and of the records (or maps) nested in it, through nullable unions. Null bytes (a tombstone) read as null.
 */
final class AvroInput implements Deserializer<TextEvent> {

    private final Deserializer<Object> avro;
    private final FieldMapping mapping;

    /**
     * @param avro    decodes the wire format with the writer's schema
     * @param mapping where the id, text and the rest are
     */
    AvroInput(Deserializer<Object> avro, FieldMapping mapping) {
        this.avro = avro;
        this.mapping = mapping;
    }

    /**
     * @return the event (id and event time null when not mapped), or null for null bytes
     * @throws org.deebert.streams.registry.WireFormatException as the wire-format decoder throws it (not wire format,
     *     unknown schema id, undecodable body, registry unavailable)
     * @throws InputFieldException FIELD_MISSING, or FIELD_TYPE (also when the value is not a record)
     */
    @Override
    public TextEvent deserialize(String topic, byte[] data) {
        return map(avro.deserialize(topic, data));
    }

    @Override
    public TextEvent deserialize(String topic, Headers headers, byte[] data) {
        return map(avro.deserialize(topic, headers, data));
    }

    private TextEvent map(Object datum) {
        if (datum == null) {
            return null;
        }
        if (!(datum instanceof GenericRecord record)) {
            throw new InputFieldException(InputFieldException.Reason.FIELD_TYPE, "the value is an Avro "
                    + GenericData.get().induce(datum).getType().getName() + ", not a record: input field '"
                    + mapping.text() + "' cannot be in it", null);
        }
        return MappedFields.toEvent(new Fields(record), mapping);
    }

    /** A value at the end of a path with the schema that describes it (the union branch it took). */
    private record Typed(Object value, Schema schema) {
    }

    /** A generic record seen through field paths. */
    private record Fields(GenericRecord root) implements MappedFields {

        private Typed at(FieldPath path) {
            Object value = root;
            Schema schema = root.getSchema();
            for (int i = 0; i < path.segments().size(); i++) {
                String name = path.segments().get(i);
                if (value instanceof GenericRecord record) {
                    Schema.Field field = record.getSchema().getField(name);
                    if (field == null) {
                        return null;
                    }
                    value = record.get(field.pos());
                    schema = field.schema();
                } else if (value instanceof Map<?, ?> map && schema.getType() == Schema.Type.MAP) {
                    // Generic maps are keyed by Utf8.
                    Object v = map.get(new Utf8(name));
                    value = v != null ? v : map.get(name);
                    schema = schema.getValueType();
                } else {
                    throw MappedFields.wrongType(path.prefix(i - 1), describe(schema), "a record or a map");
                }
                if (value == null) {
                    return null;
                }
                schema = branch(schema, value);
            }
            return new Typed(value, schema);
        }

        /** @return the branch of a union that {@code value} was read as; other schemas unchanged */
        private static Schema branch(Schema schema, Object value) {
            return schema.getType() == Schema.Type.UNION
                    ? schema.getTypes().get(GenericData.get().resolveUnion(schema, value)) : schema;
        }

        @Override
        public String string(FieldPath path) {
            Typed t = at(path);
            if (t == null) {
                return null;
            }
            if (!(t.value() instanceof CharSequence s)) {
                throw MappedFields.wrongType(path.toString(), describe(t.schema()), "a string");
            }
            return s.toString();
        }

        @Override
        public String id(FieldPath path) {
            Typed t = at(path);
            if (t == null) {
                return null;
            }
            if (t.value() instanceof CharSequence s) {
                return s.toString();
            }
            if ((t.value() instanceof Integer || t.value() instanceof Long) && t.schema().getLogicalType() == null) {
                return t.value().toString();
            }
            throw MappedFields.wrongType(path.toString(), describe(t.schema()), "a string, int or long");
        }

        @Override
        public Long epochMillis(FieldPath path) {
            Typed t = at(path);
            if (t == null) {
                return null;
            }
            LogicalType logical = t.schema().getLogicalType();
            if (t.value() instanceof Long millis
                    && (logical == null || logical instanceof LogicalTypes.TimestampMillis)) {
                return millis;
            }
            throw MappedFields.wrongType(path.toString(), describe(t.schema()),
                    "a long or timestamp-millis (epoch milliseconds)");
        }

        private static String describe(Schema schema) {
            String type = "an Avro " + schema.getType().getName();
            return schema.getLogicalType() == null ? type : type + " (" + schema.getLogicalType().getName() + ")";
        }
    }
}
