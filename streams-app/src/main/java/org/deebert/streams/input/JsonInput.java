package org.deebert.streams.input;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.Locale;
import org.apache.kafka.common.serialization.Deserializer;
import org.deebert.streams.schema.TextEvent;

/**
 * The {@code json} format: a value is one JSON object (UTF-8); the {@link FieldMapping}'s paths name members of
 * it and of the objects nested in it. Null bytes (a tombstone) read as null.
 */
final class JsonInput implements Deserializer<TextEvent> {

    private static final ObjectMapper JSON = JsonMapper.builder()
            // "{...} garbage" and {"text": 1, "text": 2} are not one clear object: refuse them rather than guess.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final FieldMapping mapping;

    /** @param mapping where the id, text and the rest are */
    JsonInput(FieldMapping mapping) {
        this.mapping = mapping;
    }

    /**
     * @return the event (id and event time null when not mapped), or null for null bytes
     * @throws InputFieldException UNDECODABLE_JSON (not JSON, not UTF-8, not an object), FIELD_MISSING, FIELD_TYPE
     */
    @Override
    public TextEvent deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        JsonNode root;
        try {
            root = JSON.readTree(data);
        } catch (JacksonException e) {
            // Jackson's own message quotes the offending characters: only the position is kept, never the text.
            JsonLocation at = e.getLocation();
            throw new InputFieldException(InputFieldException.Reason.UNDECODABLE_JSON, "value is not valid UTF-8 JSON ("
                    + e.getClass().getSimpleName() + (at == null ? "" : " at line " + at.getLineNr() + " column "
                    + at.getColumnNr()) + ")", null);
        } catch (IOException e) {
            throw new InputFieldException(InputFieldException.Reason.UNDECODABLE_JSON,
                    "value is not readable JSON (" + e.getClass().getSimpleName() + ")", null);
        }
        if (root == null || !root.isObject()) {
            throw new InputFieldException(InputFieldException.Reason.UNDECODABLE_JSON,
                    "value is " + kind(root) + ", not a JSON object", null);
        }
        return MappedFields.toEvent(new Fields(root), mapping);
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "empty";
        }
        return "a JSON " + node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** A JSON object seen through field paths. */
    private record Fields(JsonNode root) implements MappedFields {

        /** @return the node at the path, or null when missing or JSON null */
        private JsonNode at(FieldPath path) {
            JsonNode node = root;
            for (int i = 0; i < path.segments().size(); i++) {
                if (!node.isObject()) {
                    throw MappedFields.wrongType(path.prefix(i - 1), kind(node), "an object");
                }
                node = node.get(path.segments().get(i));
                if (node == null || node.isNull()) {
                    return null;
                }
            }
            return node;
        }

        @Override
        public String string(FieldPath path) {
            JsonNode node = at(path);
            if (node == null) {
                return null;
            }
            if (!node.isTextual()) {
                throw MappedFields.wrongType(path.toString(), kind(node), "a string");
            }
            return node.textValue();
        }

        @Override
        public String id(FieldPath path) {
            JsonNode node = at(path);
            if (node == null) {
                return null;
            }
            if (node.isTextual()) {
                return node.textValue();
            }
            if (node.isIntegralNumber()) {
                return node.bigIntegerValue().toString();
            }
            throw MappedFields.wrongType(path.toString(), kind(node), "a string or an integral number");
        }

        @Override
        public Long epochMillis(FieldPath path) {
            JsonNode node = at(path);
            if (node == null) {
                return null;
            }
            if (node.isIntegralNumber() && node.canConvertToLong()) {
                return node.longValue();
            }
            throw MappedFields.wrongType(path.toString(), kind(node), "an integral number of epoch milliseconds");
        }
    }
}
