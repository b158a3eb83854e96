package dev.laconic.compression.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.cli.EvalCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ./laconic eval end to end on the tiny golden model. */
class EvalCommandTest {
    static final String MODEL = EvaluatorTest.MODEL.toString();
    @TempDir Path tmp;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), errBytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            CommandLine cl = new CommandLine(new EvalCommand()).setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            });
            cl.setErr(new PrintWriter(err, true));
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err + errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    Path gymData() throws Exception {
        Path p = tmp.resolve("gym-test.jsonl");
        Files.write(p, List.of("{\"prompt\": \"12+7=?\", \"answer\": 19, \"difficulty\": 1}",
                "{\"prompt\": \"123*45=?\", \"answer\": 5535, \"difficulty\": 3}",
                "{\"prompt\": \"9-4=?\", \"answer\": 5, \"difficulty\": 1}"));
        return p;
    }

    List<String> args(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("--model", MODEL, "--dtype", "f32", "--data", data.toString(), "--format", "gym",
                "--out", out.toString(), "--n", "2", "--temperature", "1", "--max-tokens", "6", "--seed", "3"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void writesSamplesAndSummaryAndResumes() throws Exception {
        Path data = gymData(), out = tmp.resolve("run");
        Run r = run(args(data, out).toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("samples.jsonl"));
        assertEquals(6, lines.size());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.getFirst());
        for (String k : List.of("index", "id", "sample", "completion", "tokens", "finish", "extracted", "correct"))
            assertTrue(first.has(k), k + " in " + first);
        JsonNode summary = json.readTree(out.resolve("summary.json").toFile());
        assertEquals(3, summary.get("problems").asInt());
        assertEquals(6, summary.get("samples").asInt());
        assertEquals(List.of("1", "3"), List.of(summary.get("by_difficulty").get(0).get("difficulty").asText(),
                summary.get("by_difficulty").get(1).get("difficulty").asText()));
        JsonNode config = json.readTree(out.resolve("config.json").toFile());
        assertEquals(Protocol.BARE, config.get("template").asText(), "gym prompts are the user turn as they are");
        assertEquals(6, config.get("max_tokens").asInt());
        assertTrue(r.out().contains("accuracy") && r.out().contains("maj@n"), r.out());
        assertTrue(r.err().contains("problems 3/3"), r.err());          // plain progress lines off a terminal

        // the same command again: nothing left to do, same table
        Run again = run(args(data, out, "--batch", "1").toArray(String[]::new));
        assertEquals(0, again.exit(), again.err());
        assertEquals(r.out(), again.out());
        assertEquals(lines, Files.readAllLines(out.resolve("samples.jsonl")));

        // other settings into the same directory are refused
        Run other = run(args(data, out).stream().map(s -> s.equals("3") ? "4" : s).toArray(String[]::new));
        assertEquals(1, other.exit());
        assertTrue(other.err().contains("other settings") && other.err().contains("seed"), other.err());
    }

    @Test
    void protocolCapIsLoweredToTheContextAndLimitApplies() throws Exception {
        Path data = gymData(), out = tmp.resolve("run");
        Run r = run("--model", MODEL, "--dtype", "f32", "--data", data.toString(), "--format", "gym", "--out", out.toString(),
                "--protocol", "arora", "--limit", "1", "--temperature", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("max tokens lowered from 32768"), r.err());
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertTrue(config.get("max_tokens").asInt() < 512);
        assertEquals(0.0, config.get("temperature").asDouble());
        assertEquals(1.0, config.get("top_p").asDouble());
        assertEquals(1, Files.readAllLines(out.resolve("samples.jsonl")).size());
    }

    @Test
    void aRunWithTheDefaultTemperatureResumes() throws Exception {
        // the tldr protocol samples at T = 0.7: stored as a float it read back as 0.699999988 and the rerun was refused
        Path data = gymData(), out = tmp.resolve("run");
        String[] a = {"--model", MODEL, "--dtype", "f32", "--data", data.toString(), "--format", "gym", "--out", out.toString(),
                "--limit", "1", "--max-tokens", "4"};
        assertEquals(0, run(a).exit());
        Run again = run(a);
        assertEquals(0, again.exit(), again.err());
        assertEquals(0.7, new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("temperature").asDouble());
    }

    @Test
    void badInputIsOneLine() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.write(bad, List.of("{\"prompt\": \"p\", \"answer\": 1, \"difficulty\": 1}", "{\"prompt\": \"p\"}"));
        Run r = run(args(bad, tmp.resolve("run")).toArray(String[]::new));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(bad + ":2: field \"answer\": missing"), r.err());
        Path notRun = tmp.resolve("notrun");
        Files.createDirectories(notRun);
        Files.writeString(notRun.resolve("x.txt"), "x");
        Run n = run(args(gymData(), notRun).toArray(String[]::new));
        assertEquals(1, n.exit());
        assertTrue(n.err().contains("not an evaluation run"), n.err());
        Run f = run(args(gymData(), tmp.resolve("r2"), "--format", "csv").toArray(String[]::new));
        assertNotEquals(0, f.exit());
    }
}
