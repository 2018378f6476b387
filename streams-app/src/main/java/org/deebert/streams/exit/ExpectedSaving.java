package org.deebert.streams.exit;

/**
 * DeeBERT's expected saving (Xin et al. 2020, section 4.2, eq. 2): the share of transformer-layer
 * computations that early exit avoids, compared with running every input through all n layers.
 * <pre>
 *   expectedSaving = 1 - (sum_i i * count_i) / (n * total)
 * </pre>
 * where {@code count_i} inputs left at off-ramp i (1-based) and {@code total = sum_i count_i}.
 * 0 = no saving (all inputs ran all layers); {@code 1 - 1/n} = every input left at layer 1.
 * Note: the Hugging Face reference script ({@code run_glue_deebert.py}) logs the complement,
 * {@code actual_cost / full_cost}, under the name "Expected saving".
 */
public final class ExpectedSaving {

    private ExpectedSaving() {
    }

    /**
     * @param exitHistogram {@code exitHistogram[i-1]} = number of inputs that left at layer i; its
     *                      length is the number of layers n
     * @return the share of layer computations saved, in [0, 1 - 1/n]; 0 for an all-zero histogram
     * @throws IllegalArgumentException if the histogram is empty or has a negative count
     */
    public static double expectedSaving(long[] exitHistogram) {
        if (exitHistogram == null || exitHistogram.length == 0) {
            throw new IllegalArgumentException("exit histogram must have one entry per layer");
        }
        long total = 0;
        double layersRun = 0;
        for (int i = 0; i < exitHistogram.length; i++) {
            if (exitHistogram[i] < 0) {
                throw new IllegalArgumentException("negative count " + exitHistogram[i] + " at layer " + (i + 1));
            }
            total += exitHistogram[i];
            layersRun += (double) (i + 1) * exitHistogram[i];
        }
        if (total == 0) {
            return 0.0;
        }
        return 1.0 - layersRun / ((double) exitHistogram.length * total);
    }
}
