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

    @Test
    void quickDemoRunsEveryStageAndReportsEveryModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        String log = run(out);
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        List<String> names = new ArrayList<>();
        s.get("models").forEach(m -> names.add(m.get("name").asText()));
        assertEquals(List.of("long-reasoner", "short-model", "tldr-static", "tldr-dynamic", "rl-alpha-0.2", "rl-alpha-0.4",
                "long-reasoner-budget"), names);
        double longTokens = s.get("models").get(0).get("mean_completion_tokens").asDouble();
        for (JsonNode m : s.get("models")) {
            // each row is its own evaluation's summary, and the reduction is against the long reasoner's tokens
            JsonNode ev = JSON.readTree(Path.of(m.get("run_dir").asText()).resolve("summary.json").toFile());
            assertEquals(ev.get("accuracy").asDouble(), m.get("accuracy").asDouble());
            assertEquals(ev.get("mean_completion_tokens").asDouble(), m.get("mean_completion_tokens").asDouble());
            assertEquals(1 - m.get("mean_completion_tokens").asDouble() / longTokens, m.get("token_reduction").asDouble(), 1e-12);
            assertEquals(independentAccuracy(out, Path.of(m.get("run_dir").asText())), m.get("accuracy").asDouble(), 1e-12,
                    m.get("name") + ": the accuracy recomputed from the prompts' own arithmetic");
            assertEquals(12, ev.get("problems").asInt(), "the same 12 test problems for every model");
        }
        for (String f : List.of("pareto.png", "tldr-dynamic/weights.png", "rl-alpha-0.4/curves.png", "tldr-dynamic/final/model.safetensors"))
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        // the budget row: no sample thinks longer than the budget it was given
        JsonNode cfg = JSON.readTree(out.resolve("eval/long-reasoner-budget/config.json").toFile());
        int budget = cfg.get("think_budget").asInt();
        for (String line : Files.readAllLines(out.resolve("eval/long-reasoner-budget/samples.jsonl")))
            assertTrue(JSON.readTree(line).get("reasoning_tokens").asInt() <= budget, line);
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
