package org.deebert.streams.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ConfidenceBoundsTest {

    /** Phi(z) by composite Simpson integration of the density: independent of the quantile's algorithm. */
    private static double phi(double z) {
        int steps = 20_000;
        double a = 0;
        double b = Math.abs(z);
        double h = (b - a) / steps;
        double sum = density(a) + density(b);
        for (int i = 1; i < steps; i++) {
            sum += density(a + i * h) * (i % 2 == 1 ? 4 : 2);
        }
        double half = sum * h / 3;
        return z >= 0 ? 0.5 + half : 0.5 - half;
    }

    private static double density(double x) {
        return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    @Test
    void normalQuantileMatchesPublishedValues() {
        // R's qnorm to 16 digits.
        assertThat(ConfidenceBounds.normalQuantile(0.5)).isEqualTo(0.0);
        assertThat(ConfidenceBounds.normalQuantile(0.95)).isCloseTo(1.6448536269514722, within(1e-12));
        assertThat(ConfidenceBounds.normalQuantile(0.975)).isCloseTo(1.959963984540054, within(1e-12));
        assertThat(ConfidenceBounds.normalQuantile(0.99)).isCloseTo(2.3263478740408408, within(1e-12));
        assertThat(ConfidenceBounds.normalQuantile(0.999)).isCloseTo(3.090232306167813, within(1e-12));
        assertThat(ConfidenceBounds.normalQuantile(1e-10)).isCloseTo(-6.361340902404056, within(1e-11));
    }

    @Test
    void normalQuantileInvertsTheCdfInEveryBranch() {
        // 0.075 and 0.925 cross the central/tail boundary (|p - 0.5| = 0.425); 1e-7 has r <= 5, 1e-12 r > 5.
        for (double p : new double[] {0.001, 0.02, 0.07, 0.075, 0.0751, 0.2, 0.5, 0.6, 0.8, 0.925, 0.95, 0.99, 0.9999}) {
            assertThat(phi(ConfidenceBounds.normalQuantile(p))).as("Phi(z(%s))", p).isCloseTo(p, within(1e-11));
        }
        // Powers of two, so that 1 - p is exact: 2^-20 has r <= 5, 2^-50 has r > 5.
        for (double p : new double[] {0x1p-20, 0x1p-40, 0x1p-50, 0.3}) {
            assertThat(ConfidenceBounds.normalQuantile(1 - p)).isCloseTo(-ConfidenceBounds.normalQuantile(p),
                    within(1e-9 * Math.abs(ConfidenceBounds.normalQuantile(p)) + 1e-15));
        }
    }

    @Test
    void normalQuantileRejectsProbabilitiesOutsideTheOpenUnitInterval() {
        for (double p : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            assertThatThrownBy(() -> ConfidenceBounds.normalQuantile(p)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void wilsonUpperMatchesHandComputedValues() {
        // k = 0: (z²/2n + z/2n·z) / (1 + z²/n) = z² / (n + z²) = 2.705543 / 202.705543.
        assertThat(ConfidenceBounds.wilsonUpper(0, 200, 0.95)).isCloseTo(0.013347160654775614, within(1e-12));
        assertThat(ConfidenceBounds.wilsonUpper(3, 812, 0.95)).isCloseTo(0.009208039105066212, within(1e-12));
        assertThat(ConfidenceBounds.wilsonUpper(5, 100, 0.95)).isCloseTo(0.09916108527905275, within(1e-12));
        assertThat(ConfidenceBounds.wilsonUpper(5, 100, 0.99)).isCloseTo(0.12762319621249799, within(1e-12));
        assertThat(ConfidenceBounds.wilsonUpper(0, 10, 0.95)).isCloseTo(0.21294197008340682, within(1e-12));
    }

    @Test
    void wilsonUpperIsTheUpperRootOfTheScoreEquation() {
        // Wilson's bound u is where the score test just rejects: n (u - p)² = z² u (1 - u), u >= p.
        double z = ConfidenceBounds.normalQuantile(0.9);
        for (long[] kn : new long[][] {{0, 50}, {1, 50}, {7, 50}, {25, 50}, {49, 50}, {3, 10_000}}) {
            long k = kn[0];
            long n = kn[1];
            double p = (double) k / n;
            double u = ConfidenceBounds.wilsonUpper(k, n, 0.9);
            assertThat(u).isGreaterThanOrEqualTo(p);
            assertThat(n * (u - p) * (u - p)).isCloseTo(z * z * u * (1 - u), within(1e-12));
        }
    }

    @Test
    void wilsonUpperGrowsWithDisagreementsAndConfidenceAndShrinksWithSamples() {
        double previous = -1;
        for (long k = 0; k <= 100; k++) {
            double u = ConfidenceBounds.wilsonUpper(k, 100, 0.95);
            assertThat(u).isGreaterThan(previous).isBetween((double) k / 100, 1.0);
            previous = u;
        }
        assertThat(ConfidenceBounds.wilsonUpper(2, 100, 0.99)).isGreaterThan(ConfidenceBounds.wilsonUpper(2, 100, 0.95));
        assertThat(ConfidenceBounds.wilsonUpper(20, 1000, 0.95)).isLessThan(ConfidenceBounds.wilsonUpper(2, 100, 0.95));
    }

    @Test
    void wilsonUpperEdgeCases() {
        assertThat(ConfidenceBounds.wilsonUpper(0, 0, 0.95)).isEqualTo(1.0);
        assertThat(ConfidenceBounds.wilsonUpper(10, 10, 0.95)).isEqualTo(1.0);
        assertThat(ConfidenceBounds.wilsonUpper(3, 12, 0.5)).isEqualTo(0.25);
    }

    @Test
    void wilsonUpperRejectsBadArguments() {
        assertThatThrownBy(() -> ConfidenceBounds.wilsonUpper(0, -1, 0.95)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ConfidenceBounds.wilsonUpper(-1, 10, 0.95)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ConfidenceBounds.wilsonUpper(11, 10, 0.95)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ConfidenceBounds.wilsonUpper(1, 0, 0.95)).isInstanceOf(IllegalArgumentException.class);
        for (double c : new double[] {0.4, 1.0, Double.NaN}) {
            assertThatThrownBy(() -> ConfidenceBounds.wilsonUpper(1, 10, c)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
