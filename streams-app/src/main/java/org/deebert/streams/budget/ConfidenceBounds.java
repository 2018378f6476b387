package org.deebert.streams.budget;

/**
 * Confidence bounds on a binomial proportion, for the accuracy-budget controller: how large the share of
 * shadow samples that disagree with the full model may really be, given what a finite window saw.
 *
 * <p>The project has no statistics library (and one quantile function does not justify a dependency), so
 * the standard normal quantile is computed here with Wichura's algorithm AS241 (Applied Statistics 37(3),
 * 1988, 477-484), relative error about 1e-16; it is the algorithm Python's
 * {@code statistics.NormalDist.inv_cdf} uses.
 */
public final class ConfidenceBounds {

    private ConfidenceBounds() {
    }

    /**
     * One-sided upper bound of a binomial proportion by the Wilson score interval (Wilson 1927, "Probable
     * inference, the law of succession, and statistical inference", JASA 22:209-212):
     * {@code (p + z²/2n + z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)} with {@code p = k/n} and
     * {@code z} the standard normal quantile at {@code confidence}. Chosen over the normal (Wald) bound
     * because it stays above 0 when no disagreement was seen (0 of 200 gives 1.33 % at 95 %, Wald gives 0)
     * and keeps close to its nominal coverage for the small shares a budget allows.
     *
     * @param disagreements k, samples that disagree, {@code 0 <= k <= n}
     * @param samples       n, samples in the window, {@code >= 0}
     * @param confidence    one-sided confidence, in [0.5, 1) (0.5 gives {@code k/n} itself)
     * @return the upper bound, a share in [k/n, 1]; 1.0 when {@code samples == 0} (nothing seen, nothing ruled out)
     * @throws IllegalArgumentException if {@code samples < 0}, {@code k} is outside [0, n], or
     *     {@code confidence} is outside [0.5, 1) or NaN
     */
    public static double wilsonUpper(long disagreements, long samples, double confidence) {
        if (samples < 0) {
            throw new IllegalArgumentException("samples must be >= 0, got " + samples);
        }
        if (disagreements < 0 || disagreements > samples) {
            throw new IllegalArgumentException("disagreements must be in [0, " + samples + "], got " + disagreements);
        }
        if (!(confidence >= 0.5 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in [0.5, 1), got " + confidence);
        }
        if (samples == 0) {
            return 1.0;
        }
        double n = samples;
        double p = disagreements / n;
        double z = normalQuantile(confidence);
        double z2 = z * z;
        double centre = p + z2 / (2 * n);
        double spread = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        double upper = (centre + spread) / (1 + z2 / n);
        // Rounding may put the bound a hair outside [p, 1] at k = n or z = 0; the true bound is inside.
        return Math.min(1.0, Math.max(p, upper));
    }

    /**
     * The standard normal quantile (inverse CDF), Wichura's AS241 ("PPND16").
     *
     * @param p a probability in (0, 1)
     * @return z with {@code Phi(z) = p}, e.g. 1.6448536269514722 for 0.95
     * @throws IllegalArgumentException if {@code p} is not in (0, 1)
     */
    public static double normalQuantile(double p) {
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("probability must be in (0, 1), got " + p);
        }
        double q = p - 0.5;
        if (Math.abs(q) <= 0.425) {
            double r = 0.180625 - q * q;
            double num = (((((((2.5090809287301226727e+3 * r
                    + 3.3430575583588128105e+4) * r
                    + 6.7265770927008700853e+4) * r
                    + 4.5921953931549871457e+4) * r
                    + 1.3731693765509461125e+4) * r
                    + 1.9715909503065514427e+3) * r
                    + 1.3314166789178437745e+2) * r
                    + 3.3871328727963666080e+0) * q;
            double den = (((((((5.2264952788528545610e+3 * r
                    + 2.8729085735721942674e+4) * r
                    + 3.9307895800092710610e+4) * r
                    + 2.1213794301586595867e+4) * r
                    + 5.3941960214247511077e+3) * r
                    + 6.8718700749205790830e+2) * r
                    + 4.2313330701600911252e+1) * r
                    + 1.0);
            return num / den;
        }
        // Tails: a rational function of sqrt(-ln(min(p, 1-p))).
        double r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
        double num;
        double den;
        if (r <= 5.0) {
            r -= 1.6;
            num = (((((((7.74545014278341407640e-4 * r
                    + 2.27238449892691845833e-2) * r
                    + 2.41780725177450611770e-1) * r
                    + 1.27045825245236838258e+0) * r
                    + 3.64784832476320460504e+0) * r
                    + 5.76949722146069140550e+0) * r
                    + 4.63033784615654529590e+0) * r
                    + 1.42343711074968357734e+0);
            den = (((((((1.05075007164441684324e-9 * r
                    + 5.47593808499534494600e-4) * r
                    + 1.51986665636164571966e-2) * r
                    + 1.48103976427480074590e-1) * r
                    + 6.89767334985100004550e-1) * r
                    + 1.67638483018380384940e+0) * r
                    + 2.05319162663775882187e+0) * r
                    + 1.0);
        } else {
            r -= 5.0;
            num = (((((((2.01033439929228813265e-7 * r
                    + 2.71155556874348757815e-5) * r
                    + 1.24266094738807843860e-3) * r
                    + 2.65321895265761230930e-2) * r
                    + 2.96560571828504891230e-1) * r
                    + 1.78482653991729133580e+0) * r
                    + 5.46378491116411436990e+0) * r
                    + 6.65790464350110377720e+0);
            den = (((((((2.04426310338993978564e-15 * r
                    + 1.42151175831644588870e-7) * r
                    + 1.84631831751005468180e-5) * r
                    + 7.86869131145613259100e-4) * r
                    + 1.48753612908506148525e-2) * r
                    + 1.36929880922735805310e-1) * r
                    + 5.99832206555887937690e-1) * r
                    + 1.0);
        }
        double x = num / den;
        return q < 0 ? -x : x;
    }
}
