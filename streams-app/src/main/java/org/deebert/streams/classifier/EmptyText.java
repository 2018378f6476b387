package org.deebert.streams.classifier;

/**
 * The one definition of an empty text, for the service's input checks (dead-letter code {@code EMPTY_TEXT}),
 * the classifier's own input checks and the benchmark: a text is empty when it has <b>no visible character</b>.
 * Every code point of an empty text is one of:
 * <ul>
 *   <li>a space or separator (general categories Zs, Zl, Zp): ASCII and ideographic spaces, the no-break spaces
 *       U+00A0, U+2007 and U+202F, U+2028/U+2029;</li>
 *   <li>a control character (Cc): NUL, tab, line feed, DEL, C1 controls;</li>
 *   <li>a format character (Cf): zero-width space, non-joiner and joiner (U+200B-U+200D), word joiner
 *       (U+2060), byte order mark (U+FEFF), soft hyphen, bidi marks and embeddings (U+200E, U+200F,
 *       U+202A-U+202E, U+2066-U+2069, U+061C);</li>
 *   <li>one of the other default-ignorable code points of Unicode, which render as nothing though their category
 *       is a letter or a mark: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the combining grapheme joiner
 *       (U+034F), the Khmer inherent vowels (U+17B4, U+17B5), the Mongolian free variation selectors
 *       (U+180B-U+180D, U+180F) and the variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF).</li>
 * </ul>
 * Such a text shows a reader nothing, and the model sees at most its special tokens and a few meaningless pieces
 * (an uncased WordPiece tokenizer drops controls, format characters and spaces; a byte-level BPE one does not),
 * so any label for it would say nothing about the text.
 * A text with any other code point is not empty, even when invisible characters surround it (an emoji sequence
 * joined by U+200D, a single CJK character, a lone combining mark). Python's
 * {@code deebert_export.texts.is_empty_text} applies the same rule to training data; both are checked against
 * {@code model-export/tests/golden/empty_texts.json}.
 */
public final class EmptyText {

    private EmptyText() {
    }

    /**
     * @param text a text, or null
     * @return true when {@code text} is null or has no visible character (see the class comment)
     */
    public static boolean is(String text) {
        if (text == null) {
            return true;
        }
        for (int i = 0; i < text.length(); ) {
            int codePoint = text.codePointAt(i);
            if (!invisible(codePoint)) {
                return false;
            }
            i += Character.charCount(codePoint);
        }
        return true;
    }

    /**
     * @param codePoint a Unicode code point
     * @return whether it renders as nothing: a space or separator, a control or format character, or another
     *     default-ignorable code point (see the class comment)
     */
    public static boolean invisible(int codePoint) {
        switch (Character.getType(codePoint)) {
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.CONTROL, Character.FORMAT:
                return true;
            default:
                break;
        }
        // Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) outside the categories above.
        return codePoint == 0x034F                          // combining grapheme joiner
                || codePoint == 0x115F || codePoint == 0x1160 // Hangul choseong and jungseong fillers
                || codePoint == 0x17B4 || codePoint == 0x17B5 // Khmer inherent vowels
                || (codePoint >= 0x180B && codePoint <= 0x180F) // Mongolian free variation selectors (and U+180E)
                || codePoint == 0x3164 || codePoint == 0xFFA0 // Hangul filler, halfwidth Hangul filler
                || (codePoint >= 0xFE00 && codePoint <= 0xFE0F) // variation selectors
                || (codePoint >= 0xE0100 && codePoint <= 0xE01EF); // variation selectors supplement
    }
}
