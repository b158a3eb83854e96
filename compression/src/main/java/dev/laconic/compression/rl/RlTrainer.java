package dev.laconic.compression.rl;

import dev.laconic.compression.eval.EvalSettings;
import dev.laconic.compression.eval.Evaluator;
import dev.laconic.compression.eval.Problem;
import dev.laconic.compression.eval.Summary;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.tensor.DType;
import dev.laconic.training.AdamW;
import dev.laconic.training.Checkpoints;
import dev.laconic.training.Diverged;
import dev.laconic.training.Export;
import dev.laconic.training.OptimizerStep;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;
import dev.laconic.training.Schedule;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Method B: RL with the length-penalised correctness reward (Arora &amp; Zanette), RLOO advantages,
 * k1 KL shaping to the starting model, whitening and the PPO clipped surrogate. Each rollout r:
 * <pre>
 *   problems  ← positions (r−1)·P … r·P−1 of the prompt stream (epoch after epoch over the data,
 *               each epoch in a permutation seeded by (seed, epoch))
 *   rollout   ← P × n samples from the current policy, graded ({@link Rollout}); stop if all are cut
 *   plan      ← per epoch: the P·n samples in a permutation seeded by (seed, r, epoch), cut into
 *               minibatches of --minibatch sequences, each split into micro-batches of ≤ --micro-batch-tokens
 *   logp_old  ← forward of the rollout policy over epoch 0's micro-batches, no gradient (so ρ = 1
 *               exactly on the first minibatch; the sampler's log-probs include the temperature)
 *   logp_ref  ← the same with the starting model: LoRA → adapters off; full → the frozen loaded weights
 *   A         ← {@link Rewards}: reward, RLOO, k1 shaping, returns (γ = 1), whitening over the batch
 *   for each epoch, for each minibatch, one {@link OptimizerStep}: g ← 0; backward({@link PolicyLoss})
 *               per micro-batch; clip ‖g‖, stop on NaN/Inf, AdamW with lr = warm-up then constant
 *   metrics.jsonl line; eval.jsonl line every --eval-every rollouts; checkpoint; curves.png
 * </pre>
 * Everything random is a function of (seed, rollout), and a checkpoint ({@link Checkpoints}) holds weights
 * and AdamW state, so a resumed run computes exactly what the uninterrupted one would (same thread count).
 */
public final class RlTrainer {
    public static final String EVAL_LOG = "eval.jsonl", CURVES = "curves.png", MERGED = "final-merged";

    private RlTrainer() {}

