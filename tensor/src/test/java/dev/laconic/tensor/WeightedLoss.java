package dev.laconic.tensor;

/**
 * The weighted token cross-entropy L = −Σ_t w[t]·logp[t] / Σ_t w[t] through the chunked LM head, as the
 * trainers' token objective feeds it (dlogp[t] = −w[t] / Σ w): the composite the op goldens check
 * {@link Ops#lmHeadLogProbs}'s fused backward with.
 */
final class WeightedLoss {
    private WeightedLoss() {}

    /** Returns L; when dh/dwOut are given, also their gradients (dh assigned, dwOut accumulated). */
    static double crossEntropy(Ops ops, Tensor h, Tensor wOut, int[] targets, float[] weight, Tensor dh, Tensor dwOut) {
        int tTotal = h.dim(0);
        double wsum = 0;
        for (int t = 0; t < tTotal; t++) wsum += weight[t];
        Tensor logp = Tensor.zeros(DType.F32, tTotal);
        Tensor dlogp = null;
        if (dh != null || dwOut != null) {
            float[] g = new float[tTotal];
            for (int t = 0; t < tTotal; t++) g[t] = (float) (-weight[t] / wsum);
            dlogp = Tensor.of(g, tTotal);
        }
        ops.lmHeadLogProbs(h, wOut, targets, logp, dlogp, dh, dwOut);
        double loss = 0;
        for (int t = 0; t < tTotal; t++) loss -= weight[t] * logp.getFloat(t);
        return loss / wsum;
    }
}
