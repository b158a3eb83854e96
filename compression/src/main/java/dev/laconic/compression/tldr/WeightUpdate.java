package dev.laconic.compression.tldr;

/**
 * The TL;DR re-weighting rule (methods.md, Method A), applied after each dev evaluation:
 * <pre>
 *   b_short = max((tok − tok_S) / |tok_L − tok_S|, 0)      how far the answers are still too long
 *   b_long  = max((acc_L − acc) / |acc_L − acc_S|, 0)      how far accuracy is below the long model
 *   w ← softmax(log w + η·[b_short, b_long])               exponentiated-gradient step, η = 4
 *   w ← (1 − c)·w + c/2;  w ← w / Σw                       smoothing, c = 1e-4: no weight reaches 0
 * </pre>
 * w = [w_short, w_long] weighs System-1 (domain 0) against System-2 (domain 1) data. Since
 * log(w0/w1) moves by η·(b_short − b_long) per evaluation (before smoothing), w stands still where the
 * normalised length excess equals the normalised accuracy deficit.
 */
public final class WeightUpdate {
    private WeightUpdate() {}

    /** The initial weights: an even mix. */
    public static double[] initial() {
        return new double[]{0.5, 0.5};
    }

    public static double bShort(double tokens, References r) {
        return Math.max((tokens - r.shortRef().tokens()) / Math.abs(r.longRef().tokens() - r.shortRef().tokens()), 0);
    }

    public static double bLong(double accuracy, References r) {
        return Math.max((r.longRef().accuracy() - accuracy) / Math.abs(r.longRef().accuracy() - r.shortRef().accuracy()), 0);
    }

    /**
     * One update of w = [w_short, w_long] by the excesses b = [b_short, b_long].
     * softmax(log w + η·b)_i = w_i·e^{η·b_i} / Σ_j w_j·e^{η·b_j}, computed with the largest exponent
     * subtracted so that a large η·b does not overflow.
     */
    public static double[] update(double[] w, double bShort, double bLong, double eta, double smoothing) {
        if (w.length != 2) throw new IllegalArgumentException("two domain weights expected, got " + w.length);
        if (!(smoothing >= 0 && smoothing <= 1)) throw new IllegalArgumentException("smoothing must be in [0, 1], got " + smoothing);
        if (!Double.isFinite(eta) || eta < 0) throw new IllegalArgumentException("eta must be a finite number ≥ 0, got " + eta);
        double[] b = {bShort, bLong};
        double[] logit = new double[2];
        for (int i = 0; i < 2; i++) {
            if (!(w[i] > 0)) throw new IllegalArgumentException("domain weight " + i + " is " + w[i] + ", expected > 0");
            if (!Double.isFinite(b[i])) throw new IllegalArgumentException("excess " + i + " is " + b[i]);
            logit[i] = Math.log(w[i]) + eta * b[i];
        }
        double max = Math.max(logit[0], logit[1]);
        double[] out = new double[2];
        double sum = 0;
        for (int i = 0; i < 2; i++) sum += out[i] = Math.exp(logit[i] - max);
        double total = 0;
        for (int i = 0; i < 2; i++) total += out[i] = (1 - smoothing) * (out[i] / sum) + smoothing / 2;
        for (int i = 0; i < 2; i++) out[i] /= total;
        return out;
    }
}
