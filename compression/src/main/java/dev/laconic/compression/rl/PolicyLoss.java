package dev.laconic.compression.rl;

import dev.laconic.training.TokenObjective;

import java.util.List;
import java.util.Locale;

/**
 * The PPO clipped surrogate (Schulman et al. 2017) on the training core's per-token objective:
 * {@link dev.laconic.training.TrainableModel#forwardBackward} hands over logp = log π_θ of every
 * predicted token of a sequence and takes dLoss/dlogp back.
 * <pre>
 *   ρ_t = exp(logp_t − logp_old_t)
 *   ℓ_t = −min(ρ_t·A_t, clip(ρ_t, 1−ε, 1+ε)·A_t)
 *   dℓ_t/dlogp_t = −ρ_t·A_t   where the unclipped term is the min (dρ/dlogp = ρ)
 *                = 0          where the clipped term is strictly smaller (clip is flat there):
 *                             A &gt; 0 and ρ &gt; 1+ε, or A &lt; 0 and ρ &lt; 1−ε
 *   sequence mean:  L = (1/S)·Σ_i (1/T_i)·Σ_t ℓ_it     S = sequences of the optimizer step (the authors', OpenRLHF's)
 *   token mean:     L = (1/N)·Σ_i Σ_t ℓ_it             N = completion tokens of the optimizer step
 * </pre>
 * Only completion tokens enter: sequence i is prompt + completion, and its completion token j is
 * predicted at logp index offset + j with offset = prompt length − 1. A step's minibatch may be split
 * into micro-batches; each gets its own PolicyLoss with the whole step's S or N, so the gradients
 * add up to those of one pass. The loss normalisation changes length behaviour: with the sequence
 * mean a token of a short completion weighs more than one of a long completion.
 */
public final class PolicyLoss implements TokenObjective {

    public enum Aggregation {
        SEQUENCE_MEAN, TOKEN_MEAN;

        public static Aggregation parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "seq-mean", "sequence-mean", "seq_mean" -> SEQUENCE_MEAN;
                case "token-mean", "token_mean" -> TOKEN_MEAN;
                default -> throw new IllegalArgumentException("aggregation must be seq-mean or token-mean, not " + s);
            };
        }

        public String label() { return this == SEQUENCE_MEAN ? "seq-mean" : "token-mean"; }
    }

    /**
     * One sequence of a micro-batch.
     *
     * @param offset     logp index of the first completion token (prompt length − 1)
     * @param logpOld    [T] log π_old of the completion tokens
     * @param advantages [T] whitened advantages
     */
    public record Seq(int offset, float[] logpOld, double[] advantages) {
        public Seq {
            if (logpOld.length != advantages.length) throw new IllegalArgumentException(logpOld.length + " old log-probs, " + advantages.length + " advantages");
            if (logpOld.length == 0) throw new IllegalArgumentException("a completion has at least one token");
        }
    }

    /** One token's loss ℓ, its derivative dℓ/dlogp, and whether the clipped term was the min. */
    public record Token(double loss, double grad, boolean clipped) {}

    public static Token token(double logp, double logpOld, double advantage, double eps) {
        double rho = Math.exp(logp - logpOld);
        double unclipped = rho * advantage, clipped = Math.clamp(rho, 1 - eps, 1 + eps) * advantage;
        if (clipped < unclipped) return new Token(-clipped, 0, true);
        return new Token(-unclipped, -unclipped, false);         // dℓ/dlogp = −A·dρ/dlogp = −ρA
    }

    private final List<Seq> seqs;
    private final double eps;
    private final Aggregation aggregation;
    private final int stepSequences;
    private final long stepTokens;
    // what this micro-batch saw (read after forwardBackward)
    private long tokens, clippedTokens;
    private double oldMinusNew, loss;

    /**
     * @param seqs          the micro-batch, in the order its sequences go to forwardBackward
     * @param stepSequences S: sequences of the whole optimizer step
     * @param stepTokens    N: completion tokens of the whole optimizer step
     */
    public PolicyLoss(List<Seq> seqs, double eps, Aggregation aggregation, int stepSequences, long stepTokens) {
        if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("clipEps must be in (0, 1), got " + eps);
        if (stepSequences < 1 || stepTokens < 1) throw new IllegalArgumentException("an optimizer step needs at least one token");
        this.seqs = List.copyOf(seqs);
        this.eps = eps;
        this.aggregation = aggregation;
        this.stepSequences = stepSequences;
        this.stepTokens = stepTokens;
    }

    @Override
    public double apply(int b, float[] logp, float[] dlogp) {
        Seq s = seqs.get(b);
        int n = s.logpOld().length;
        if (s.offset() < 0 || s.offset() + n > logp.length)
            throw new IllegalArgumentException("sequence " + b + ": completion [" + s.offset() + ", " + (s.offset() + n)
                    + ") outside its " + logp.length + " log-probs");
        java.util.Arrays.fill(dlogp, 0f);                            // prompt positions: no loss
        double w = aggregation == Aggregation.SEQUENCE_MEAN ? 1.0 / ((double) n * stepSequences) : 1.0 / stepTokens;
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double lp = logp[s.offset() + j], old = s.logpOld()[j];
            Token t = token(lp, old, s.advantages()[j], eps);
            sum += t.loss();
            dlogp[s.offset() + j] = (float) (w * t.grad());
            if (t.clipped()) clippedTokens++;
            oldMinusNew += old - lp;
        }
        tokens += n;
        loss += w * sum;
        return w * sum;
    }

    public long tokens() { return tokens; }
    public long clippedTokens() { return clippedTokens; }
    /** Σ (logp_old − logp) over the tokens seen: the k1 estimate of KL(π_old ‖ π_θ) times their count. */
    public double oldMinusNew() { return oldMinusNew; }
    /** This micro-batch's share of the step's loss. */
    public double loss() { return loss; }
}
