package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
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

/**
 * tokenize / detokenize / score / generate end to end on the tiny Hugging Face golden model
 * (transformer/src/test/resources/golden/qwen2-f32, with its own tiny byte-level BPE tokenizer).
 */
class ModelCommandsTest {
    static final Path MODEL = Path.of("../transformer/src/test/resources/golden/qwen2-f32");
    @TempDir Path tmp;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = commandLine();
            cl.setErr(new PrintWriter(err, true));
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    /** Laconic's main command line: every subcommand, and its fault handling (user faults: one "error:" line, exit 1). */
    static CommandLine commandLine() {
        return Laconic.commandLine();
    }

    Path write(String name, String... lines) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, List.of(lines));
        return p;
    }

    @Test
    void tokenizeThenDetokenizeRoundTrips() throws Exception {
        Path in = write("text.jsonl", "{\"text\": \"Once upon a time, the model\"}", "{\"text\": \"x = 42\\n\"}");
        Run tok = run("tokenize", "--model", MODEL.toString(), "--in", in.toString(), "--bos");
        assertEquals(0, tok.exit(), tok.err());
        String[] lines = tok.out().strip().split("\n");
        assertEquals(2, lines.length);
        JsonNode first = Jsonl.JSON.readTree(lines[0]);
        // the golden file records how transformers encoded this prompt (with BOS 381)
        assertEquals("[381,344,350,220", first.get("ids").toString().substring(0, 16));

        Path ids = write("ids.jsonl", lines);
        Run detok = run("detokenize", "--model", MODEL.toString(), "--in", ids.toString());
        assertEquals(0, detok.exit(), detok.err());
        String[] texts = detok.out().strip().split("\n");
        assertTrue(Jsonl.JSON.readTree(texts[0]).get("text").asText().endsWith("Once upon a time, the model"));
        assertTrue(Jsonl.JSON.readTree(texts[1]).get("text").asText().endsWith("x = 42\n"), "special tokens kept, text intact");
    }

    @Test
    void scoreMatchesTheLibrary() throws Exception {
        Path in = write("ids.jsonl", "{\"ids\": [381, 12, 40, 7, 99, 5]}");
        Run r = run("score", "--model", MODEL.toString(), "--dtype", "f32", "--in", in.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode lp = Jsonl.JSON.readTree(r.out().strip()).get("logprobs");
        assertEquals(5, lp.size());
        try (Model m = Model.load(MODEL, DType.F32, new VectorOps())) {
            float[] want = m.transformer().score(new int[]{381, 12, 40, 7, 99, 5});
            for (int i = 0; i < 5; i++) assertEquals(want[i], lp.get(i).floatValue(), 1e-6);
        }
    }

    @Test
    void generateJsonHasTheDocumentedFieldsAndIsReproducible() throws Exception {
        Path in = write("p.jsonl", "{\"prompt\": \"Once upon a time\"}", "{\"ids\": [381, 94, 73, 51]}");
        String[] args = {"generate", "--model", MODEL.toString(), "--in", in.toString(), "--json", "--n", "2",
                "--temperature", "0.8", "--top-p", "0.95", "--seed", "7", "--max-tokens", "6", "--ignore-eos"};
        Run a = run(args), b = run(args);
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out(), "same seed, same samples");
        String[] lines = a.out().strip().split("\n");
        assertEquals(4, lines.length);
        for (String line : lines) {
            JsonNode j = Jsonl.JSON.readTree(line);
            for (String f : new String[]{"prompt_index", "sample", "ids", "text", "reasoning", "answer", "finish", "tokens", "reasoning_tokens"})
                assertTrue(j.has(f), f + " in " + line);
            assertEquals(6, j.get("tokens").asInt());
            assertEquals("length", j.get("finish").asText());
        }
        assertTrue(a.err().isEmpty() || !a.err().contains("error"), a.err());
    }

    @Test
    void badInputEndsWithOneLineNamingFileLineAndField() throws Exception {
        Path bad = write("bad.jsonl", "{\"ids\": [1, 2]}", "{\"ids\": [1, 99999]}");
        Run r = run("score", "--model", MODEL.toString(), "--in", bad.toString());
        assertEquals(1, r.exit());
        assertTrue(r.out().isEmpty(), "nothing partial written: " + r.out());
        assertTrue(r.err().contains("bad.jsonl:2") && r.err().contains("ids") && r.err().contains("99999"), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());

        Path notJson = write("nj.jsonl", "{\"text\": \"ok\"}", "{oops");
        r = run("tokenize", "--model", MODEL.toString(), "--in", notJson.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("nj.jsonl:2"), r.err());

        r = run("score", "--model", tmp.resolve("missing").toString(), "--in", bad.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("error:"), r.err());
    }
}
