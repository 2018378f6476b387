package org.deebert.streams.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.api.Test;

class StringInputTest {

    @Test
    void theValueIsTheTextAndTheIdAndTimeAreLeftToTheRecord() {
        TextEvent e = new StringInput().deserialize("in", "Cheap meds 💊, order today\n".getBytes(StandardCharsets.UTF_8));
        assertThat(e.getText()).isEqualTo("Cheap meds 💊, order today\n");
        assertThat(e.getId()).isNull();
        assertThat(e.getEventTime()).isNull();
        assertThat(e.getTextPair()).isNull();
        assertThat(new StringInput().deserialize("in", new byte[0]).getText()).isEmpty();
        assertThat(new StringInput().deserialize("in", null)).isNull();
    }

    @Test
    void bytesThatAreNotUtf8AreUndecodableTextNotReplacementCharacters() {
        byte[] latin1 = "café".getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> new StringInput().deserialize("in", latin1))
                .isInstanceOfSatisfying(InputFieldException.class,
                        e -> assertThat(e.reason()).isEqualTo(InputFieldException.Reason.UNDECODABLE_TEXT))
                .hasMessageStartingWith("value is not valid UTF-8");
    }
}
