package dev.laconic.examples;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The README's Java example is this module's {@link Chat}, verbatim, and it runs. */
class ReadmeExampleTest {
    static final Path SOURCE = Path.of("src/test/java/dev/laconic/examples/Chat.java");
    static final Path README = Path.of("../README.md");
    static final Path GOLDEN = Path.of("src/test/resources/golden/qwen2-f32");

    /** The lines of Chat.java between its begin and end markers. */
    static String region() throws Exception {
        List<String> lines = Files.readAllLines(SOURCE);
        int begin = -1, end = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("// README: begin")) begin = i;
            if (lines.get(i).startsWith("// README: end")) end = i;
        }
        assertTrue(begin >= 0 && end > begin, "markers in " + SOURCE);
        return String.join("\n", lines.subList(begin + 1, end)) + "\n";
    }

    /** The ```java block right after the README's {@code <!-- example: ...Chat.java -->} line. */
    static String quoted() throws Exception {
        String readme = Files.readString(README);
        String marker = "<!-- example: transformer/" + SOURCE + " -->";
        int at = readme.indexOf(marker);
        assertTrue(at >= 0, "README.md has the marker " + marker);
        int open = readme.indexOf("```java\n", at), close = readme.indexOf("```\n", open + 8);
        assertTrue(open > at && close > open, "a java block follows the marker");
        return readme.substring(open + "```java\n".length(), close);
    }

    @Test
    void theReadmeQuotesTheExampleVerbatim() throws Exception {
        assertEquals(region(), quoted(), "README.md's Java example and " + SOURCE + " differ: copy the file's marked region into the README");
    }

    @Test
    void theExampleStreamsTheReasoningAndTheAnswerApart() throws Exception {
        String question = "What is 2 + 3?";
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream answer = new ByteArrayOutputStream(), reasoning = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(answer, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(reasoning, true, StandardCharsets.UTF_8));
            Chat.main(new String[]{GOLDEN.toString(), question, "40"});
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        // the same generation without streaming: its ids before and after </think>
        try (Model model = Model.load(GOLDEN, DType.F32, new VectorOps())) {
            Tokenizer tok = model.tokenizer();
            int[] prompt = ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(question)), true);
            GenerationConfig config = GenerationConfig.builder().maxTokens(40).temperature(0.6).topP(0.95).thinkBudget(20).build();
            Completion c = Generator.of(model.transformer(), tok).generate(List.of(prompt), config, null).getFirst();
            int cut = -1;
            for (int i = 0; i < c.ids().length && cut < 0; i++) if (c.ids()[i] == tok.tokenId(ChatTemplate.END_THINK)) cut = i;
            assertTrue(cut > 0, "the budget of 20 forces </think>: " + Arrays.toString(c.ids()));
            assertEquals(tok.decode(Arrays.copyOf(c.ids(), cut), true), reasoning.toString(StandardCharsets.UTF_8), "stderr: the reasoning");
            assertEquals(tok.decode(Arrays.copyOfRange(c.ids(), cut + 1, c.ids().length), true) + System.lineSeparator(),
                    answer.toString(StandardCharsets.UTF_8), "stdout: the answer");
            assertFalse(reasoning.toString(StandardCharsets.UTF_8).isEmpty());
        }
    }
}
