package org.deebert.streams.budget;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;

import org.deebert.streams.exit.ShadowTrace;

/** Windows of shadow samples for the budget tests: hand-made two-layer traces and seeded random windows. */
final class ShadowWindows {

    /** The divergence score of layer 1: there is no earlier off-ramp to compare with. */
    static final double INF = Double.POSITIVE_INFINITY;

    private ShadowWindows() {
    }

    /** A 2-layer trace: layer 1 says {@code early} with entropy {@code entropy}; the full model says {@code full}. */
    static ShadowTrace twoLayer(int early, int full, double entropy) {
        return new ShadowTrace(new int[] {early, full}, new double[] {entropy, 0.0}, new double[] {INF, 0.0});
    }

    /**
     * Random traces with 3 labels and 1 to 6 layers; layer i's off-ramp agrees with the last one 85 % of the
     * time. Entropies come from {@link #randomScore} (a coarse grid, so ties and scores equal to S, and some NaN);
     * divergences from {@code divergence}, +Infinity at layer 1.
     *
     * @param random     the seeded source; the draws are made in a fixed order, so a seed gives one window
     * @param size       the number of traces
     * @param divergence draws one divergence score (nats) for layers 2..n
     * @return the window
     */
    static List<ShadowTrace> randomWindow(Random random, int size, ToDoubleFunction<Random> divergence) {
        List<ShadowTrace> window = new ArrayList<>();
        for (int t = 0; t < size; t++) {
            int n = 1 + random.nextInt(6);
            int[] labels = new int[n];
            double[] entropies = new double[n];
            double[] divergences = new double[n];
            labels[n - 1] = random.nextInt(3);
            for (int i = 0; i < n; i++) {
                if (i < n - 1) {
                    labels[i] = random.nextDouble() < 0.85 ? labels[n - 1] : random.nextInt(3);
                }
                entropies[i] = randomScore(random);
                divergences[i] = i == 0 ? INF : divergence.applyAsDouble(random);
            }
            window.add(new ShadowTrace(labels, entropies, divergences));
        }
        return window;
    }

    /** A score in nats: NaN 2 % of the time, else on the grid 0, 0.05, ..., 0.5 (78 %) or uniform in [0, 0.6). */
    static double randomScore(Random random) {
        double u = random.nextDouble();
        if (u < 0.02) {
            return Double.NaN;
        }
        return u < 0.8 ? 0.05 * random.nextInt(11) : 0.6 * random.nextDouble();
    }

    /** A score in nats on the grid 0, 0.05, ..., 0.5. */
    static double gridScore(Random random) {
        return 0.05 * random.nextInt(11);
    }
}
