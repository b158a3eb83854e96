package dev.laconic.compression.eval;

import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Accuracy and completion length of a model on a list of problems, the way both papers measure them.
 * <pre>
 *   prompt_i  = R1 chat template( user turn = template with {problem} := problem_i.text ), ending "&lt;｜Assistant｜&gt;&lt;think&gt;\n"
 *   for each batch of ⌊batch / n⌋ problems not yet on disk (a chunk of the generation backend, in order):
 *       decode n samples of each together; sample s of problem i draws from random stream (seed, i, s),
 *       i = the problem's index in the data file, so batching never changes a sample
 *       grade: correct = finished with EOS and AnswerChecker.grade(completion, reference).correct
 *       append the batch to RUN_DIR/samples.jsonl (fsynced)
 *   summary over every sample → RUN_DIR/summary.json
 * </pre>
 * With a run directory, calling again with the same problems and settings resumes: problems whose n samples
 * are all in samples.jsonl are not decoded again. Keeping the settings the same across calls is the caller's
 * job (the eval command stores them in config.json); only the problem ids are checked here.
 * Without a run directory (e.g. a trainer's dev evaluation) nothing is written.
 */
public final class Evaluator {
    public static final String SAMPLES = "samples.jsonl", SUMMARY = "summary.json";

    private Evaluator() {}

    /**
     * @param samples every sample of the problems, in problem order then sample order
     * @param resumed problems read back from disk instead of decoded
     */
    public record Result(Summary summary, List<Sample> samples, int resumed, double seconds) {}

    public static Result evaluate(Transformer model, Tokenizer tok, List<Problem> problems, EvalSettings s,
                                 Path runDir, ProgressListener listener) throws IOException {
        return evaluate(Policy.of(model, tok), GenerationBackend.IN_PROCESS, problems, s, runDir, listener);
    }

    /** {@link #evaluate(Transformer, Tokenizer, List, EvalSettings, Path, ProgressListener)} with the batches decoded by {@code backend}. */
    public static Result evaluate(Policy policy, GenerationBackend backend, List<Problem> problems, EvalSettings s,
                                 Path runDir, ProgressListener listener) throws IOException {
        Transformer model = policy.model();
        Tokenizer tok = policy.tok();
        if (problems.isEmpty()) throw new IllegalArgumentException("no problems to evaluate");
        Set<Integer> seen = new HashSet<>();
        for (Problem p : problems)
            if (!seen.add(p.index())) throw new IllegalArgumentException("two problems with dataset index " + p.index());
        if (listener == null) listener = ProgressListener.NONE;
        int context = model.config().maxPositions();
        List<int[]> prompts = new ArrayList<>(problems.size());
        for (Problem p : problems) {
            int[] ids = prompt(tok, s, p);
            if (ids.length + s.maxTokens() > context)
                throw new IllegalArgumentException("problem " + p.id() + ": " + ids.length + " prompt tokens + " + s.maxTokens()
                        + " max new tokens exceed the model's context of " + context + " (lower the max tokens)");
            prompts.add(ids);
        }

        // what is already on disk
        SamplesFile file = null;
        Map<Integer, List<Sample>> done = Map.of();
        if (runDir != null) {
            Files.createDirectories(runDir);
            file = new SamplesFile(runDir.resolve(SAMPLES));
            done = file.resume(problems, s.samples());
        }
        List<List<Sample>> results = new ArrayList<>(problems.size());
        List<Integer> todo = new ArrayList<>();
        long correct = 0, graded = 0;
        for (int i = 0; i < problems.size(); i++) {
            List<Sample> d = done.get(problems.get(i).index());
            results.add(d);
            if (d == null) todo.add(i);
            else for (Sample x : d) { graded++; if (x.correct()) correct++; }
        }
        int resumed = problems.size() - todo.size();

        GenerationConfig gc = s.generation();
        int[] streams = new int[todo.size()];
        List<int[]> todoPrompts = new ArrayList<>(todo.size());
        for (int j = 0; j < todo.size(); j++) {
            todoPrompts.add(prompts.get(todo.get(j)));
            streams[j] = problems.get(todo.get(j)).index();
        }
        int per = s.problemsPerBatch();
        long t0 = System.nanoTime();
        long[] tokens = {0}, lastReport = {t0}, counts = {correct, graded, 0};   // correct, graded, problems finished here
        final ProgressListener out = listener;
        final SamplesFile samples = file;
        Generator.Listener perToken = (p, smp, id) -> {
            tokens[0]++;
            long now = System.nanoTime();
            if (now - lastReport[0] > 1_000_000_000L) {
                lastReport[0] = now;
                int finished = (int) counts[2];
                out.progress(progress(resumed + finished, problems.size(), resumed, counts[0], counts[1], tokens[0], t0, now,
                        finished, todo.size() - finished, false));
            }
        };
        // chunk b holds todo[b·per, (b+1)·per): its boundaries and streams depend on the data alone
        backend.generate(policy, Chunk.split(todoPrompts, streams, per), gc, perToken, (b, completions) -> {
            List<Integer> batch = todo.subList(b * per, Math.min(todo.size(), (b + 1) * per));
            Sample[][] bySlot = new Sample[batch.size()][s.samples()];
            String[] promptText = new String[batch.size()];
            for (int j = 0; j < batch.size(); j++) promptText[j] = tok.decode(prompts.get(batch.get(j)), false);
            for (Completion c : completions)
                bySlot[c.promptIndex()][c.sample()] = grade(tok, problems.get(batch.get(c.promptIndex())), promptText[c.promptIndex()], c);
            List<Sample> batchSamples = new ArrayList<>(completions.size());
            for (int j = 0; j < batch.size(); j++) {
                results.set(batch.get(j), List.of(bySlot[j]));
                batchSamples.addAll(results.get(batch.get(j)));
            }
            if (samples != null) samples.append(batchSamples);
            for (Sample x : batchSamples) { counts[1]++; if (x.correct()) counts[0]++; }
            counts[2] += batch.size();
            int finished = (int) counts[2];
            long now = System.nanoTime();
            lastReport[0] = now;
            out.progress(progress(resumed + finished, problems.size(), resumed, counts[0], counts[1], tokens[0], t0, now,
                    finished, todo.size() - finished, true));
        });

        List<Sample> all = new ArrayList<>();
        for (List<Sample> r : results) all.addAll(r);
        Summary summary = Summary.of(all);
        if (runDir != null) RunDir.writeAtomically(runDir.resolve(SUMMARY), RunDir.JSON.writeValueAsBytes(summary.toJson()));
        return new Result(summary, List.copyOf(all), resumed, (System.nanoTime() - t0) / 1e9);
    }

    /** Token ids of a problem's prompt: R1 chat template around the settings' user turn. */
    public static int[] prompt(Tokenizer tok, EvalSettings s, Problem p) {
        return ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(s.userTurn(p))), true);
    }

    /**
     * The largest cap that fits every prompt in the model's context: min(maxTokens, context − longest prompt).
     * Small models (the gym's) have short contexts; the papers' caps are for 128k-context models.
     */
    public static int fitMaxTokens(Tokenizer tok, EvalSettings s, List<Problem> problems, int context) {
        int longest = 0;
        for (Problem p : problems) longest = Math.max(longest, prompt(tok, s, p).length);
        int room = context - longest;
        if (room < 1) throw new IllegalArgumentException("the longest prompt has " + longest + " tokens: no room left in the model's context of " + context);
        return Math.min(s.maxTokens(), room);
    }

    /** A sample from a completion: the text without the final EOS, tokens with it; {@code prompt}: the prompt's text. */
    static Sample grade(Tokenizer tok, Problem p, String prompt, Completion c) {
        int[] ids = c.ids();
        int[] body = c.finish() == Completion.Finish.EOS ? Arrays.copyOf(ids, ids.length - 1) : ids;
        return Sample.grade(p, prompt, c.sample(), tok.decode(body, false), ids.length, c.reasoningTokens(), c.finish());
    }

    private static ProgressListener.Progress progress(int done, int total, int resumed, long correct, long graded, long tokens,
                                                      long t0, long now, int finished, int left, boolean batchDone) {
        double sec = (now - t0) / 1e9;
        double eta = finished == 0 ? Double.NaN : sec / finished * left;
        return new ProgressListener.Progress(done, total, resumed, correct, graded, tokens, sec, eta, batchDone);
    }
}
