package dev.laconic.compression.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.cli.DemoCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** `./laconic demo --quick` end to end: every stage runs, the summary has the shape, a rerun continues. */
class DemoCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String run(Path out) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            int rc = new CommandLine(new DemoCommand()).execute("--quick", "--out", out.toString(), "--threads", "1");
            assertEquals(0, rc, buf.toString());
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    static final Pattern SUM = Pattern.compile("What is (\\d+(?: \\+ \\d+)+)\\?");
    static final Pattern BOXED = Pattern.compile("\\\\boxed\\{([^}]*)}");

    /**
     * The fraction of a run's samples whose last \\boxed{} answer is the sum of the operands in their test
     * prompt, computed here with BigInteger from DIR/data/test.jsonl: independent of the checker and the
     * evaluator that wrote the summary.
     */
    static double independentAccuracy(Path demo, Path evalDir) throws Exception {
        List<String> test = Files.readAllLines(demo.resolve("data/test.jsonl"));
        int correct = 0, n = 0;
        for (String line : Files.readAllLines(evalDir.resolve("samples.jsonl"))) {
            JsonNode sample = JSON.readTree(line);
            String prompt = JSON.readTree(test.get(sample.get("index").asInt())).get("prompt").asText();
            Matcher q = SUM.matcher(prompt);
            assertTrue(q.find(), prompt);
            BigInteger sum = BigInteger.ZERO;
            for (String operand : q.group(1).split(" \\+ ")) sum = sum.add(new BigInteger(operand));
            String answer = null;
            for (Matcher b = BOXED.matcher(sample.get("completion").asText()); b.find(); ) answer = b.group(1).strip();
            if (sum.toString().equals(answer)) correct++;
            n++;
        }
        return (double) correct / n;
    }

    static JsonNode model(JsonNode summary, String name) {
        for (JsonNode m : summary.get("models")) if (m.get("name").asText().equals(name)) return m;
        throw new AssertionError("no row " + name);
    }

    @Test
    void quickDemoRunsEveryStageAndReportsEveryModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        String log = run(out);
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        List<String> names = new ArrayList<>();
        s.get("models").forEach(m -> names.add(m.get("name").asText()));
        assertEquals(List.of("long-reasoner", "short-model", "tldr-static-seed0", "tldr-static-seed1", "tldr-static",
                "tldr-dynamic-seed0", "tldr-dynamic-seed1", "tldr-dynamic", "rl-alpha-0.1", "rl-alpha-0.2", "rl-alpha-0.4",
                "budget-tldr-static", "budget-tldr-dynamic", "budget-rl-alpha-0.1", "budget-rl-alpha-0.2", "budget-rl-alpha-0.4"), names);
        double longTokens = s.get("models").get(0).get("mean_completion_tokens").asDouble();
        for (JsonNode m : s.get("models")) {
            assertEquals(1 - m.get("mean_completion_tokens").asDouble() / longTokens, m.get("token_reduction").asDouble(), 1e-12);
            if (m.has("mean_of")) continue;   // checked below from its seeds' rows
            // each row is its own evaluation's summary, and the reduction is against the long reasoner's tokens
            JsonNode ev = JSON.readTree(Path.of(m.get("run_dir").asText()).resolve("summary.json").toFile());
            assertEquals(ev.get("accuracy").asDouble(), m.get("accuracy").asDouble());
            assertEquals(ev.get("mean_completion_tokens").asDouble(), m.get("mean_completion_tokens").asDouble());
            assertEquals(independentAccuracy(out, Path.of(m.get("run_dir").asText())), m.get("accuracy").asDouble(), 1e-12,
                    m.get("name") + ": the accuracy recomputed from the prompts' own arithmetic");
            assertEquals(12, ev.get("problems").asInt(), "the same 12 test problems for every model");
            // per level: the accuracy of the samples of that difficulty, counted here from samples.jsonl
            assertEquals(4, m.get("by_level").size(), m.toString());
            for (JsonNode l : m.get("by_level")) {
                int correct = 0, n = 0;
                for (String line : Files.readAllLines(Path.of(m.get("run_dir").asText()).resolve("samples.jsonl"))) {
                    JsonNode x = JSON.readTree(line);
                    if (!x.get("difficulty").asText().equals(l.get("difficulty").asText())) continue;
                    n++;
                    if (x.get("correct").asBoolean()) correct++;
                }
                assertEquals(3, n, "3 test problems per level");
                assertEquals((double) correct / n, l.get("accuracy").asDouble(), 1e-12, m.get("name") + " level " + l.get("difficulty"));
            }
        }
        // a mean row is the mean of its two seeds' rows, overall and per level
        for (String method : List.of("tldr-static", "tldr-dynamic")) {
            JsonNode mean = model(s, method), a = model(s, method + "-seed0"), b = model(s, method + "-seed1");
            assertEquals(List.of(a.get("run_dir").asText(), b.get("run_dir").asText()), JSON.convertValue(mean.get("mean_of"), List.class));
            assertEquals((a.get("accuracy").asDouble() + b.get("accuracy").asDouble()) / 2, mean.get("accuracy").asDouble(), 1e-12);
            for (int l = 0; l < 4; l++)
                assertEquals((a.get("by_level").get(l).get("mean_completion_tokens").asDouble() + b.get("by_level").get(l).get("mean_completion_tokens").asDouble()) / 2,
                        mean.get("by_level").get(l).get("mean_completion_tokens").asDouble(), 1e-9);
        }
        for (String f : List.of("pareto.png", "tldr-dynamic-seed0/weights.png", "tldr-dynamic-seed1/weights.png", "rl-alpha-0.4/curves.png",
                "tldr-dynamic-seed0/final/model.safetensors"))
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        // TL;DR's dev set is the hard levels only
        for (String line : Files.readAllLines(out.resolve("data/dev.jsonl")))
            assertTrue(JSON.readTree(line).get("difficulty").asInt() >= 3, line);
        // each budget row: its budget is its method's mean reasoning length, and no sample thinks longer
        for (String method : List.of("tldr-static", "tldr-dynamic", "rl-alpha-0.1", "rl-alpha-0.2", "rl-alpha-0.4")) {
            JsonNode m = model(s, method);
            List<String> runs = m.has("mean_of") ? JSON.convertValue(m.get("mean_of"), List.class) : List.of(m.get("run_dir").asText());
            double reasoning = 0;
            for (String run : runs) {
                List<String> lines = Files.readAllLines(Path.of(run).resolve("samples.jsonl"));
                for (String line : lines) reasoning += JSON.readTree(line).get("reasoning_tokens").asDouble() / lines.size() / runs.size();
            }
            Path budgetRun = out.resolve("eval/budget-" + method);
            int budget = JSON.readTree(budgetRun.resolve("config.json").toFile()).get("think_budget").asInt();
            assertEquals(Math.round(reasoning), budget, method);
            for (String line : Files.readAllLines(budgetRun.resolve("samples.jsonl")))
                assertTrue(JSON.readTree(line).get("reasoning_tokens").asInt() <= budget, line);
        }
        assertTrue(log.contains("$ ./laconic compress tldr "), "prints the commands a user would type");
        for (String line : log.lines().filter(l -> l.startsWith("$ ./laconic ")).toList()) {
            boolean computes = !line.startsWith("$ ./laconic gym data ") && !line.contains(" --solutions ");
            assertEquals(computes, line.contains(" --backend cpu"), "the backend is passed to the stages that compute: " + line);
        }
        assertTrue(log.contains("One test problem"), "prints a sample problem side by side");
        // the shipped models keep their styles: the direct-answer model is far shorter than the long reasoner
        assertTrue(s.get("models").get(1).get("mean_completion_tokens").asDouble() < 0.5 * longTokens, s.toString());

        String again = run(out);
        assertFalse(again.contains("$ ./laconic"), "a rerun finds every stage done: " + again);
    }
}
