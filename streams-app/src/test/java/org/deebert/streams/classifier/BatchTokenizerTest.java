package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer's prefix shortcut against tokenizing whole texts with the same tokenizer.json: the ids must
 * be identical for texts long enough to take the shortcut, texts whose prefix holds too few tokens (the
 * fallback), and texts with no whitespace to cut at. Python parity of the ids on all 888 real test e-mails
 * is checked in tests/ (ClassifierParityTest).
 */
class BatchTokenizerTest {

    private static final int MAX_LEN = 48;

    @Test
    void prefixTokenizationGivesTheWholeTextsIds() throws IOException {
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

        Map<String, String> options = Map.of("addSpecialTokens", "true", "truncation", "true", "padding", "false",
                "maxLength", Integer.toString(MAX_LEN), "modelMaxLength", Integer.toString(MAX_LEN));
        try (BatchTokenizer batch = BatchTokenizer.open(TinyModel.dir().resolve("tokenizer.json"), MAX_LEN);
             HuggingFaceTokenizer whole = HuggingFaceTokenizer.newInstance(TinyModel.dir().resolve("tokenizer.json"), options)) {
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
