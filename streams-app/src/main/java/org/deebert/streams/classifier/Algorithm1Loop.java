package org.deebert.streams.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.deebert.streams.exit.ExitRule;
import org.deebert.streams.exit.ExitScores;
import org.deebert.streams.exit.OffRampScores;
import org.deebert.streams.model.SignatureNames;

/**
 * DeeBERT's Algorithm 1 (Xin et al. 2020, section 3.2) on the chunks of one call, batched and in lock-step:
 * {@code embed} each chunk, then for each layer i: merge groups of live rows where one TF call is cheaper than
 * several ({@link GroupMerge}), run {@code layer_i} on each group, read each row's off-ramp scores into Java, let
 * the rows the {@link ExitRule} accepts leave with off-ramp i's prediction, cut the rows that stay out of
 * {@code hidden_out} (B,T,H) and {@code attention_mask} (B,T) and drop padding columns no remaining row needs
 * ({@link LiveGroup#survivors}), and go on with layer i+1. Layer n's off-ramp takes whoever is left. Shadow samples
 * ({@link ShadowRecorder}) stay in their group to layer n.
 *
 * <p>Why lock-step: a layer call has a fixed cost worth about 50 token-rows on CPU ({@link GroupMerge}), so once
 * early exit has thinned the length buckets of a call, each bucket's few survivors would pay a whole call per
 * layer; merged, they pay one. Each chunk starts as its own group, so a call of one chunk is one group throughout.
 * Not thread-safe: {@link EarlyExitClassifier} serializes it.
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
     * Runs chunks in lock-step. Every NDArray lives in one scope ({@link SignatureRunner#newScope()}) closed at the
     * end, so the chunks together should hold at most max batch size rows (one chunk's memory).
     *
     * @param chunks    the tokenized chunks
     * @param callIndex per chunk, per chunk row, its index in the call (a length bucket's rows need not be
     *                  consecutive)
     * @param rule      the exit rule in force
     * @param shadow    the call's shadow samples, indexed by call index, or null for none
     * @param tally     receives each row's result at its call index, the exits, the layer calls and layer-rows run
     * @param maxRows   the most rows one layer call may take when groups merge (max batch size)
     */
    void run(List<BatchTokenizer.TokenizedBatch> chunks, List<int[]> callIndex, ExitRule rule, ShadowRecorder shadow,
            BatchTally tally, int maxRows) {
        int numLayers = runner.numLayers();
        LayerScores scores = new LayerScores();
        try (NDManager scope = runner.newScope()) {
            List<LiveGroup> groups = new ArrayList<>(chunks.size());
            for (int c = 0; c < chunks.size(); c++) {
                BatchTokenizer.TokenizedBatch batch = chunks.get(c);
                NDArray mask = SignatureRunner.mask(scope, batch); // int32 (B,T)
                NDArray hidden = runner.embed(scope, batch, mask); // float32 (B,T,H)
                groups.add(new LiveGroup(hidden, mask, callIndex.get(c), batch.numTokens(), null));
            }
            for (int layer = 1; layer <= numLayers && !groups.isEmpty(); layer++) {
                List<LiveGroup> next = new ArrayList<>(groups.size());
                for (LiveGroup group : merged(scope, groups, maxRows)) {
                    LiveGroup survivors = runLayer(scope, layer, group, rule, shadow, tally, scores);
                    if (survivors != null) {
                        next.add(survivors);
                    }
                }
                groups = next;
            }
        }
    }

    /** @return the groups to run at the next layer, merged per {@link GroupMerge} (each chunk alone if one) */
    private static List<LiveGroup> merged(NDManager scope, List<LiveGroup> groups, int maxRows) {
        if (groups.size() == 1) {
            return groups;
        }
        int[] rows = groups.stream().mapToInt(LiveGroup::rows).toArray();
        int[] seqLen = groups.stream().mapToInt(LiveGroup::seqLen).toArray();
        List<LiveGroup> merged = new ArrayList<>();
        for (int[] run : GroupMerge.plan(rows, seqLen, maxRows, GroupMerge.CALL_COST_TOKEN_ROWS)) {
            merged.add(LiveGroup.merge(scope, Arrays.stream(run).mapToObj(groups::get).toList()));
        }
        return merged;
    }

    /**
     * Runs one layer on one group and records the rows that leave.
     *
     * @return the rows that go on to the next layer, or null when none does (or this was layer n)
     */
    private LiveGroup runLayer(NDManager scope, int layer, LiveGroup group, ExitRule rule, ShadowRecorder shadow,
            BatchTally tally, LayerScores scores) {
        NDList out = runner.layer(layer, group.hidden(), group.mask());
        group.hidden().close();
        int live = group.rows();
        tally.layerCall(live);
        float[] entropy = out.get(SignatureNames.ENTROPY).toFloatArray(); // (B') nats
        float[] probs = out.get(SignatureNames.PROBS).toFloatArray(); // (B',C) row-major
        int classes = probs.length / live;
        ExitScores.OffRamp[] previous = group.previous();

        boolean[] keep = new boolean[live];
        ExitScores.OffRamp[] current = new ExitScores.OffRamp[live];
        scores.at(entropy, current, previous);
        int kept = 0;
        for (int r = 0; r < live; r++) {
            ExitScores.OffRamp before = previous == null ? null : previous[r];
            current[r] = ExitScores.next(before, Arrays.copyOfRange(probs, r * classes, (r + 1) * classes));
            int row = group.callIndex()[r];
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
                tally.exit(row, classification(current[r], layer, entropy[r], score, group.numTokens()[r]), layer);
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
        if (kept == 0 || layer == runner.numLayers()) {
            // No row left (shadow samples stay to layer n), or none of them needs more layers.
            hiddenOut.close();
            group.mask().close();
            return null;
        }
        return group.survivors(scope, hiddenOut, keep, current);
    }

    private Classification classification(ExitScores.OffRamp offRamp, int exitLayer, double entropy, double score,
            int numTokens) {
        int best = offRamp.label();
        return new Classification(best, labels.get(best), offRamp.probs(), exitLayer, runner.numLayers(), entropy,
                score, numTokens);
    }

    /**
     * The live rows' scores at one layer, indexed by live row; one instance per call, pointed at each group's
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
