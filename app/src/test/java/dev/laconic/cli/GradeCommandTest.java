package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.training.Jsonl;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ./laconic grade end to end: one output line per input line, and faults that name file:line:field. */
class GradeCommandTest {
    @TempDir Path tmp;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), summary = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(summary, true, StandardCharsets.UTF_8));
            CommandLine cl = new CommandLine(new Root()).addSubcommand(new GradeCommand());
            // the same fault handling as Laconic's main (which lives in the bench module)
            cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            });
            cl.setErr(new PrintWriter(err, true));
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err + summary.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @CommandLine.Command(name = "laconic")
    static final class Root {}

    Path write(String... lines) throws Exception {
        Path p = tmp.resolve("in.jsonl");
        Files.write(p, List.of(lines));
        return p;
    }

    @Test
    void gradesEveryLineInOrder() throws Exception {
        Path in = write(
                "{\"completion\": \"<think>\\nmaybe \\\\boxed{3}\\n</think>\\n\\nSo \\\\boxed{\\\\dfrac{14}{3}}.\", \"answer\": \"\\\\frac{14}{3}\"}",
                "",
                "{\"completion\": \"</think>\\n\\n\\\\boxed{1,600}\", \"answer\": \"She saves 1600.\\n#### 1,600\"}",
                "{\"completion\": \"</think>\\n\\n\\\\boxed{17}\", \"answer\": 18}",
                "{\"completion\": \"no answer at all\", \"answer\": \"5\", \"id\": 7}");
        Run r = run("grade", "--in", in.toString());
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        JsonNode a = Jsonl.JSON.readTree(lines[0]);
        assertEquals("\\dfrac{14}{3}", a.get("extracted").asText());
        assertTrue(a.get("correct").asBoolean());
        assertEquals(List.of("extracted", "correct"), List.copyOf(iterable(a)));
        assertEquals("{\"extracted\":\"1,600\",\"correct\":true}", lines[1]);
        assertEquals("{\"extracted\":\"17\",\"correct\":false}", lines[2]);
        assertEquals("{\"extracted\":null,\"correct\":false}", lines[3]);
        assertTrue(r.err().contains("graded 4: 2 correct"), r.err());
    }

    static List<String> iterable(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void badLinesNameFileLineAndFieldAndPrintNothing() throws Exception {
        String good = "{\"completion\": \"\\\\boxed{1}\", \"answer\": \"1\"}";
        String[][] cases = {
                {"{\"answer\": \"1\"}", ":2: field \"completion\": missing"},
                {"{\"completion\": 5, \"answer\": \"1\"}", ":2: field \"completion\": expected a string"},
                {"{\"completion\": \"x\"}", ":2: field \"answer\": missing"},
                {"{\"completion\": \"x\", \"answer\": [1]}", ":2: field \"answer\": expected a string"},
                {"not json", ":2: not valid JSON"},
        };
        for (String[] c : cases) {
            Path in = write(good, c[0], good);
            Run r = run("grade", "--in", in.toString());
            assertEquals(1, r.exit(), c[0]);
            assertEquals("", r.out(), "nothing partial on stdout: " + c[0]);
            assertTrue(r.err().contains("error: " + in + c[1]), r.err());
        }
        Run missing = run("grade", "--in", tmp.resolve("absent.jsonl").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }
}
