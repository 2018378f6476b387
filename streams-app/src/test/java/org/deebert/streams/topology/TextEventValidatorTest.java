package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.InvalidTextEventException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Instant;
import java.util.stream.Stream;
import org.deebert.streams.schema.TextEvent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One definition of an empty text for {@code EMPTY_TEXT}: no visible character, whether the text is made of
 * ASCII spaces, no-break or ideographic spaces, zero-width or bidi characters, NULs or a mix; a text with any
 * visible character is accepted, however many invisible ones surround or join it.
 */
class TextEventValidatorTest {

    private static final int MAX_CHARS = 100;

    static Stream<Arguments> emptyTexts() {
        return Stream.of(
                Arguments.of("empty", ""),
                Arguments.of("ASCII spaces, tab, line feed", "  \t \n "),
                Arguments.of("no-break spaces U+00A0, U+202F, U+2007", "\u00A0\u202F\u2007"),
                Arguments.of("ideographic spaces U+3000", "\u3000\u3000"),
                Arguments.of("zero-width U+200B, U+200C, U+200D, U+2060, U+FEFF", "\u200B\u200C\u200D\u2060\uFEFF"),
                Arguments.of("bidi marks U+200E, U+200F, U+202A-U+202E, U+2066-U+2069",
                        "\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069"),
                Arguments.of("NUL", "\u0000"),
                Arguments.of("NULs and other control characters", "\u0000\u0001\u001B\u007F\u0085\u0000"),
                Arguments.of("Hangul fillers U+115F, U+1160, U+3164, U+FFA0", "\u115F\u1160\u3164\uFFA0"),
                Arguments.of("variation selectors and the combining grapheme joiner", "\uFE0F\uFE00\u034F"),
                Arguments.of("mixed invisible", " \u00A0\u200B\u3000\u200F\u0000\uFEFF\t\u3164\uFE0F\u2066\n"));
    }

    static Stream<Arguments> visibleTexts() {
        return Stream.of(
                Arguments.of("ASCII word", "hello"),
                Arguments.of("a single CJK character", "\u4E2D"),
                Arguments.of("an emoji sequence joined by a zero-width joiner", "\uD83D\uDC69\u200D\uD83D\uDCBB"),
                Arguments.of("an emoji with variation selector 16", "\u2764\uFE0F"),
                Arguments.of("a word between zero-width spaces", "\u200Bspam\u200B"),
                Arguments.of("a word inside ideographic spaces", "\u3000win\u3000"),
                Arguments.of("a Hebrew word inside bidi isolates", "\u2067\u05E9\u05DC\u05D5\u05DD\u2069"),
                Arguments.of("one digit", "0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("emptyTexts")
    void aTextWithoutVisibleCharacterIsEmptyText(String name, String text) {
        assertThat(code(new TextEventValidator(MAX_CHARS, false), event(text, null))).isEqualTo(DeadLetterCode.EMPTY_TEXT);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("emptyTexts")
    void aTextPairWithoutVisibleCharacterIsEmptyText(String name, String pair) {
        assertThat(code(new TextEventValidator(MAX_CHARS, true), event("subject", pair))).isEqualTo(DeadLetterCode.EMPTY_TEXT);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("visibleTexts")
    void aTextWithAVisibleCharacterIsAccepted(String name, String text) {
        assertThatCode(() -> new TextEventValidator(MAX_CHARS, false).validate(event(text, null))).doesNotThrowAnyException();
        assertThatCode(() -> new TextEventValidator(MAX_CHARS, true).validate(event(text, text))).doesNotThrowAnyException();
    }

    private static DeadLetterCode code(TextEventValidator validator, TextEvent event) {
        InvalidTextEventException e = catchThrowableOfType(() -> validator.validate(event), InvalidTextEventException.class);
        assertThat(e).as("validation failure").isNotNull();
        return e.code();
    }

    private static TextEvent event(String text, String pair) {
        return TextEvent.newBuilder().setId("e1").setText(text).setTextPair(pair).setEventTime(Instant.EPOCH)
                .setSource("test").build();
    }
}
