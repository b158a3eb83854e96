package dev.laconic.compression.rl;

import dev.laconic.compression.rl.PolicyLoss.Aggregation;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import dev.laconic.training.Param;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The PPO clipped surrogate: each side of the trust region against hand values, the two loss
 * normalisations, micro-batch splitting, and its gradient against finite differences, alone and
 * through the tiny golden Qwen2 (ReferenceOps).
 */
class PolicyLossTest {
    static final double EPS = 0.2;

    static void token(double logRho, double a, double loss, double grad, boolean clipped) {
        PolicyLoss.Token t = PolicyLoss.token(-1.3 + logRho, -1.3, a, EPS);
        String what = "log ρ " + logRho + ", A " + a;
        assertEquals(loss, t.loss(), 1e-12, what + ": loss");
        assertEquals(grad, t.grad(), 1e-12, what + ": dℓ/dlogp");
        assertEquals(clipped, t.clipped(), what + ": clipped");
    }

    @Test
    void clippingOnBothSidesOfTheTrustRegion() {
        // ρ = e^0.1 = 1.1051709 inside [0.8, 1.2]: ℓ = −ρA, gradient −ρA
        token(0.1, 2, -2.2103418361512954, -2.2103418361512954, false);
        // A > 0, ρ = e^0.5 = 1.6487213 > 1.2: min(ρA, 1.2A) = 2.4 is the clipped term → flat, no gradient
        token(0.5, 2, -2.4, 0, true);
        // A > 0, ρ = e^−0.5 = 0.6065307 < 0.8: min(ρA, 0.8A) = ρA is unclipped → the gradient stays (pessimistic bound)
        token(-0.5, 2, -1.2130613194252668, -1.2130613194252668, false);
        // A < 0, ρ = e^0.5 > 1.2: min(ρA, 1.2A) = ρA = −3.2974 → unclipped, gradient −ρA = +3.2974
        token(0.5, -2, 3.2974425414002564, 3.2974425414002564, false);
        // A < 0, ρ = e^−0.5 < 0.8: min(ρA, 0.8A) = 0.8A = −1.6 → clipped, flat
        token(-0.5, -2, 1.6, 0, true);
        // ρ = 1 (the first minibatch): ℓ = −A, gradient −A
        token(0, -2, 2, 2, false);
        token(0, 0.75, -0.75, -0.75, false);
        // A = 0: nothing, whatever ρ
        token(0.7, 0, 0, 0, false);
    }

    /** Two sequences at ρ = 1: prompt positions get no gradient, completion token t gets −A·w. */
    @Test
    void sequenceMeanAndTokenMean() {
        float[] old0 = {-1f, -2f}, old1 = {-0.5f};
        // sequence 0: 4 predicted positions, completion at logp indices 2, 3; sequence 1: 3 positions, completion at 2
        List<PolicyLoss.Seq> seqs = List.of(new PolicyLoss.Seq(2, old0, new double[]{1, 3}), new PolicyLoss.Seq(2, old1, new double[]{-2}));
        float[][] logp = {{-9f, -9f, -1f, -2f}, {-9f, -9f, -0.5f}};

        // sequence mean: L = ½·(½·(−1 − 3) + (+2)) = 0;  dlogp = −A/(T_i·S)
        PolicyLoss seq = new PolicyLoss(seqs, EPS, Aggregation.SEQUENCE_MEAN, 2, 3);
        float[][] d = new float[2][];
        double loss = apply(seq, logp, d);
        assertEquals(0, loss, 1e-12);
        assertArrayEquals(new float[]{0, 0, -0.25f, -0.75f}, d[0], 1e-7f);
        assertArrayEquals(new float[]{0, 0, 1f}, d[1], 1e-7f);
        assertEquals(3, seq.tokens());
        assertEquals(0, seq.clippedTokens());
        assertEquals(0, seq.oldMinusNew());

        // token mean: L = (−1 − 3 + 2)/3 = −⅔;  dlogp = −A/N
        PolicyLoss tok = new PolicyLoss(seqs, EPS, Aggregation.TOKEN_MEAN, 2, 3);
        assertEquals(-2.0 / 3, apply(tok, logp, d), 1e-12);
        assertArrayEquals(new float[]{0, 0, -1f / 3, -1f}, d[0], 1e-7f);
        assertArrayEquals(new float[]{0, 0, 2f / 3}, d[1], 1e-7f);

        // the same step split into two micro-batches, each normalised by the whole step: same loss, same gradients
        for (Aggregation agg : Aggregation.values()) {
            PolicyLoss whole = new PolicyLoss(seqs, EPS, agg, 2, 3);
            PolicyLoss a = new PolicyLoss(seqs.subList(0, 1), EPS, agg, 2, 3), b = new PolicyLoss(seqs.subList(1, 2), EPS, agg, 2, 3);
            float[] da = new float[4], db = new float[3];
            double split = a.apply(0, logp[0], da) + b.apply(0, logp[1], db);
            assertEquals(apply(whole, logp, d), split, 1e-12, agg.label());
            assertArrayEquals(d[0], da, agg.label());
            assertArrayEquals(d[1], db, agg.label());
        }
    }

