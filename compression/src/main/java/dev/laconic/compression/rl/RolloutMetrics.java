package dev.laconic.compression.rl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.plot.Axis;
import dev.laconic.compression.plot.Plot;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One line of RUN_DIR/metrics.jsonl: what a rollout sampled and what its update did. These are the
 * guard rails users watch (methods.md, "Known failure modes"): accuracy collapsing when the penalty
 * dominates, all-wrong groups (zero advantage), and a cap so small that every sample is cut.
 * <pre>
 *   step                 rollouts done (checkpoints are named by it)
 *   optimizer_step       optimizer steps done;  lr: the last step's learning rate
 *   reward               mean r over the P·n samples
 *   accuracy             correct / samples
 *   mean_length          completion tokens (EOS included), over all samples / the correct ones /
 *   mean_length_correct  the terminated ones (ended with EOS); null when there are none
 *   mean_length_terminated
 *   clipped_ratio        samples cut at --max-tokens / samples
 *   kl                   Σ (logp_old − logp_ref) / completion tokens   (k1, per token, policy vs the start)
 *   kl_per_sequence      Σ (logp_old − logp_ref) / samples
 *   all_wrong_groups     prompts whose n samples are all wrong (no reward signal but the KL term)
 *   all_correct_groups   prompts whose n samples are all correct
 *   policy_loss          mean over the rollout's optimizer steps of the PPO loss
 *   clip_fraction        completion tokens where the clipped term was the min / tokens trained on
 *   approx_kl            Σ (logp_old − logp_θ) / tokens, over every minibatch (0 on the first: ρ = 1)
 *   grad_norm            mean over the rollout's steps of ‖g‖ before clipping
 *   advantage_std        std of the per-token returns before whitening
 * </pre>
 */
