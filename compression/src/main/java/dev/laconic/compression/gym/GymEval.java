package dev.laconic.compression.gym;

import dev.laconic.compression.checker.AnswerChecker;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A quick accuracy/length measurement of a gym model, used during and after pretraining (the
 * project's evaluation harness is {@code ./laconic eval}; this is its small in-process cousin).
 * Prompts go through {@link GymFormat#promptIds} (the R1 chat template, as in training) and decode
 * in batches with the project's {@link Generator}. A sample is correct when it ended with EOS and
 * {@link AnswerChecker} accepts its final answer (the harness's rule, methods.md).
 */
public final class GymEval {
    private GymEval() {}

    /** One level's (or the total's) figures. */
    public record Row(String name, int samples, double accuracy, double meanTokens, int minTokens, int maxTokens,
                      double truncated, double[] passShare) {
        public String format() {
            StringBuilder p = new StringBuilder();
            for (double s : passShare) p.append(String.format(Locale.ROOT, " %3.0f", 100 * s));
            return String.format(Locale.ROOT, "%-7s %6d %8.3f %9.1f %6d %6d %6.3f  %s", name, samples, accuracy, meanTokens,
                    minTokens, maxTokens, truncated, p);
        }

        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("samples", samples);
            m.put("accuracy", accuracy);
            m.put("mean_completion_tokens", meanTokens);
            m.put("min_tokens", minTokens);
            m.put("max_tokens", maxTokens);
            m.put("truncated_rate", truncated);
            List<Double> share = new ArrayList<>();
            for (double s : passShare) share.add(s);
            m.put("verification_pass_share", share);
            return m;
        }
    }

    public static final String HEADER = "level  samples accuracy  mean_tok    min    max  trunc  passes 0/1/2/3/4+ (%)";

    /** Per level, then "all". {@code chunk}: prompts decoded together. */
    public static List<Row> evaluate(Transformer model, Tokenizer tok, List<Problem> problems, GenerationConfig gc, int chunk) {
        Generator gen = generator(model, tok);
        int levels = Problem.LEVELS.size();
        List<List<Sample>> byLevel = new ArrayList<>();
        for (int i = 0; i <= levels; i++) byLevel.add(new ArrayList<>());
        for (int from = 0; from < problems.size(); from += chunk) {
            List<Problem> part = problems.subList(from, Math.min(problems.size(), from + chunk));
            List<int[]> prompts = new ArrayList<>();
            for (Problem p : part) prompts.add(GymFormat.promptIds(tok, p));
            for (Completion c : gen.generate(prompts, gc, null)) {
                Problem p = part.get(c.promptIndex());
                boolean correct = c.finish() == Completion.Finish.EOS && AnswerChecker.grade(c.text(), Long.toString(p.answer())).correct();
                Sample s = new Sample(correct,
                        c.tokens(), c.finish() == Completion.Finish.LENGTH, passes(c.text()));
                byLevel.get(p.level() - 1).add(s);
                byLevel.get(levels).add(s);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i <= levels; i++)
            if (!byLevel.get(i).isEmpty()) rows.add(row(i == levels ? "all" : "L" + (i + 1), byLevel.get(i)));
        return rows;
    }

    public static Generator generator(Transformer model, Tokenizer tok) {
        return Generator.of(model, tok);
    }

    /** Verification passes in a completion: the number of "That gives" conclusions. */
    public static int passes(String text) {
        int n = 0;
        for (int k = text.indexOf("That gives"); k >= 0; k = text.indexOf("That gives", k + 1)) n++;
        return n;
    }

    private record Sample(boolean correct, int tokens, boolean truncated, int passes) {}

    private static Row row(String name, List<Sample> s) {
        int correct = 0, trunc = 0, min = Integer.MAX_VALUE, max = 0;
        long tokens = 0;
        double[] share = new double[5];
        for (Sample x : s) {
            if (x.correct()) correct++;
            if (x.truncated()) trunc++;
            tokens += x.tokens();
            min = Math.min(min, x.tokens());
            max = Math.max(max, x.tokens());
            share[Math.min(4, x.passes())] += 1.0 / s.size();
        }
        return new Row(name, s.size(), (double) correct / s.size(), (double) tokens / s.size(), min, max,
                (double) trunc / s.size(), share);
    }
}