    @Test
    void aCompletionOutsideTheLogProbsIsRefused() {
        PolicyLoss pl = new PolicyLoss(List.of(new PolicyLoss.Seq(3, new float[]{-1f, -1f}, new double[]{1, 1})), EPS, Aggregation.SEQUENCE_MEAN, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> pl.apply(0, new float[4], new float[4]));
        assertThrows(IllegalArgumentException.class, () -> new PolicyLoss.Seq(0, new float[0], new double[0]));
        assertThrows(IllegalArgumentException.class, () -> Aggregation.parse("mean"));
    }

    static double apply(PolicyLoss pl, float[][] logp, float[][] dlogp) {
        double loss = 0;
        for (int b = 0; b < logp.length; b++) {
            dlogp[b] = new float[logp[b].length];
            Arrays.fill(dlogp[b], Float.NaN);                      // every entry must be assigned
            loss += pl.apply(b, logp[b], dlogp[b]);
        }
        return loss;
    }

    /** dL/dlogp by central differences of L itself (double), at points away from the clipping kinks. */
    @Test
    void lossGradientMatchesFiniteDifferencesOfTheLoss() {
        SplittableRandom rng = new SplittableRandom(3);
        double[] logRhos = {-0.6, -0.1, 0.05, 0.1, 0.5};                // both sides and the inside of [ln 0.8, ln 1.2]
        for (int trial = 0; trial < 40; trial++) {
            double lp = -rng.nextDouble(0.1, 5), a = rng.nextDouble(-2, 2);
            double old = lp - logRhos[trial % logRhos.length], h = 1e-6;
            double fd = (PolicyLoss.token(lp + h, old, a, EPS).loss() - PolicyLoss.token(lp - h, old, a, EPS).loss()) / (2 * h);
            assertEquals(fd, PolicyLoss.token(lp, old, a, EPS).grad(), 1e-7 * Math.max(1, Math.abs(fd)), "trial " + trial);
        }
    }

