package org.deebert.streams.input;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Deserializer;
import org.deebert.streams.schema.TextEvent;

/**
 * The {@code string} format: the value's bytes are the UTF-8 text itself. The id (the key) and event time (the
 * record timestamp) are left null for {@link RecordFallbacks#complete}. Null bytes (a tombstone) read as null.
 */
final class StringInput implements Deserializer<TextEvent> {

    /**
     * @return the event, or null for null bytes
     * @throws InputFieldException UNDECODABLE_TEXT when the bytes are not valid UTF-8 (replacement characters
     *     would change the text the model sees without anyone noticing)
     */
    @Override
    public TextEvent deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data)).toString();
        } catch (CharacterCodingException e) {
            throw new InputFieldException(InputFieldException.Reason.UNDECODABLE_TEXT,
                    "value is not valid UTF-8 (" + e.getClass().getSimpleName() + ")", null);
        }
        return MappedFields.event(null, text, null, null, null);
    }
}
