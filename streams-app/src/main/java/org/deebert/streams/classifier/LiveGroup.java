package org.deebert.streams.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.List;

import org.deebert.streams.exit.ExitScores;

/**
 * Rows that run the next layer together in one TF call: their hidden state and attention mask, and per row its
 * index in the call, token count and previous off-ramp. {@link Algorithm1Loop} cuts a group down to its
 * survivors after each layer ({@link #survivors}) and merges groups ({@link #merge}) when {@link GroupMerge} says
 * one call is cheaper. Every NDArray lives in the caller's scope; the methods close the arrays they replace.
 *
 * @param hidden    float32 (B,T,H), the input of the next layer
 * @param mask      int32 (B,T), 1 for a real token, 0 for padding
 * @param callIndex per row, its index in the call
 * @param numTokens per row, its token count ([CLS]/[SEP] included), <= T
 * @param previous  per row, its off-ramp at the layer before, or null before layer 1 (for DIVERGENCE and PATIENCE)
 */
record LiveGroup(NDArray hidden, NDArray mask, int[] callIndex, int[] numTokens, ExitScores.OffRamp[] previous) {

    /** @return B, the live rows */
    int rows() {
        return callIndex.length;
    }

    /** @return T, the length the rows are padded to (tokens) */
    int seqLen() {
        return Math.toIntExact(mask.getShape().get(1));
    }

    /**
     * The rows of this group that go on after a layer, cut out of the layer's output, with the padding columns no
     * survivor needs dropped (results do not depend on padding length). Closes {@code hiddenOut} and this group's
     * mask when they are replaced.
     *
     * @param scope     the call's scope
     * @param hiddenOut float32 (B,T,H), the layer's {@code hidden_out} for this group's rows
     * @param keep      per row, whether it goes on
     * @param current   per row, its off-ramp at this layer
     * @return the survivors (at least one must be kept)
     */
    LiveGroup survivors(NDManager scope, NDArray hiddenOut, boolean[] keep, ExitScores.OffRamp[] current) {
        int kept = 0;
        for (boolean k : keep) {
            kept += k ? 1 : 0;
        }
        if (kept == rows()) {
            return new LiveGroup(hiddenOut, mask, callIndex, numTokens, current);
        }
        int[] nextIndex = new int[kept];
        int[] nextTokens = new int[kept];
        ExitScores.OffRamp[] nextPrevious = new ExitScores.OffRamp[kept];
        int seqLen = 0;
        for (int r = 0, k = 0; r < keep.length; r++) {
            if (keep[r]) {
                nextIndex[k] = callIndex[r];
                nextTokens[k] = numTokens[r];
                nextPrevious[k++] = current[r];
                seqLen = Math.max(seqLen, numTokens[r]);
            }
        }
        NDArray keepMask = scope.create(keep); // bool (B)
        NDArray hidden = hiddenOut.booleanMask(keepMask); // (B',T,H)
        NDArray keptMask = mask.booleanMask(keepMask); // (B',T)
        hiddenOut.close();
        mask.close();
        keepMask.close();
        if (seqLen < keptMask.getShape().get(1)) {
            NDArray shorterHidden = hidden.get(":, :" + seqLen); // (B',T',H)
            NDArray shorterMask = keptMask.get(":, :" + seqLen); // (B',T')
            hidden.close();
            keptMask.close();
            hidden = shorterHidden;
            keptMask = shorterMask;
        }
        return new LiveGroup(hidden, keptMask, nextIndex, nextTokens, nextPrevious);
    }

    /**
     * Merges groups into one padded to the longest: each shorter group's hidden state is padded with zeros to
     * (B_g,T,H) and its mask with 0s to (B_g,T), then all are concatenated along rows in the given order. The
     * padding is masked, so no row's result depends on it beyond float32 rounding. Closes the merged groups' arrays.
     *
     * @param scope  the call's scope
     * @param groups at least one group, all at the same layer; the result's rows follow their order
     * @return the merged group, or the only group as it is
     */
    static LiveGroup merge(NDManager scope, List<LiveGroup> groups) {
        if (groups.size() == 1) {
            return groups.get(0);
        }
        int seqLen = groups.stream().mapToInt(LiveGroup::seqLen).max().orElseThrow();
        int rows = groups.stream().mapToInt(LiveGroup::rows).sum();
        NDList hiddens = new NDList(groups.size());
        NDList masks = new NDList(groups.size());
        int[] callIndex = new int[rows];
        int[] numTokens = new int[rows];
        ExitScores.OffRamp[] previous = groups.get(0).previous == null ? null : new ExitScores.OffRamp[rows];
        int at = 0;
        for (LiveGroup g : groups) {
            hiddens.add(padded(scope, g.hidden, seqLen, DataType.FLOAT32));
            masks.add(padded(scope, g.mask, seqLen, DataType.INT32));
            System.arraycopy(g.callIndex, 0, callIndex, at, g.rows());
            System.arraycopy(g.numTokens, 0, numTokens, at, g.rows());
            if (previous != null) {
                System.arraycopy(g.previous, 0, previous, at, g.rows());
            }
            at += g.rows();
        }
        NDArray hidden = NDArrays.concat(hiddens, 0); // float32 (rows,T,H)
        NDArray mask = NDArrays.concat(masks, 0); // int32 (rows,T)
        hiddens.close();
        masks.close();
        return new LiveGroup(hidden, mask, callIndex, numTokens, previous);
    }

    /**
     * @param array (B,T,...) float32 hidden state or int32 mask
     * @return {@code array} padded with zeros along axis 1 to {@code seqLen} columns (the input itself when it is
     *     that long already, else a new array; the input is closed)
     */
    private static NDArray padded(NDManager scope, NDArray array, int seqLen, DataType dataType) {
        Shape shape = array.getShape();
        long missing = seqLen - shape.get(1);
        if (missing == 0) {
            return array;
        }
        long[] zerosShape = shape.getShape();
        zerosShape[1] = missing;
        // Session outputs come back in host memory (SignatureRunner), as the scope's zeros are; toDevice is a no-op
        // then, and keeps concat on one device should an output ever live elsewhere.
        try (NDArray hostZeros = scope.zeros(new Shape(zerosShape), dataType)) {
            NDArray zeros = hostZeros.toDevice(array.getDevice(), false);
            NDArray padded = array.concat(zeros, 1);
            if (zeros != hostZeros) {
                zeros.close();
            }
            array.close();
            return padded;
        }
    }
}