    /**
     * The policy loss through the whole model: forwardBackward with the PPO objective against five-point
     * finite differences of the loss in every parameter tensor (direction = ĝ + random, as the training
     * core's FiniteDifferenceTest). log π_old is the current log π shifted by ±0.02 or ±0.6 per token, so
     * tokens sit inside and on both sides of the trust region; no token may change side within the stencil.
     */
    @Test
    void policyGradientThroughTheModelMatchesFiniteDifferences() throws Exception {
        try (Model m = Model.load(Path.of("../transformer/src/test/resources/golden/qwen2-f32"), DType.F32, new ReferenceOps())) {
            TrainableModel tm = TrainableModel.full(m);
            SplittableRandom rng = new SplittableRandom(11);
            int[][] seqs = {ids(rng, 14), ids(rng, 10)};
            int[] offsets = {4, 3};                                     // prompts of 5 and 4 tokens
            float[][] now = tm.transformer().logProbs(seqs);
            double[] shifts = {-0.6, -0.02, 0.02, 0.6};          // log ρ = −shift: margins ≥ 0.16 to ln 0.8 and ln 1.2
            List<PolicyLoss.Seq> ps = new ArrayList<>();
            for (int b = 0; b < seqs.length; b++) {
                int n = now[b].length - offsets[b];
                float[] old = new float[n];
                double[] adv = new double[n];
                for (int j = 0; j < n; j++) {
                    old[j] = (float) (now[b][offsets[b] + j] - shifts[(b + j) % 4]);
                    adv[j] = (j % 2 == 0 ? 1 : -1) * rng.nextDouble(0.5, 1.5);
                }
                ps.add(new PolicyLoss.Seq(offsets[b], old, adv));
            }
            for (Aggregation agg : Aggregation.values()) {
                tm.zeroGrad();
                PolicyLoss pl = new PolicyLoss(ps, EPS, agg, 2, ps.get(0).logpOld().length + ps.get(1).logpOld().length);
                tm.forwardBackward(List.of(seqs), pl);
                assertTrue(pl.clippedTokens() > 0 && pl.clippedTokens() < pl.tokens(), "both clipped and unclipped tokens: " + pl.clippedTokens());
                double worst = 0;
                for (Param p : tm.parameters()) {
                    float[] g = p.grad().toFloatArray(), v0 = p.value().toFloatArray();
                    double[] u = new double[g.length];
                    double gn = norm(g), rn = 0;
                    double[] r = new double[g.length];
                    for (int i = 0; i < r.length; i++) { r[i] = rng.nextGaussian(); rn += r[i] * r[i]; }
                    rn = Math.sqrt(rn);
                    double un = 0, analytic = 0;
                    for (int i = 0; i < u.length; i++) { u[i] = (gn > 0 ? g[i] / gn : 0) + r[i] / rn; un += u[i] * u[i]; }
                    un = Math.sqrt(un);
                    for (int i = 0; i < u.length; i++) { u[i] /= un; analytic += g[i] * u[i]; }
                    double h = 3e-3;
                    long clipped = pl.clippedTokens();
                    double fd = (-loss(tm, p, v0, u, 2 * h, seqs, ps, agg, clipped) + 8 * loss(tm, p, v0, u, h, seqs, ps, agg, clipped)
                            - 8 * loss(tm, p, v0, u, -h, seqs, ps, agg, clipped) + loss(tm, p, v0, u, -2 * h, seqs, ps, agg, clipped)) / (12 * h);
                    p.value().copyFrom(Tensor.of(v0, p.value().shape()));
                    double err = Math.abs(fd - analytic) / Math.max(Math.abs(analytic), 1e-3);
                    worst = Math.max(worst, err);
                    assertTrue(err <= 2e-3, agg + " " + p.name() + ": finite difference " + fd + ", backward " + analytic);
                }
                System.out.printf("PPO loss (%s) through the model: %d tensors, worst relative error %.2e%n", agg.label(), tm.parameters().size(), worst);
            }
        }
    }

    /** The loss with p.value = v0 + eps·u; asserts that the same tokens are clipped as at the centre. */
    static double loss(TrainableModel tm, Param p, float[] v0, double[] u, double eps, int[][] seqs, List<PolicyLoss.Seq> ps,
                       Aggregation agg, long clipped) {
        for (int i = 0; i < v0.length; i++) p.value().setFloat(i, (float) (v0[i] + eps * u[i]));
        float[][] logp = tm.transformer().logProbs(seqs);
        PolicyLoss pl = new PolicyLoss(ps, EPS, agg, 2, ps.get(0).logpOld().length + ps.get(1).logpOld().length);
        double l = 0;
        for (int b = 0; b < seqs.length; b++) l += pl.apply(b, logp[b], new float[logp[b].length]);
        assertEquals(clipped, pl.clippedTokens(), "a token crossed a clipping boundary within the stencil: lower h");
        return l;
    }

    static int[] ids(SplittableRandom rng, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = rng.nextInt(378);
        return a;
    }

    static double norm(float[] a) {
        double s = 0;
        for (float x : a) s += (double) x * x;
        return Math.sqrt(s);
    }
}
