package dev.laconic.compression.rl;

import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Sample;
import dev.laconic.compression.gym.GymModel;
import dev.laconic.compression.gym.GymTokenizer;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.Weights;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny random Qwen2 on the gym tokenizer (hidden 32, one layer) that ends its completions early:
 * GPT-2-style random weights, plus one embedding column set to 1 in every row (1 + shift in EOS's row).
 * That column dominates the residual stream, so after RMSNorm it is ≈ √32 at every position and the tied
 * LM head gives EOS a logit ≈ √32·shift above the rest: shift 0.5 → p(EOS) ≈ 3.6 % per token (lengths of
 * tens of tokens, some cut at a cap of 40); shift −2 → EOS practically never.
 */
public final class TinyPolicy {
    public static final Tokenizer TOK = GymTokenizer.load();
    static final GymModel.Size SIZE = new GymModel.Size(32, 1, 2, 1, 64, 256);

    private TinyPolicy() {}

    static ModelConfig config() {
        return GymModel.config(SIZE, TOK);
    }

    static Weights weights(double eosShift, long seed) {
        ModelConfig cfg = config();
        Weights w = GymModel.init(cfg, seed);
        Tensor e = w.embed();                                         // [V, C], tied with the LM head
        for (int v = 0; v < cfg.vocab(); v++) e.setFloat((long) v * cfg.hidden(), 1f);
        e.setFloat((long) TOK.eosId() * cfg.hidden(), (float) (1 + eosShift));
        return w;
    }

    static Transformer transformer(double eosShift, long seed) {
        return new Transformer(config(), weights(eosShift, seed), new VectorOps());
    }

    /** The same model as a Hugging Face directory (for the command line). */
    public static void writeHf(Path dir, double eosShift, long seed) throws IOException {
        Transformer t = transformer(eosShift, seed);
        GymModel.writeHf(dir, t.config(), TrainableModel.full(t).exportWeights(false), DType.F32);
    }

    /** n short arithmetic problems (their answers are never produced by a random model). */
    static List<Problem> problems(int n) {
        List<Problem> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new Problem(i, "p" + i, "What is " + i + " + " + (i + 2) + "?", Integer.toString(2 * i + 2), "1"));
        return out;
    }

    /** A grader with signal for a random model: correct = ended with EOS and the first token's id is even. */
    static Sample evenFirstToken(Problem p, Completion c) {
        boolean ok = c.finish() == Completion.Finish.EOS && c.ids()[0] % 2 == 0;
        return new Sample(p.index(), p.id(), c.sample(), p.difficulty(), "", c.ids().length, 0,
                c.finish().name().toLowerCase(java.util.Locale.ROOT), null, ok);
    }

    /** correct = ended with EOS (any answer). */
    static Sample terminated(Problem p, Completion c) {
        boolean ok = c.finish() == Completion.Finish.EOS;
        return new Sample(p.index(), p.id(), c.sample(), p.difficulty(), "", c.ids().length, 0,
                c.finish().name().toLowerCase(java.util.Locale.ROOT), null, ok);
    }
}
