package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole-model backward against finite differences of the forward, on the tiny golden models with
 * ReferenceOps (each op in double, rounded to F32 once). Independent of Hugging Face: it checks that
 * the backward differentiates exactly what the forward computes, with two sequences packed into one
 * forward. For every parameter tensor: the derivative along a direction u = normalise(ĝ + r̂) (r
 * random; the ĝ half makes the derivative large against F32 noise, the r̂ half makes it a test of
 * more than ‖g‖), and the derivative by the tensor's largest-gradient element. Five-point stencils,
 * f' ≈ (−f(2h) + 8f(h) − 8f(−h) + f(−2h)) / 12h, keep the truncation error O(h⁴); what remains is the
 * F32 rounding of the log-probs (ulp(9) ≈ 1e-6 each, ≈ 1e-7 on the mean loss) divided by h.
 */
class FiniteDifferenceTest {
    // Steps: along u the loss curves more (truncation), a single element moves it less (F32 noise ≈ 1e-7/h).
    static final double H_DIRECTION = 1e-2, H_ELEMENT = 3e-2;
    static final double TOLERANCE = 1e-3;   // relative; measured ≤ 4e-4, a wrong term shows as 1e-2 or more

    @ParameterizedTest
    @ValueSource(strings = {"qwen2-f32", "llama-f32-sharded"})
    void fullModelBackwardMatchesFiniteDifferences(String dir) throws Exception {
        try (Model m = Model.load(Golden.dir().resolve(dir), DType.F32, new ReferenceOps())) {
            check(dir, TrainableModel.full(m));
        }
    }

    @Test
    void loraBackwardMatchesFiniteDifferences() throws Exception {
        Path adapter = Golden.dir().resolve("qwen2-lora");
        try (Model m = Model.load(Golden.dir().resolve("qwen2-f32"), DType.F32, new ReferenceOps())) {
            TrainableModel tm = TrainableModel.lora(m, Golden.loraConfig(adapter), 1);
            tm.loadParameters(Golden.tensors(adapter.resolve("adapter_model.safetensors")));   // B ≠ 0
            check("qwen2-lora", tm);
        }
    }

    static void check(String label, TrainableModel tm) {
        List<Golden.Example> data = Golden.trainData();
        int[][] seqs = {Arrays.copyOf(data.get(0).ids(), 20), Arrays.copyOf(data.get(1).ids(), 9)};   // short: fast
        float[][] weights = {Arrays.copyOfRange(data.get(0).weights(), 0, 19), new float[8]};
        Arrays.fill(weights[1], 1f);
        tm.forwardBackward(List.of(seqs), TokenObjective.crossEntropy(weights));
        SplittableRandom rng = new SplittableRandom(42);
        double worstDir = 0, worstElem = 0;
        for (Param p : tm.parameters()) {
            float[] g = p.grad().toFloatArray(), v0 = p.value().toFloatArray();
            double gn = norm(g);
            double[] r = new double[g.length], u = new double[g.length];
            for (int i = 0; i < r.length; i++) r[i] = rng.nextGaussian();
            double rn = norm(r);
            for (int i = 0; i < u.length; i++) u[i] = g[i] / gn + r[i] / rn;
            double un = norm(u), analytic = 0;
            for (int i = 0; i < u.length; i++) { u[i] /= un; analytic += g[i] * u[i]; }
            double errDir = Math.abs(derivative(tm, p, v0, u, H_DIRECTION, seqs, weights) - analytic) / Math.abs(analytic);
            worstDir = Math.max(worstDir, errDir);
            assertTrue(errDir <= TOLERANCE, label + " " + p.name() + " along a direction: relative error " + errDir);

            int imax = 0;
            for (int i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[imax])) imax = i;
            double[] e = new double[g.length];
            e[imax] = 1;
            double errElem = Math.abs(derivative(tm, p, v0, e, H_ELEMENT, seqs, weights) - g[imax]) / Math.abs(g[imax]);
            worstElem = Math.max(worstElem, errElem);
            assertTrue(errElem <= TOLERANCE, label + " " + p.name() + "[" + imax + "]: relative error " + errElem);
            p.value().copyFrom(Tensor.of(v0, p.value().shape()));
        }
        System.out.printf("%s: finite differences over %d tensors, worst relative error along directions %.2e, largest elements %.2e%n",
                label, tm.parameters().size(), worstDir, worstElem);
    }

    /** Five-point stencil of the loss along u at p.value = v0. */
    static double derivative(TrainableModel tm, Param p, float[] v0, double[] u, double h, int[][] seqs, float[][] w) {
        return (-loss(tm, p, v0, u, 2 * h, seqs, w) + 8 * loss(tm, p, v0, u, h, seqs, w)
                - 8 * loss(tm, p, v0, u, -h, seqs, w) + loss(tm, p, v0, u, -2 * h, seqs, w)) / (12 * h);
    }

    /** The cross-entropy loss with p.value = v0 + eps·u, the other parameters as they are (one packed forward). */
    static double loss(TrainableModel tm, Param p, float[] v0, double[] u, double eps, int[][] seqs, float[][] w) {
        for (int i = 0; i < v0.length; i++) p.value().setFloat(i, (float) (v0[i] + eps * u[i]));
        float[][] all = tm.transformer().logProbs(seqs);      // the training forward, both sequences packed
        double num = 0, den = 0;
        for (int b = 0; b < seqs.length; b++) {
            float[] logp = all[b];
            for (int t = 0; t < logp.length; t++) { num -= w[b][t] * (double) logp[t]; den += w[b][t]; }
        }
        return num / den;
    }

    static double norm(float[] a) {
        double s = 0;
        for (float x : a) s += (double) x * x;
        return Math.sqrt(s);
    }

    static double norm(double[] a) {
        double s = 0;
        for (double x : a) s += x * x;
        return Math.sqrt(s);
    }
}
