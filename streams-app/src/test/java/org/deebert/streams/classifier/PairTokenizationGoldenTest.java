package org.deebert.streams.classifier;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Java's sentence-pair tokenization against the golden file Python writes ({@code python -m deebert_export golden},
 * {@code deebert_export/golden.py}): for every pair and truncation length, {@link BatchTokenizer} on the same
 * {@code tokenizer.json} (the committed default model's) must give Python's token ids and token type ids, one pair
 * at a time and in one padded batch. The cases include both texts too long with an odd token budget, where
 * longest-first truncation gives the extra token to the longer text.
 */
class PairTokenizationGoldenTest {

    /** From the module basedir (Maven runs tests there): the files model-export commits. */
    private static final Path MODEL_EXPORT = Path.of("..", "model-export");
    private static final Path GOLDEN = MODEL_EXPORT.resolve(Path.of("tests", "golden", "pair_tokens.json"));

    @Test
    void pairTokenIdsAndTypesEqualPythonsOneByOneAndInABatch() throws IOException {
        JsonNode doc = TinyModel.JSON.readTree(GOLDEN.toFile());
        assertThat(doc.get("format_version").asInt()).isEqualTo(1);
        Path tokenizerJson = MODEL_EXPORT.resolve(doc.get("tokenizer").asText());
        List<Integer> lengths = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            if (!lengths.contains(c.get("max_seq_length").asInt())) {
                lengths.add(c.get("max_seq_length").asInt());
            }
        }
        int checked = 0;
        for (int maxLen : lengths) {
            List<JsonNode> cases = new ArrayList<>();
            doc.get("cases").forEach(c -> {
                if (c.get("max_seq_length").asInt() == maxLen) {
                    cases.add(c);
                }
            });
            try (BatchTokenizer tokenizer = BatchTokenizer.open(tokenizerJson, maxLen)) {
                List<String> texts = cases.stream().map(c -> c.get("text").asText()).toList();
                List<String> pairs = cases.stream().map(c -> c.get("text_pair").asText()).toList();
                BatchTokenizer.TokenizedBatch batch = tokenizer.encodePairs(texts, pairs);
                for (int r = 0; r < cases.size(); r++) {
                    JsonNode c = cases.get(r);
                    String what = c.get("name").asText() + " at max " + maxLen;
                    long[] ids = longs(c.get("token_ids"));
                    long[] types = longs(c.get("token_type_ids"));
                    long[][] alone = tokenizer.pairTokenIds(texts.get(r), pairs.get(r));
                    assertThat(alone[0]).as("ids of %s", what).containsExactly(ids);
                    assertThat(alone[1]).as("type ids of %s", what).containsExactly(types);
                    assertThat(batch.numTokens()[r]).as("tokens of %s in a batch", what).isEqualTo(ids.length);
                    for (int t = 0; t < batch.seqLen(); t++) {
                        int at = r * batch.seqLen() + t;
                        assertThat((long) batch.inputIds()[at]).as("id %d of %s in a batch", t, what)
                                .isEqualTo(t < ids.length ? ids[t] : 0);
                        assertThat((long) batch.tokenTypeIds()[at]).as("type %d of %s in a batch", t, what)
                                .isEqualTo(t < types.length ? types[t] : 0);
                        assertThat(batch.mask()[at]).isEqualTo(t < ids.length ? 1 : 0);
                    }
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(doc.get("cases").size()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void singleTextBatchesCarryNoTokenTypeIds() {
        try (BatchTokenizer tokenizer = BatchTokenizer.open(TinyModel.dir().resolve("tokenizer.json"), 16)) {
            assertThat(tokenizer.encode(List.of("one text", "another")).tokenTypeIds()).isNull();
        }
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
