package dev.laconic.training;

/**
 * The one objective shape every trainer uses: per-token log-probabilities of given sequences in,
 * the loss and dLoss/dlogp out. SFT, TL;DR, gym pretraining and the train bench use
 * {@link #crossEntropy}; the RL trainer supplies its PPO policy loss through the same interface.
 */
@FunctionalInterface
public interface TokenObjective {
    /**
     * @param seq   index of the sequence in the batch
     * @param logp  log p(ids[t+1] | ids[≤t]) for t = 0..n-2 (one entry per predicted token)
     * @param dlogp receives dLoss/dlogp, same length (assign every entry)
     * @return this sequence's contribution to the loss
     */
    double apply(int seq, float[] logp, float[] dlogp);

    /**
     * Weighted token cross-entropy over a batch: L = −Σ_b Σ_t w[b][t]·logp[b][t] / Σ_b Σ_t w[b][t],
     * so the loss is the mean −log p over all its masked positions (the SFT loss).
     *
     * @param weights per sequence, one weight per predicted token (0 masks prompt tokens)
     */
    static TokenObjective crossEntropy(float[][] weights) {
        double total = 0;
        for (float[] w : weights) for (float x : w) total += x;
        return crossEntropy(weights, total);
    }

    /**
     * The same with the normaliser given: L = −Σ_b Σ_t w[b][t]·logp[b][t] / positions. A micro-batch
     * passes the positions of its whole optimizer step, so that the micro-batches' losses and
     * gradients add up to the step's mean −log p.
     */
    static TokenObjective crossEntropy(float[][] weights, double positions) {
        if (!(positions > 0)) throw new IllegalArgumentException("no position has a positive loss weight");
        return (seq, logp, dlogp) -> {
            float[] w = weights[seq];
            if (w.length != logp.length) throw new IllegalArgumentException("sequence " + seq + ": " + w.length + " weights for " + logp.length + " positions");
            double loss = 0;
            for (int t = 0; t < logp.length; t++) {
                loss -= w[t] * (double) logp[t];
                dlogp[t] = (float) (-w[t] / positions);
            }
            return loss / positions;
        };
    }
}