    /**
     * @param promptsPerRollout P
     * @param rollouts          total rollouts of the run
     * @param beta              KL coefficient
     * @param minibatch         sequences per optimizer step
     * @param epochs            passes over each rollout
     * @param warmupSteps       linear warm-up of the lr over optimizer steps (the first runs at 0, as transformers)
     * @param clip              gradient-norm clipping (0: off)
     * @param saveEvery         checkpoint every this many rollouts (0: only at the end or at stopAfter)
     * @param stopAfter         rollouts to run in this call before checkpointing and returning
     * @param base              the base model directory (its config/tokenizer files go into the export)
     */
    public record Options(double alpha, int promptsPerRollout, Rollout.Sampling sampling, int rollouts, double beta,
                          double clipEps, int minibatch, int epochs, PolicyLoss.Aggregation aggregation, double lr,
                          int warmupSteps, AdamW.Hyper hyper, double clip, int microBatchTokens, long seed, int saveEvery,
                          int keep, long stopAfter, Path base, DType saveDtype) {
        public Options {
            if (!(alpha >= 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in [0, 1), got " + alpha);
            if (promptsPerRollout < 1) throw new IllegalArgumentException("promptsPerRollout must be ≥ 1, got " + promptsPerRollout);
            if (rollouts < 1) throw new IllegalArgumentException("rollouts must be ≥ 1, got " + rollouts);
            if (!(beta >= 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("beta must be a finite number ≥ 0, got " + beta);
            if (!(clipEps > 0 && clipEps < 1)) throw new IllegalArgumentException("clipEps must be in (0, 1), got " + clipEps);
            if (minibatch < 1) throw new IllegalArgumentException("minibatch must be ≥ 1, got " + minibatch);
            if (epochs < 1) throw new IllegalArgumentException("epochs must be ≥ 1, got " + epochs);
            if (microBatchTokens < 1) throw new IllegalArgumentException("microBatchTokens must be ≥ 1, got " + microBatchTokens);
            if (!(clip >= 0)) throw new IllegalArgumentException("clip must be ≥ 0 (0: no clipping), got " + clip);
            if (saveEvery < 0 || keep < 0) throw new IllegalArgumentException("saveEvery and keep must be ≥ 0");
            if (stopAfter < 1) throw new IllegalArgumentException("stopAfter must be ≥ 1, got " + stopAfter);
            new Schedule(Schedule.Kind.WARMUP, lr, warmupSteps, 1);    // validates lr and warm-up
        }

        /** Optimizer steps per rollout: ⌈P·n / minibatch⌉ per epoch. */
        public int stepsPerRollout() {
            int seqs = promptsPerRollout * sampling.samples();
            return (seqs + minibatch - 1) / minibatch * epochs;
        }
    }

    /** In-process evaluation on the current weights: before the first rollout, every {@code every} rollouts and after the last. */
    public record Eval(List<Problem> problems, EvalSettings settings, int every) {
        public Eval {
            if (problems.isEmpty()) throw new IllegalArgumentException("eval problems: none");
            if (every < 0) throw new IllegalArgumentException("eval every must be ≥ 0, got " + every);
        }

        boolean due(long step, int rollouts) {
            return step == 0 || step == rollouts || (every > 0 && step % every == 0);
        }
    }

    /** Wall-clock split of one rollout (progress only: never in metrics.jsonl, which must be reproducible). */
    public record Timing(double generate, double score, double train) {}

    /** What the caller hears about (progress display). */
    public interface Listener {
        default void token() {}
        default void rollout(RolloutMetrics m, Timing t) {}
        default void evaluated(long step, Summary.Metrics m) {}
    }

    /** @param completed all rollouts done and RUN_DIR/final written; {@code step} = rollouts done so far */
    public record Result(long startStep, long step, boolean completed, RolloutMetrics last) {}

    /**
     * @param reference the starting model for full fine-tuning (the loaded weights, which {@link TrainableModel#full}
     *                  copied); null with LoRA, whose reference is the same weights with the adapters off
     * @param eval      null: no evaluation
     */
    public static Result run(TrainableModel tm, Transformer reference, Tokenizer tok, List<Problem> train, Options o, Eval eval,
                             RunDir run, boolean resume, Rollout.Grader grader, Listener listener) throws IOException {
        return run(tm, reference, tok, train, o, eval, run, resume, grader, listener, GenerationBackend.IN_PROCESS);
    }

    /**
     * As above, with rollouts and evaluations decoded by {@code backend}: the policy it is handed is {@code tm} on
     * the base in {@link Options#base()}, versioned by the optimizer steps done.
     */
    public static Result run(TrainableModel tm, Transformer reference, Tokenizer tok, List<Problem> train, Options o, Eval eval,
                             RunDir run, boolean resume, Rollout.Grader grader, Listener listener, GenerationBackend backend)
            throws IOException {
        if (train.isEmpty()) throw new IllegalArgumentException("no training problems");
        if (reference == null && tm.loraConfig() == null)
            throw new IllegalArgumentException("full fine-tuning needs the starting model as the KL reference");
        Listener events = listener != null ? listener : new Listener() {};
        OptimizerStep opt = new OptimizerStep(tm, o.hyper(), o.clip());
        Checkpoints checkpoints = new Checkpoints(run, opt, o.seed(), o.keep());
        Schedule schedule = new Schedule(Schedule.Kind.WARMUP, o.lr(), o.warmupSteps(), Math.max(1, o.rollouts() * o.stepsPerRollout()));
        long start = resume ? restore(checkpoints, run) : 0;
        tm.adaptersEnabled(true);
        if (eval != null && start == 0) evaluate(policy(tm, tok, o, opt), backend, eval, run, 0, events);

        RolloutMetrics m = null;
        long step = start;
        while (step < o.rollouts() && step - start < o.stopAfter()) {
            int r = (int) step + 1;
            // 1. sample P × n completions from the current policy
            long t0 = System.nanoTime();
            int[] positions = new int[o.promptsPerRollout()];
            List<Problem> problems = prompts(train, o.promptsPerRollout(), o.seed(), r, positions);
            Rollout ro = Rollout.generate(r, policy(tm, tok, o, opt), backend, problems, positions, o.sampling(), grader, events::token);
            RolloutMetrics.requireSomeTerminated(ro, o.sampling().maxTokens());
            long t1 = System.nanoTime();

            // 2. logp_old, logp_ref over epoch 0's micro-batches; rewards, RLOO, k1 shaping, returns, whitening
            int[][] seqs = new int[ro.items().size()][];
            for (int i = 0; i < seqs.length; i++) seqs[i] = ro.items().get(i).sequence();
            List<List<List<Integer>>> plan0 = plan(ro, seqs, o, r, 0);
            Scores sc = score(tm, reference, ro, seqs, plan0);
            Advantages adv = advantages(ro, sc, o);
            long t2 = System.nanoTime();

            // 3. PPO epochs over minibatches
            Update u = update(opt, schedule, ro, seqs, plan0, sc, adv, o, r);
            long t3 = System.nanoTime();

            step++;
            m = RolloutMetrics.of(step, opt.done(), u.lr(), RolloutMetrics.samples(ro, adv.rewards()), sc.klSum() / sc.tokens(),
                    sc.klSum() / seqs.length, u.loss(), u.clipFraction(), u.approxKl(), u.gradNorm(), adv.whitening().std());
            run.appendMetrics(RunDir.TRAIN, m.toJson());
            events.rollout(m, new Timing((t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9));
            if (eval != null && eval.due(step, o.rollouts())) evaluate(policy(tm, tok, o, opt), backend, eval, run, step, events);
            boolean last = step == o.rollouts() || step - start == o.stopAfter();
            if ((o.saveEvery() > 0 && step % o.saveEvery() == 0) || last) checkpoints.save(step, step * o.promptsPerRollout(), 0, null);
            RolloutMetrics.drawCurves(run);
        }
        boolean completed = step == o.rollouts();
        if (completed) writeFinal(tm, o, run);
        return new Result(start, step, completed, m);
    }

    /** log π_old and log π_ref of every item's completion tokens; klSum = Σ (logp_old − logp_ref) over them. */
    record Scores(float[][] logpOld, float[][] logpRef, double klSum, long tokens) {}

    /**
     * Both forwards run over the micro-batches of epoch 0's plan, the grouping the first optimizer step
     * uses, so its forward reproduces logp_old bit for bit (ρ = 1).
     */
    static Scores score(TrainableModel tm, Transformer reference, Rollout ro, int[][] seqs, List<List<List<Integer>>> plan0) {
        float[][] logpOld = new float[seqs.length][], logpRef = new float[seqs.length][];
        for (List<List<Integer>> mb : plan0)
            for (List<Integer> micro : mb) {
                completionLogProbs(tm.transformer(), ro, seqs, micro, logpOld);
                if (reference != null) completionLogProbs(reference, ro, seqs, micro, logpRef);
                else {
                    tm.adaptersEnabled(false);                          // LoRA: the base is the reference
                    try {
                        completionLogProbs(tm.transformer(), ro, seqs, micro, logpRef);
                    } finally {
                        tm.adaptersEnabled(true);
                    }
                }
            }
        double kl = 0;
        long tokens = 0;
        for (int i = 0; i < seqs.length; i++) {
            for (int t = 0; t < logpOld[i].length; t++) kl += (double) logpOld[i][t] - logpRef[i][t];
            tokens += logpOld[i].length;
        }
        return new Scores(logpOld, logpRef, kl, tokens);
    }

    /** rewards[i] of item i; perToken[i][t] the whitened advantage of its completion token t. */
    record Advantages(double[] rewards, double[][] perToken, Rewards.Whitening whitening) {}

    /** Per group: reward → RLOO → k1-shaped returns; then whitening over every token of the rollout ({@link Rewards}). */
    static Advantages advantages(Rollout ro, Scores sc, Options o) {
        int n = ro.samples(), count = ro.items().size();
        double[] rewards = new double[count];
        double[][] adv = new double[count][];
        for (int g = 0; g < ro.groups(); g++) {
            int[] len = new int[n];
            boolean[] ok = new boolean[n];
            for (int j = 0; j < n; j++) {
                Rollout.Item it = ro.items().get(g * n + j);
                len[j] = it.tokens();
                ok[j] = it.correct();
            }
            double[] rg = Rewards.rewards(len, ok, o.alpha());
            double[] a = Rewards.rloo(rg);
            for (int j = 0; j < n; j++) {
                int i = g * n + j;
                rewards[i] = rg[j];
                adv[i] = Rewards.returns(a[j], sc.logpOld()[i], sc.logpRef()[i], o.beta());
            }
        }
        return new Advantages(rewards, adv, Rewards.whiten(Arrays.asList(adv)));
    }

    /** Means over the rollout's optimizer steps (loss, ‖g‖) and over its trained tokens (clipped share, k1 of π_old vs π_θ). */
    record Update(double loss, double clipFraction, double approxKl, double gradNorm, double lr) {}

    /** The PPO epochs: per minibatch, gradients of the clipped surrogate summed over its micro-batches, one optimizer step. */
    static Update update(OptimizerStep opt, Schedule schedule, Rollout ro, int[][] seqs, List<List<List<Integer>>> plan0,
                         Scores sc, Advantages adv, Options o, int r) {
        double lossSum = 0, gradSum = 0, oldMinusNew = 0, lr = 0;
        long clipped = 0, trained = 0;
        int steps = 0;
        for (int e = 0; e < o.epochs(); e++) {
            for (List<List<Integer>> mb : e == 0 ? plan0 : plan(ro, seqs, o, r, e)) {
                int stepSeqs = 0;
                long stepTokens = 0;
                for (List<Integer> micro : mb)
                    for (int i : micro) { stepSeqs++; stepTokens += sc.logpOld()[i].length; }
                opt.zeroGrad();
                for (List<Integer> micro : mb) {
                    List<PolicyLoss.Seq> ps = new ArrayList<>(micro.size());
                    List<int[]> ids = new ArrayList<>(micro.size());
                    for (int i : micro) {
                        ps.add(new PolicyLoss.Seq(ro.items().get(i).offset(), sc.logpOld()[i], adv.perToken()[i]));
                        ids.add(seqs[i]);
                    }
                    PolicyLoss pl = new PolicyLoss(ps, o.clipEps(), o.aggregation(), stepSeqs, stepTokens);
                    opt.backward(ids, pl);
                    clipped += pl.clippedTokens();
                    trained += pl.tokens();
                    oldMinusNew += pl.oldMinusNew();
                }
                OptimizerStep.Update up;
                try {
                    up = opt.update(schedule.lr(opt.done()));
                } catch (Diverged d) {
                    throw d.explained("rollout " + r + ": ", ". Try a lower lr or clip.");
                }
                lossSum += up.loss();
                gradSum += up.gradNorm();
                lr = up.lr();
                steps++;
            }
        }
        return new Update(lossSum / steps, (double) clipped / trained, oldMinusNew / trained, gradSum / steps, lr);
    }

    /**
     * Positions (r−1)·P … r·P−1 of the endless prompt stream and their problems: position k is item k mod N
     * of epoch k / N, which visits the N problems in a permutation drawn from (seed, epoch). A position
     * names its random stream when sampling, so even a problem met twice in one rollout gets new samples.
     */
    static List<Problem> prompts(List<Problem> train, int p, long seed, long rollout, int[] positions) {
        int n = train.size();
        long first = (rollout - 1) * p;
        if (first + p > Integer.MAX_VALUE) throw new IllegalArgumentException("rollout " + rollout + ": more than 2^31 prompts");
        List<Problem> out = new ArrayList<>(p);
        long epoch = -1;
        int[] perm = null;
        for (int j = 0; j < p; j++) {
            long k = first + j;
            if (k / n != epoch) {
                epoch = k / n;
                perm = permutation(n, new SplittableRandom(mix(seed, 0x5eed, epoch)));
            }
            positions[j] = (int) k;
            out.add(train.get(perm[(int) (k % n)]));
        }
        return out;
    }

    /**
     * Epoch e's optimizer steps: the rollout's items in a permutation drawn from (seed, rollout, e), cut into
     * minibatches of {@code minibatch} sequences, each split into consecutive micro-batches of at most
     * {@code microBatchTokens} tokens (a longer sequence goes alone).
     */
    static List<List<List<Integer>>> plan(Rollout ro, int[][] seqs, Options o, long rollout, int epoch) {
        int[] order = permutation(ro.items().size(), new SplittableRandom(mix(o.seed(), rollout, epoch)));
        List<List<List<Integer>>> steps = new ArrayList<>();
        for (int from = 0; from < order.length; from += o.minibatch()) {
            List<List<Integer>> micro = new ArrayList<>();
            List<Integer> cur = new ArrayList<>();
            long tokens = 0;
            for (int k = from; k < Math.min(order.length, from + o.minibatch()); k++) {
                int len = seqs[order[k]].length;
                if (!cur.isEmpty() && tokens + len > o.microBatchTokens()) {
                    micro.add(cur);
                    cur = new ArrayList<>();
                    tokens = 0;
                }
                cur.add(order[k]);
                tokens += len;
            }
            micro.add(cur);
            steps.add(micro);
        }
        return steps;
    }

    /** out[i] = log p of item i's completion tokens, for the items of one micro-batch (one packed forward, no gradient). */
    static void completionLogProbs(Transformer model, Rollout ro, int[][] seqs, List<Integer> micro, float[][] out) {
        int[][] batch = new int[micro.size()][];
        for (int j = 0; j < batch.length; j++) batch[j] = seqs[micro.get(j)];
        float[][] lp = model.logProbs(batch);
        for (int j = 0; j < batch.length; j++) {
            Rollout.Item it = ro.items().get(micro.get(j));
            out[micro.get(j)] = Arrays.copyOfRange(lp[j], it.offset(), it.offset() + it.tokens());
        }
    }

    static int[] permutation(int n, SplittableRandom rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {                           // Fisher–Yates
            int j = rng.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** SplitMix64 finaliser over a few longs: independent seeds for independent purposes. */
    static long mix(long... xs) {
        long z = 0x9E3779B97F4A7C15L;
        for (long x : xs) {
            z += x * 0xBF58476D1CE4E5B9L + 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
        }
        return z;
    }

    /** The current policy: its weights change with every optimizer step. */
    static Policy policy(TrainableModel tm, Tokenizer tok, Options o, OptimizerStep opt) {
        return Policy.trained(tm, tok, o.base(), opt.done());
    }

    static void evaluate(Policy policy, GenerationBackend backend, Eval eval, RunDir run, long step, Listener listener) throws IOException {
        Summary.Metrics m = Evaluator.evaluate(policy, backend, eval.problems(), eval.settings(), null, null).summary().all();
        var line = Jsonl.JSON.createObjectNode().put("step", step);
        line.setAll(m.toJson());
        run.appendRow(run.dir().resolve(EVAL_LOG), RunDir.EVAL, line);
        listener.evaluated(step, m);
    }

    /** Loads the newest complete checkpoint (if any) into model and optimizer; drops log lines after it; returns its step. */
    static long restore(Checkpoints checkpoints, RunDir run) throws IOException {
        RunDir.State s = checkpoints.restore();
        long step = s == null ? 0 : s.step();
        // from step 0 the starting model is evaluated again: drop its line too
        if (Files.exists(run.dir().resolve(EVAL_LOG))) RunDir.truncateLines(run.dir().resolve(EVAL_LOG), step == 0 ? -1 : step);
        return step;
    }

    /** RUN_DIR/final: the HF model (full fine-tuning), or the PEFT adapter plus the merged HF model in final-merged. */
    static void writeFinal(TrainableModel tm, Options o, RunDir run) throws IOException {
        Export.result(tm, o.base(), run.finalDir(), o.saveDtype());
        if (tm.loraConfig() != null) Export.model(tm, o.base(), run.dir().resolve(MERGED), o.saveDtype());
    }
}
