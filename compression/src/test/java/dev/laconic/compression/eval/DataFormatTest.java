package dev.laconic.compression.eval;

import dev.laconic.training.Jsonl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DataFormatTest {
    /** ../shared/data beside the worktree (GSM8K, MATH500; MIT): used only when present, never copied. */
    static final Path DATA = Path.of(System.getProperty("laconic.data", "../../shared/data"));
    @TempDir Path tmp;

    Path write(String name, String... lines) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, List.of(lines));
        return p;
    }

    @Test
    void parsesEachFormat() throws Exception {
        List<Problem> g = DataFormat.GSM8K.load(write("g.jsonl",
                "{\"question\": \"Q one?\", \"answer\": \"work <<2*3=6>>\\n#### 6\"}",
                "",
                "{\"question\": \"Q two?\", \"answer\": \"so\\n#### 1,234\", \"id\": \"abc\"}"));
        assertEquals(2, g.size());
        assertEquals(new Problem(0, "0", "Q one?", "6", null), g.get(0));
        assertEquals(1, g.get(1).index(), "blank lines are not records");
        assertEquals("abc", g.get(1).id());
        assertTrue(List.of("1234", "1,234").contains(g.get(1).reference()), g.get(1).reference());

        List<Problem> m = DataFormat.MATH.load(write("m.jsonl",
                "{\"problem\": \"Find $x$.\", \"answer\": \"\\\\frac{14}{3}\", \"unique_id\": \"test/algebra/1.json\", \"level\": 3}"));
        assertEquals(new Problem(0, "test/algebra/1.json", "Find $x$.", "\\frac{14}{3}", "3"), m.getFirst());

        List<Problem> gym = DataFormat.GYM.load(write("gym.jsonl",
                "{\"prompt\": \"12+7=?\", \"answer\": 19, \"difficulty\": 2}",
                "{\"prompt\": \"1.5*2=?\", \"answer\": 3.0, \"difficulty\": \"easy\", \"id\": 7}"));
        assertEquals(new Problem(0, "0", "12+7=?", "19", "2"), gym.get(0));
        assertEquals(new Problem(1, "7", "1.5*2=?", "3.0", "easy"), gym.get(1));

        List<Problem> j = DataFormat.JSONL.load(write("j.jsonl", "{\"prompt\": \"p\", \"answer\": \"a\"}"));
        assertEquals(new Problem(0, "0", "p", "a", null), j.getFirst());
    }

    @Test
    void badLinesNameFileLineAndField() throws Exception {
        Path g = write("bad-g.jsonl", "{\"question\": \"ok\", \"answer\": \"#### 1\"}", "{\"question\": \"q\", \"answer\": \"no marker\"}");
        assertFault(DataFormat.GSM8K, g, g + ":2: field \"answer\"");
        Path j = write("bad-j.jsonl", "{\"prompt\": \"p\", \"answer\": \"a\"}", "", "{\"answer\": \"a\"}");
        assertFault(DataFormat.JSONL, j, j + ":3: field \"prompt\": missing");
        Path k = write("bad-k.jsonl", "{\"prompt\": \"p\", \"answer\": {\"x\": 1}}");
        assertFault(DataFormat.JSONL, k, k + ":1: field \"answer\": expected a string or a number");
        Path q = write("bad-q.jsonl", "{\"prompt\": 5, \"answer\": \"a\"}");
        assertFault(DataFormat.JSONL, q, q + ":1: field \"prompt\": expected a string");
        Path n = write("bad-n.jsonl", "{\"problem\": \"p\", \"answer\": \"1\"}", "{\"problem\": \"p\", \"answer\": \"1\"");
        assertFault(DataFormat.MATH, n, n + ":2: not valid JSON");
        Path y = write("bad-y.jsonl", "{\"prompt\": \"p\", \"answer\": \"1\"}");
        assertFault(DataFormat.GYM, y, y + ":1: field \"difficulty\": missing");
        Path e = write("empty.jsonl", "", "");
        assertFault(DataFormat.JSONL, e, e + ": no problems");
        assertThrows(IllegalArgumentException.class, () -> DataFormat.parse("csv"));
    }

    static void assertFault(DataFormat f, Path file, String prefix) {
        Jsonl.BadInput e = assertThrows(Jsonl.BadInput.class, () -> f.load(file));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage() + " should start with " + prefix);
    }

    @Test
    void realGsm8kAndMath500WhenPresent() {
        Path gsm = DATA.resolve("gsm8k-test.jsonl"), math = DATA.resolve("math500.jsonl");
        assumeTrue(Files.isRegularFile(gsm) && Files.isRegularFile(math), "no ../shared/data");
        List<Problem> g = DataFormat.GSM8K.load(gsm);
        assertEquals(1319, g.size());
        assertEquals("18", g.getFirst().reference());               // Janet's ducks: "#### 18"
        for (Problem p : g) assertTrue(p.reference().replace(",", "").matches("-?[0-9]+(\\.[0-9]+)?"), p.id() + ": " + p.reference());
        List<Problem> m = DataFormat.MATH.load(math);
        assertEquals(500, m.size());
        assertEquals(500, new HashSet<>(m.stream().map(Problem::id).toList()).size(), "unique_id is unique");
        assertEquals("\\left( 3, \\frac{\\pi}{2} \\right)", m.getFirst().reference());
    }
}