public record RolloutMetrics(long step, long optimizerStep, double lr, double reward, double accuracy, double meanLength,
                             double meanLengthCorrect, double meanLengthTerminated, double clippedRatio, double kl,
                             double klPerSequence, int allWrongGroups, int allCorrectGroups, int samples, long tokens,
                             double policyLoss, double clipFraction, double approxKl, double gradNorm, double advantageStd) {

    /** What a rollout's samples say, before any update. */
    public record SampleStats(double reward, double accuracy, double meanLength, double meanLengthCorrect,
                              double meanLengthTerminated, double clippedRatio, int allWrongGroups, int allCorrectGroups,
                              int samples, long tokens) {}

    /** Sample statistics of a graded rollout and its rewards ({@code rewards[i]} of item i). NaN: no such sample. */
    public static SampleStats samples(Rollout r, double[] rewards) {
        int n = r.items().size(), correct = 0, cut = 0, terminated = 0, allWrong = 0, allCorrect = 0;
        long tokens = 0, tokensCorrect = 0, tokensTerminated = 0;
        double reward = 0;
        for (int i = 0; i < n; i++) {
            Rollout.Item it = r.items().get(i);
            tokens += it.tokens();
            reward += rewards[i];
            if (it.correct()) { correct++; tokensCorrect += it.tokens(); }
            if (it.cut()) cut++;
            else { terminated++; tokensTerminated += it.tokens(); }
        }
        for (int g = 0; g < r.groups(); g++) {
            int c = 0;
            for (Rollout.Item it : r.group(g)) if (it.correct()) c++;
            if (c == 0) allWrong++;
            if (c == r.samples()) allCorrect++;
        }
        return new SampleStats(reward / n, (double) correct / n, (double) tokens / n,
                correct == 0 ? Double.NaN : (double) tokensCorrect / correct,
                terminated == 0 ? Double.NaN : (double) tokensTerminated / terminated, (double) cut / n, allWrong, allCorrect, n, tokens);
    }

    /** Every sample of the rollout was cut at the cap: nothing to learn from, and more rollouts will not change that. */
    public static final class AllCut extends IllegalStateException {
        AllCut(String message) { super(message); }
    }

    /** The guard rail: stops the run when no sample ended with EOS. */
    public static void requireSomeTerminated(Rollout r, int maxTokens) {
        for (Rollout.Item it : r.items()) if (!it.cut()) return;
        throw new AllCut("rollout " + r.number() + ": all " + r.items().size() + " samples were cut at maxTokens " + maxTokens
                + " before ending with EOS, so every reward is 0 and nothing can be learned. Raise maxTokens"
                + " (the model's answers are longer than the cap) or check the prompt template and data format.");
    }

    static RolloutMetrics of(long step, long optimizerStep, double lr, SampleStats s, double kl, double klPerSequence,
                             double policyLoss, double clipFraction, double approxKl, double gradNorm, double advantageStd) {
        return new RolloutMetrics(step, optimizerStep, lr, s.reward(), s.accuracy(), s.meanLength(), s.meanLengthCorrect(),
                s.meanLengthTerminated(), s.clippedRatio(), kl, klPerSequence, s.allWrongGroups(), s.allCorrectGroups(),
                s.samples(), s.tokens(), policyLoss, clipFraction, approxKl, gradNorm, advantageStd);
    }

    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("step", step);
        o.put("optimizer_step", optimizerStep);
        o.put("lr", lr);
        o.put("reward", reward);
        o.put("accuracy", accuracy);
        o.put("mean_length", meanLength);
        number(o, "mean_length_correct", meanLengthCorrect);
        number(o, "mean_length_terminated", meanLengthTerminated);
        o.put("clipped_ratio", clippedRatio);
        o.put("kl", kl);
        o.put("kl_per_sequence", klPerSequence);
        o.put("all_wrong_groups", allWrongGroups);
        o.put("all_correct_groups", allCorrectGroups);
        o.put("samples", samples);
        o.put("tokens", tokens);
        o.put("policy_loss", policyLoss);
        o.put("clip_fraction", clipFraction);
        o.put("approx_kl", approxKl);
        o.put("grad_norm", gradNorm);
        o.put("advantage_std", advantageStd);
        return o;
    }

    /** The inverse of {@link #toJson} (curves of a resumed run are drawn from the file). */
    public static RolloutMetrics fromJson(JsonNode o) {
        return new RolloutMetrics(o.path("step").asLong(), o.path("optimizer_step").asLong(), d(o, "lr"), d(o, "reward"),
                d(o, "accuracy"), d(o, "mean_length"), d(o, "mean_length_correct"), d(o, "mean_length_terminated"),
                d(o, "clipped_ratio"), d(o, "kl"), d(o, "kl_per_sequence"), o.path("all_wrong_groups").asInt(),
                o.path("all_correct_groups").asInt(), o.path("samples").asInt(), o.path("tokens").asLong(), d(o, "policy_loss"),
                d(o, "clip_fraction"), d(o, "approx_kl"), d(o, "grad_norm"), d(o, "advantage_std"));
    }

    private static double d(JsonNode o, String f) {
        JsonNode n = o.get(f);
        return n == null || !n.isNumber() ? Double.NaN : n.asDouble();
    }

    private static void number(ObjectNode o, String f, double v) {
        if (Double.isNaN(v)) o.putNull(f);
        else o.put(f, v);
    }

    // ---- curves.png ----------------------------------------------------------------------------

    /**
     * RUN_DIR/curves.png and curves.svg, redrawn after every rollout from metrics.jsonl and eval.jsonl (so a resumed run
     * draws its whole history): reward; accuracy and the share cut at the cap; completion length (all,
     * correct, dev); KL to the starting model.
     */
    static void drawCurves(RunDir run) throws IOException {
        List<RolloutMetrics> rows = new ArrayList<>();
        for (JsonNode n : readLines(run.metrics())) rows.add(fromJson(n));
        if (rows.isEmpty()) return;
        List<JsonNode> evals = readLines(run.dir().resolve(RlTrainer.EVAL_LOG));
        double[] x = new double[rows.size()];
        for (int i = 0; i < x.length; i++) x[i] = rows.get(i).step();
        double[] ex = new double[evals.size()], eacc = new double[evals.size()], etok = new double[evals.size()];
        for (int i = 0; i < ex.length; i++) {
            ex[i] = evals.get(i).path("step").asDouble();
            eacc[i] = evals.get(i).path("accuracy").asDouble(Double.NaN);
            etok[i] = evals.get(i).path("mean_completion_tokens").asDouble(Double.NaN);
        }
        List<Plot.Series> acc = new ArrayList<>(List.of(curve("train accuracy", x, rows, RolloutMetrics::accuracy),
                curve("cut at the cap", x, rows, RolloutMetrics::clippedRatio)));
        List<Plot.Series> len = new ArrayList<>(List.of(curve("all samples", x, rows, RolloutMetrics::meanLength),
                curve("correct samples", x, rows, RolloutMetrics::meanLengthCorrect)));
        if (ex.length > 0) {
            acc.add(Plot.Series.marked("dev accuracy", ex, eacc));
            len.add(Plot.Series.marked("dev", ex, etok));
        }
        String faint = rows.size() >= 6 ? " (faint: each rollout, bold: moving average)" : "";
        Plot.write(run.dir().resolve(RlTrainer.CURVES), Axis.count("rollout"), List.of(
                new Plot.Panel("mean reward" + faint, Axis.real("reward"), List.of(curve("reward", x, rows, RolloutMetrics::reward))),
                new Plot.Panel("accuracy" + faint, Axis.fraction("fraction"), acc),
                new Plot.Panel("completion length" + faint, Axis.nonNegative("tokens"), len),
                new Plot.Panel("KL to the starting model (k1, per token)" + faint, Axis.real("nats"),
                        List.of(curve("kl", x, rows, RolloutMetrics::kl)))));
    }

    private static Plot.Series curve(String name, double[] x, List<RolloutMetrics> rows, ToDoubleFunction<RolloutMetrics> f) {
        double[] y = new double[rows.size()];
        for (int i = 0; i < y.length; i++) y[i] = f.applyAsDouble(rows.get(i));
        return Plot.Series.smoothed(name, x, y);
    }

    private static List<JsonNode> readLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) return out;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8))
            if (!line.isBlank()) out.add(RunDir.JSON.readTree(line));
        return out;
    }
}
