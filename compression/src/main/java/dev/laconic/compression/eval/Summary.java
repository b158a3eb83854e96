package dev.laconic.compression.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.checker.AnswerChecker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * The numbers both papers report, over all samples and per difficulty.
 *
 * @param all          every problem
 * @param byDifficulty one row per difficulty (sorted numerically when every label is a number), or empty
 */
public record Summary(Metrics all, List<Metrics> byDifficulty) {

    /**
     * One row. With n<sub>i</sub> samples and c<sub>i</sub> correct on problem i (P problems, N = Σ n<sub>i</sub>):
     * <pre>
     *   accuracy              = Σ c_i / N                         (TL;DR: mean over samples)
     *   pass@1                = (1/P) Σ c_i / n_i                 (the unbiased pass@1 estimator, Chen et al. 2021;
     *                                                               equals accuracy when every problem has n samples)
     *   pass@n                = (1/P) Σ [c_i &gt; 0]
     *   maj@n                 = (1/P) Σ [the majority answer of problem i is correct]
     *   mean_completion_tokens = Σ tokens / N (EOS included);  mean_tokens_correct: over correct samples (NaN if none)
     *   truncated_rate        = samples cut at the cap / N
     * </pre>
     * Majority vote: samples that ended with EOS and have an extracted answer vote; answers the checker calls
     * equivalent form one class (an answer joins the first class whose first answer it matches); the largest class
     * wins, ties to the class that appeared first (lowest sample index). The class is correct when its first
     * sample is. No votes: wrong.
     *
     * @param difficulty null for the overall row
     * @param n          samples per problem (the largest, if they differ)
     */
    public record Metrics(String difficulty, int problems, int samples, int n, double accuracy, double pass1, double passN,
                          double majN, double meanTokens, double meanTokensCorrect, double truncatedRate) {
        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            if (difficulty != null) o.put("difficulty", difficulty);
            o.put("accuracy", accuracy);
            o.put("pass@1", pass1);
            o.put("pass@n", passN);
            o.put("maj@n", majN);
            o.put("mean_completion_tokens", meanTokens);
            if (Double.isNaN(meanTokensCorrect)) o.putNull("mean_tokens_correct");
            else o.put("mean_tokens_correct", meanTokensCorrect);
            o.put("truncated_rate", truncatedRate);
            o.put("problems", problems);
            o.put("samples", samples);
            o.put("n", n);
            return o;
        }
    }

    /** The summary of graded samples, majority classes by the answer checker's equivalence. */
    public static Summary of(List<Sample> samples) {
        return of(samples, AnswerChecker::equivalent);
    }

    public static Summary of(List<Sample> samples, BiPredicate<String, String> equivalent) {
        Map<Integer, List<Sample>> byProblem = group(samples);
        Metrics all = metrics(null, byProblem, equivalent);
        Map<String, Map<Integer, List<Sample>>> byDiff = new LinkedHashMap<>();
        for (var e : byProblem.entrySet()) {
            String d = e.getValue().getFirst().difficulty();
            if (d != null) byDiff.computeIfAbsent(d, k -> new TreeMap<>()).put(e.getKey(), e.getValue());
        }
        List<Metrics> rows = new ArrayList<>();
        for (var e : byDiff.entrySet()) rows.add(metrics(e.getKey(), e.getValue(), equivalent));
        rows.sort(difficultyOrder());
        return new Summary(all, List.copyOf(rows));
    }

    private static Map<Integer, List<Sample>> group(List<Sample> samples) {
        Map<Integer, List<Sample>> byProblem = new TreeMap<>();
        for (Sample s : samples) byProblem.computeIfAbsent(s.index(), k -> new ArrayList<>()).add(s);
        for (List<Sample> l : byProblem.values()) l.sort(Comparator.comparingInt(Sample::sample));
        return byProblem;
    }

    static Metrics metrics(String difficulty, Map<Integer, List<Sample>> byProblem, BiPredicate<String, String> equivalent) {
        int problems = byProblem.size(), samples = 0, correct = 0, truncated = 0, n = 0;
        long tokens = 0, tokensCorrect = 0;
        double pass1 = 0, passN = 0, maj = 0;
        for (List<Sample> group : byProblem.values()) {
            int c = 0;
            for (Sample s : group) {
                samples++;
                tokens += s.tokens();
                if (s.correct()) { c++; tokensCorrect += s.tokens(); }
                if (s.truncated()) truncated++;
            }
            correct += c;
            n = Math.max(n, group.size());
            pass1 += (double) c / group.size();
            if (c > 0) passN++;
            if (majorityCorrect(group, equivalent)) maj++;
        }
        double p = Math.max(problems, 1), m = Math.max(samples, 1);
        return new Metrics(difficulty, problems, samples, n, correct / m, pass1 / p, passN / p, maj / p, tokens / m,
                correct == 0 ? Double.NaN : (double) tokensCorrect / correct, truncated / m);
    }

    /** Majority vote over one problem's samples (see {@link Metrics}). */
    static boolean majorityCorrect(List<Sample> group, BiPredicate<String, String> equivalent) {
        List<Sample> firsts = new ArrayList<>();     // the first sample of each class, in order of appearance
        List<Integer> counts = new ArrayList<>();
        for (Sample s : group) {
            if (!s.finish().equals(Sample.EOS) || s.extracted() == null) continue;
            int k = 0;
            while (k < firsts.size() && !equivalent.test(s.extracted(), firsts.get(k).extracted())) k++;
            if (k == firsts.size()) { firsts.add(s); counts.add(0); }
            counts.set(k, counts.get(k) + 1);
        }
        int best = -1;
        for (int k = 0; k < counts.size(); k++) if (best < 0 || counts.get(k) > counts.get(best)) best = k;
        return best >= 0 && firsts.get(best).correct();
    }

    private static Comparator<Metrics> difficultyOrder() {
        return (a, b) -> {
            Double x = number(a.difficulty()), y = number(b.difficulty());
            if (x != null && y != null) return Double.compare(x, y);
            if (x != null) return -1;
            if (y != null) return 1;
            return a.difficulty().compareTo(b.difficulty());
        };
    }

    private static Double number(String s) {
        try {
            return Double.parseDouble(s.replaceFirst("(?i)^level\\s*", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    public ObjectNode toJson() {
        ObjectNode o = all.toJson();
        if (!byDifficulty.isEmpty()) {
            var arr = o.putArray("by_difficulty");
            for (Metrics m : byDifficulty) arr.add(m.toJson());
        }
        return o;
    }

    /** The same numbers as a text table: one row overall, then one per difficulty. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        String head = "%-12s %8s %8s %9s %8s %8s %8s %11s %11s %10s%n";
        String row = "%-12s %8d %8d %9.4f %8.4f %8.4f %8.4f %11.1f %11s %10.4f%n";
        sb.append(String.format(Locale.ROOT, head, "difficulty", "problems", "samples", "accuracy", "pass@1", "pass@n",
                "maj@n", "mean tok", "tok correct", "truncated"));
        for (Metrics m : rows())
            sb.append(String.format(Locale.ROOT, row, m.difficulty() == null ? "all" : m.difficulty(), m.problems(), m.samples(),
                    m.accuracy(), m.pass1(), m.passN(), m.majN(), m.meanTokens(),
                    Double.isNaN(m.meanTokensCorrect()) ? "-" : String.format(Locale.ROOT, "%.1f", m.meanTokensCorrect()), m.truncatedRate()));
        return sb.toString();
    }

    private List<Metrics> rows() {
        List<Metrics> r = new ArrayList<>();
        r.add(all);
        r.addAll(byDifficulty);
        return r;
    }
}
