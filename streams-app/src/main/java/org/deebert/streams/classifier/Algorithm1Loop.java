package org.deebert.streams.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.Arrays;
import java.util.List;

import org.deebert.streams.exit.ExitRule;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.OffRampScores;
import org.deebert.streams.model.SignatureNames;

/**
 * DeeBERT's Algorithm 1 (Xin et al. 2020, section 3.2) on one tokenized chunk, batched: {@code embed}, then
 * for each layer i: run {@code layer_i} on the live rows, read each row's off-ramp scores into Java, let the rows
 * the {@link ExitRule} accepts leave with off-ramp i's prediction, cut the rows that stay out of
 * {@code hidden_out} (B,T,H) and {@code attention_mask} (B,T) with a boolean mask, drop padding columns no
 * remaining row needs, and go on with layer i+1. Layer n's off-ramp takes whoever is left. Shadow samples
 * ({@link ShadowRecorder}) stay in the batch to layer n. Not thread-safe: {@link EarlyExitClassifier} serializes it.
 */
final class Algorithm1Loop {

    private final SignatureRunner runner;
    private final List<String> labels;

    /**
     * @param runner the model's signatures
     * @param labels label names in logit order (the model card's)
     */
    Algorithm1Loop(SignatureRunner runner, List<String> labels) {
        this.runner = runner;
        this.labels = labels;
    }

    /**
     * Runs one chunk. Every NDArray lives in one scope ({@link SignatureRunner#newScope()}) closed at the end.
     *
     * @param batch  the tokenized chunk
     * @param rule   the exit rule in force
     * @param shadow the chunk's shadow samples, or null for none
     * @param tally  receives each row's result at index {@code callIndex[row]}, the exits and the layer-rows run
     * @param callIndex per chunk row, its index in the call (a length bucket's rows need not be consecutive)
     */
    void run(BatchTokenizer.TokenizedBatch batch, ExitRule rule, ShadowRecorder shadow, BatchTally tally,
            int[] callIndex) {
        int numLayers = runner.numLayers();
        LayerScores scores = new LayerScores();
        try (NDManager scope = runner.newScope()) {
            NDArray mask = SignatureRunner.mask(scope, batch); // int32 (B,T)
            NDArray hidden = runner.embed(scope, batch, mask); // float32 (B,T,H)

            int[] chunkRow = identity(batch.rows()); // live row -> row in this chunk
            ExitScores.OffRamp[] previous = null; // off-ramp i-1 per live row, for DIVERGENCE and PATIENCE
            for (int layer = 1; layer <= numLayers; layer++) {
                NDList out = runner.layer(layer, hidden, mask);
                hidden.close();
                int live = chunkRow.length;
                tally.layerRows(live);
                float[] entropy = out.get(SignatureNames.ENTROPY).toFloatArray(); // (B') nats
                float[] probs = out.get(SignatureNames.PROBS).toFloatArray(); // (B',C) row-major
                int classes = probs.length / live;

                boolean[] keep = new boolean[live];
                ExitScores.OffRamp[] current = new ExitScores.OffRamp[live];
                scores.at(entropy, current, previous);
                int kept = 0;
                for (int r = 0; r < live; r++) {
                    ExitScores.OffRamp before = previous == null ? null : previous[r];
                    current[r] = ExitScores.next(before, Arrays.copyOfRange(probs, r * classes, (r + 1) * classes));
                    int row = chunkRow[r];
                    if (shadow != null && shadow.sampled(row)) {
                        // A shadow sample: traced at every layer, always kept; recorded once, at its policy exit.
                        shadow.trace(row, layer, current[r].label(), entropy[r], scores.divergence(r));
                        keep[r] = true;
                        kept++;
                        if (shadow.recorded(row)) {
                            tally.shadowLayerRow();
                            continue;
                        }
                    }
                    double score = rule.score(scores, r);
                    if (rule.exits(layer, current[r].label(), score)) {
                        tally.exit(callIndex[row], classification(current[r], layer, entropy[r], score,
                                batch.numTokens()[row]), layer);
                        if (shadow != null) {
                            shadow.markRecorded(row);
                        }
                    } else if (!keep[r]) {
                        keep[r] = true;
                        kept++;
                    }
                }
                NDArray hiddenOut = out.get(SignatureNames.HIDDEN_OUT);
                for (NDArray array : out) {
                    if (array != hiddenOut) {
                        array.close();
                    }
                }
                if (kept == 0 || layer == numLayers) {
                    break; // no row left (shadow samples stay to layer n), or none of them needs more layers
                }
                if (kept == live) {
                    hidden = hiddenOut;
                    previous = current;
                    continue;
                }
                NDArray keepMask = scope.create(keep); // bool (B')
                hidden = hiddenOut.booleanMask(keepMask); // (B'',T,H)
                NDArray keptMask = mask.booleanMask(keepMask); // (B'',T)
                hiddenOut.close();
                mask.close();
                keepMask.close();
                mask = keptMask;
                int[] nextRows = new int[kept];
                ExitScores.OffRamp[] nextPrevious = new ExitScores.OffRamp[kept];
                for (int r = 0, k = 0; r < live; r++) {
                    if (keep[r]) {
                        nextRows[k] = chunkRow[r];
                        nextPrevious[k++] = current[r];
                    }
                }
                chunkRow = nextRows;
                previous = nextPrevious;
                // Drop padding columns no remaining row needs, shadow samples included (results do not depend on
                // padding length).
                int seqLen = 0;
                for (int row : chunkRow) {
                    seqLen = Math.max(seqLen, batch.numTokens()[row]);
                }
                if (seqLen < mask.getShape().get(1)) {
                    NDArray shorterHidden = hidden.get(":, :" + seqLen); // (B'',T',H)
                    NDArray shorterMask = mask.get(":, :" + seqLen); // (B'',T')
                    hidden.close();
                    mask.close();
                    hidden = shorterHidden;
                    mask = shorterMask;
                }
            }
        }
        if (shadow != null) {
            shadow.attachTraces(tally, callIndex);
        }
    }

    private Classification classification(ExitScores.OffRamp offRamp, int exitLayer, double entropy, double score,
            int numTokens) {
        int best = offRamp.label();
        return new Classification(best, labels.get(best), offRamp.probs(), exitLayer, runner.numLayers(), entropy,
                score, numTokens);
    }

    private static int[] identity(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }

    /**
     * The live rows' scores at one layer, indexed by live row; one instance per chunk, pointed at each layer's
     * arrays in turn, so scoring allocates nothing. The divergence is computed only when read.
     */
    private static final class LayerScores implements OffRampScores {
        private float[] entropy;
        private ExitScores.OffRamp[] current;
        private ExitScores.OffRamp[] previous;

        /** Points at a layer's entropies (nats), off-ramps and the previous layer's off-ramps (null at layer 1). */
        void at(float[] entropy, ExitScores.OffRamp[] current, ExitScores.OffRamp[] previous) {
            this.entropy = entropy;
            this.current = current;
            this.previous = previous;
        }

        @Override
        public double entropy(int r) {
            return entropy[r];
        }

        @Override
        public double divergence(int r) {
            return ExitScores.divergence(current[r], previous == null ? null : previous[r]);
        }

        @Override
        public double streak(int r) {
            return current[r].streak();
        }
    }
}
