package dev.laconic.tensor;

/** The SFT loss on one sequence over {@link Ops#lmHeadLogProbs}: what the ReferenceOps tests check the LM head with. */
final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Weighted token cross-entropy, the SFT loss: L = −Σ_t weight[t]·logp[t] / Σ_t weight[t]
     * (weight 0 masks prompt tokens), through {@link Ops#lmHeadLogProbs}. Returns L; when dh/dwOut are
     * given, also their gradients. (The trainers' batched form is training's TokenObjective.crossEntropy.)
     */
    static double of(Ops ops, Tensor h, Tensor wOut, int[] targets, float[] weight, Tensor dh, Tensor dwOut) {
        int tTotal = h.dim(0);
        if (weight.length != tTotal)
            throw new IllegalArgumentException("crossEntropy: " + weight.length + " weights for h " + h);
        double wsum = 0;
        for (int t = 0; t < tTotal; t++) wsum += weight[t];
        if (wsum <= 0) throw new IllegalArgumentException("cross-entropy weights sum to " + wsum);
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
