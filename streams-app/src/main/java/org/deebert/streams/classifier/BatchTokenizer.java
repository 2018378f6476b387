package org.deebert.streams.classifier;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Turns texts into the int32 (B,T) {@code input_ids} / {@code attention_mask} pair the {@code embed}
 * signature takes. Tokenizes exactly like Python's {@code tokenizers} with
 * {@code enable_truncation(max_seq_length)} on the same {@code tokenizer.json}: [CLS]/[SEP] added
 * (&lt;s&gt;/&lt;/s&gt; for a RoBERTa byte-level BPE tokenizer), longest-first truncation to {@code maxSeqLength}
 * tokens (special tokens included), no padding in the tokenizer. A batch is right-padded here
 * ({@link Tokens#pad}) to its longest row with id 0 and mask 0, for RoBERTa too (whose pad id is 1): the
 * model finds padding, and RoBERTa's position ids, from the mask alone.
 *
 * <p>Sentence pairs are encoded as BERT does and as Python's {@code tokenizer.encode(text, text_pair)}:
 * {@code [CLS] text [SEP] text_pair [SEP]}, token type ids 0 up to and including the first [SEP] and 1
 * after it, both texts truncated together longest-first to {@code maxSeqLength}.
 * Not thread-safe in intent: one per classifier (the native tokenizer itself is read-only).
 */
final class BatchTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final int maxSeqLength;

    private BatchTokenizer(HuggingFaceTokenizer tokenizer, int maxSeqLength) {
        this.tokenizer = tokenizer;
        this.maxSeqLength = maxSeqLength;
    }

    /**
     * @param tokenizerJson the Hugging Face {@code tokenizer.json}
     * @param maxSeqLength  truncation length in tokens, including [CLS] and [SEP]
     * @return a tokenizer configured as described above
     * @throws UncheckedIOException if the file cannot be read
     */
    static BatchTokenizer open(Path tokenizerJson, int maxSeqLength) {
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "true", // LONGEST_FIRST, as Python's enable_truncation default
                "padding", "false", // padding is done in encode(), to the longest row of the batch
                "maxLength", Integer.toString(maxSeqLength),
                "modelMaxLength", Integer.toString(maxSeqLength));
        try {
            return new BatchTokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson, options), maxSeqLength);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + tokenizerJson, e);
        }
    }

    /**
     * Token ids of one text, truncated, with [CLS]/[SEP].
     *
     * @param text non-null text
     * @return the token ids, at most {@code maxSeqLength} of them
     */
    long[] tokenIds(String text) {
        return ids(List.of(text))[0];
    }

    /**
     * Token ids and token type ids of one sentence pair, truncated, with [CLS] and both [SEP]s.
     *
     * @param text     the first text, non-null
     * @param textPair the second text, non-null
     * @return {@code {ids, typeIds}}, equally long, at most {@code maxSeqLength}
     */
    long[][] pairTokenIds(String text, String textPair) {
        Encoding encoding = tokenizer.encode(text, textPair);
        return new long[][] {encoding.getIds(), encoding.getTypeIds()};
    }

    /**
     * Chars of a text's prefix that are tokenized first; at ~2-5 chars per WordPiece token on real e-mail it
     * nearly always holds max_seq_length tokens.
     */
    private int prefixChars() {
        return 8 * maxSeqLength;
    }

    /**
     * Token ids of each text, exactly as encoding the whole text gives them, but tokenizing only a prefix
     * where that provably gives the same ids: the model keeps only the first max_seq_length tokens, and a
     * 100,000-char text would otherwise be tokenized whole (0.9 ms per 1.5 k-char e-mail on 2 cores).
     *
     * <p>Why it is exact: the prefix ends with an ASCII letter or digit that an ASCII whitespace char follows
     * in the text. BERT's normaliser works char by char and its pre-tokenizer splits at whitespace; RoBERTa's
     * byte-level pre-tokenizer (GPT-2's pattern) never puts a letter or digit and a following whitespace
     * char in one piece. Either way every piece before the cut is the same as in the whole text, and so are
     * its tokens, in the same order. A cut inside a whitespace run would not be exact for byte-level BPE:
     * the whole text's run can be one longer piece (e.g. one "ĠĠ" token where the prefix ends in "Ġ").
     * If the prefix alone fills max_seq_length (after truncation), its tokens are the whole text's first
     * tokens. Otherwise the whole text is tokenized after all.
     */
    private long[][] ids(List<String> texts) {
        int rows = texts.size();
        List<String> prefixes = new ArrayList<>(rows);
        boolean[] cut = new boolean[rows];
        for (int r = 0; r < rows; r++) {
            String text = texts.get(r);
            int end = text.length() <= prefixChars() ? -1 : lastWordEnd(text, prefixChars());
            cut[r] = end > 0;
            prefixes.add(cut[r] ? text.substring(0, end) : text);
        }
        long[][] ids = encodeAll(prefixes);
        List<Integer> redo = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            if (cut[r] && ids[r].length < maxSeqLength) {
                redo.add(r); // the prefix held too few tokens to prove anything: tokenize the whole text
            }
        }
        if (!redo.isEmpty()) {
            long[][] whole = encodeAll(redo.stream().map(texts::get).toList());
            for (int i = 0; i < whole.length; i++) {
                ids[redo.get(i)] = whole[i];
            }
        }
        return ids;
    }

    /** One native call for a batch: the Rust tokenizer encodes the texts in parallel (0.57 vs 0.93 ms per e-mail). */
    private long[][] encodeAll(List<String> texts) {
        Encoding[] encodings = texts.size() == 1 ? new Encoding[] {tokenizer.encode(texts.get(0))}
                : tokenizer.batchEncode(texts);
        long[][] ids = new long[encodings.length][];
        for (int r = 0; r < ids.length; r++) {
            ids[r] = encodings[r].getIds();
        }
        return ids;
    }

    /**
     * @return the last index i before {@code limit} where ' ', '\t', '\n' or '\r' follows an ASCII letter or
     *     digit (so {@code text.substring(0, i)} ends with that letter or digit), or -1
     */
    private static int lastWordEnd(String text, int limit) {
        for (int i = Math.min(limit, text.length()) - 1; i > 0; i--) {
            char c = text.charAt(i);
            if ((c == ' ' || c == '\t' || c == '\n' || c == '\r') && isAsciiLetterOrDigit(text.charAt(i - 1))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /**
     * Tokenizes inputs {@code from..to-1} of a call and pads them as one batch ({@link OffRampProbe}'s chunks).
     *
     * @param texts     the call's texts (first texts of pairs)
     * @param textPairs the call's second texts, as many, or null
     * @param from      first input, inclusive
     * @param to        last input, exclusive
     * @return the padded chunk
     */
    TokenizedBatch encode(List<String> texts, List<String> textPairs, int from, int to) {
        Tokens tokens = tokenize(texts.subList(from, to), textPairs == null ? null : textPairs.subList(from, to));
        return tokens.pad(IntStream.range(0, to - from).toArray());
    }

    /**
     * Tokenizes and right-pads a batch of single texts.
     *
     * @param texts non-null, non-empty texts (checked by the caller)
     * @return the padded batch, without token type ids
     */
    TokenizedBatch encode(List<String> texts) {
        return encode(texts, null, 0, texts.size());
    }

    /**
     * Tokenizes and right-pads a batch of sentence pairs ({@link #tokenize}).
     *
     * @param texts     the first texts, non-null and non-empty (checked by the caller)
     * @param textPairs the second texts, as many, non-null and non-empty
     * @return the padded batch with token type ids
     * @throws IllegalArgumentException if the lists differ in size
     */
    TokenizedBatch encodePairs(List<String> texts, List<String> textPairs) {
        return tokenize(texts, textPairs).pad(IntStream.range(0, texts.size()).toArray());
    }

    /**
     * Tokenizes every input of a call, unpadded: single texts ({@code textPairs} null) with the prefix shortcut
     * ({@link #ids}), or sentence pairs. Pairs are tokenized whole: the prefix shortcut is not exact for pairs,
     * because longest-first truncation compares the two texts' full token counts (which text keeps the odd token
     * when both are long).
     *
     * @param texts     the texts (first texts of pairs), non-null and non-empty (checked by the caller)
     * @param textPairs the second texts, as many, non-null and non-empty; or null for single texts
     * @return each input's token ids (and type ids of pairs), in input order
     * @throws IllegalArgumentException if the lists differ in size
     */
    Tokens tokenize(List<String> texts, List<String> textPairs) {
        if (textPairs == null) {
            return new Tokens(ids(texts), null);
        }
        if (texts.size() != textPairs.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + textPairs.size() + " text pairs");
        }
        Encoding[] encodings;
        if (texts.size() == 1) {
            encodings = new Encoding[] {tokenizer.encode(texts.get(0), textPairs.get(0))};
        } else {
            encodings = tokenizer.batchEncode(new PairList<>(texts, textPairs));
        }
        long[][] ids = new long[encodings.length][];
        long[][] types = new long[encodings.length][];
        for (int r = 0; r < encodings.length; r++) {
            ids[r] = encodings[r].getIds();
            types[r] = encodings[r].getTypeIds();
        }
        return new Tokens(ids, types);
    }

    /**
     * The unpadded tokens of a call's inputs, from which any subset is padded into one batch.
     *
     * @param ids     per input, its token ids, at most max_seq_length
     * @param typeIds per input, its token type ids (sentence pairs), as long as its ids; null for single texts
     */
    record Tokens(long[][] ids, long[][] typeIds) {

        /** @return per input, its token count ([CLS]/[SEP] included) */
        int[] numTokens() {
            int[] counts = new int[ids.length];
            for (int r = 0; r < ids.length; r++) {
                counts[r] = ids[r].length;
            }
            return counts;
        }

        /**
         * Right-pads the given inputs with 0 to the longest of them.
         *
         * @param rows indices of the inputs, in the order of the batch's rows
         * @return the padded batch; its row r is input {@code rows[r]}
         */
        TokenizedBatch pad(int[] rows) {
            int seqLen = 1;
            for (int row : rows) {
                seqLen = Math.max(seqLen, ids[row].length);
            }
            int[] inputIds = new int[rows.length * seqLen];
            int[] mask = new int[rows.length * seqLen];
            int[] types = typeIds == null ? null : new int[rows.length * seqLen];
            int[] numTokens = new int[rows.length];
            for (int r = 0; r < rows.length; r++) {
                long[] rowIds = ids[rows[r]];
                numTokens[r] = rowIds.length;
                for (int t = 0; t < rowIds.length; t++) {
                    inputIds[r * seqLen + t] = Math.toIntExact(rowIds[t]);
                    mask[r * seqLen + t] = 1;
                    if (types != null) {
                        types[r * seqLen + t] = Math.toIntExact(typeIds[rows[r]][t]);
                    }
                }
            }
            return new TokenizedBatch(rows.length, seqLen, inputIds, mask, types, numTokens);
        }
    }

    /** @return truncation length in tokens, including [CLS] and [SEP] */
    int maxSeqLength() {
        return maxSeqLength;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * A right-padded batch, row-major.
     *
     * @param rows      B
     * @param seqLen    T, the longest row's token count
     * @param inputIds  int32 (B,T) token ids, 0 after each row's end
     * @param mask      int32 (B,T) attention mask, 1 for real tokens, 0 for padding
     * @param tokenTypeIds int32 (B,T) token type ids of sentence pairs (0 for [CLS] text [SEP], 1 for
     *                  text_pair [SEP], 0 for padding); null for single texts
     * @param numTokens per row, real tokens including [CLS] and [SEP]
     */
    record TokenizedBatch(int rows, int seqLen, int[] inputIds, int[] mask, int[] tokenTypeIds, int[] numTokens) {
    }
}
