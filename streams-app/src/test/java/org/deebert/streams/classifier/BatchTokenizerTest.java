package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tokenizer's prefix shortcut against tokenizing whole texts with the same tokenizer.json: the ids must
 * be identical for texts long enough to take the shortcut, texts whose prefix holds too few tokens (the
 * fallback), and texts with no whitespace to cut at; for the BERT WordPiece tokenizer and the RoBERTa
 * byte-level BPE one. Python parity of the ids on all 888 real test e-mails is checked in tests/
 * (ClassifierParityTest).
 */
class BatchTokenizerTest {

    private static final int MAX_LEN = 48;

    static Stream<Path> tokenizers() {
        return Stream.of(TinyModel.dir(), TinyModel.robertaDir()).map(dir -> dir.resolve("tokenizer.json"));
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void prefixTokenizationGivesTheWholeTextsIds(Path tokenizerJson) throws IOException {
        List<String> texts = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            words.append(i % 7 == 0 ? "Grüße, naïve café!\t" : "unbelievably-long_tokenisation words ").append(i).append('\n');
        }
        texts.add(words.toString()); // long: the prefix path
        texts.add(" ".repeat(2_000) + "few words after a long run of spaces"); // prefix holds no token: fallback
        texts.add("x".repeat(5_000)); // no whitespace to cut at: whole text
        texts.add("short text"); // shorter than the prefix: whole text
        texts.add("ab ".repeat(300) + "\u0301accent after the cut"); // combining mark after whitespace
        // 45 one-token words, spaces, then a word across the prefix end (8 x 48 = 384 chars): the words before
        // the cut hold too few tokens, so the whole text decides; a cut inside the word would have kept "un".
        texts.add("ab ".repeat(45) + " ".repeat(380 - 135) + "unbelievable and more words after it");
        // A whitespace run across the prefix end, after j short words. Byte-level BPE makes the whole text's
        // run one piece ending before "tail", so a prefix cut inside the run ends in a shorter piece with
        // other tokens; the tiny RoBERTa tokenizer has tokens of up to 63 spaces, so for some j that piece's
        // tokens are among the first MAX_LEN and a cut inside the run gave wrong ids.
        for (int j = 0; j < 2 * MAX_LEN; j++) {
            for (int extra = 0; extra <= 64; extra += 8) {
                texts.add("the" + " the".repeat(j) + " ".repeat(8 * MAX_LEN - 3 - 4 * j + extra) + "tail words");
            }
        }

        Map<String, String> options = Map.of("addSpecialTokens", "true", "truncation", "true", "padding", "false",
                "maxLength", Integer.toString(MAX_LEN), "modelMaxLength", Integer.toString(MAX_LEN));
        try (BatchTokenizer batch = BatchTokenizer.open(tokenizerJson, MAX_LEN);
             HuggingFaceTokenizer whole = HuggingFaceTokenizer.newInstance(tokenizerJson, options)) {
            BatchTokenizer.TokenizedBatch encoded = batch.encode(texts);
            for (int r = 0; r < texts.size(); r++) {
                long[] expected = whole.encode(texts.get(r)).getIds();
                assertThat(batch.tokenIds(texts.get(r))).as("text %d alone", r).containsExactly(expected);
                assertThat(encoded.numTokens()[r]).as("text %d in a batch", r).isEqualTo(expected.length);
                for (int t = 0; t < expected.length; t++) {
                    assertThat((long) encoded.inputIds()[r * encoded.seqLen() + t]).isEqualTo(expected[t]);
                }
            }
        }
    }
}
