package dev.laconic.training;

import dev.laconic.training.SftData.Example;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class SftDataTest {
    static final Path GOLDEN = Path.of("../transformer/src/test/resources/golden");

    static Path write(Path dir, String... lines) throws IOException {
        Path f = dir.resolve("data.jsonl");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    static SftData.Loaded load(Path f, int maxLen, boolean truncate) {
        return SftData.load(f, null, SftData.Template.NONE, 384, maxLen, truncate);
    }

    @Test
    void idsAndMaskAreUsedAsGiven(@TempDir Path dir) throws IOException {
        Path f = write(dir, "{\"ids\": [381, 5, 6, 7, 378], \"loss_mask\": [1, 0, 1, 1, 0]}", "", "{\"ids\": [1, 2], \"loss_mask\": [0, 1]}");
        SftData.Loaded d = load(f, 100, false);
        assertEquals(2, d.examples().size());
        Example e = d.examples().get(0);
        assertArrayEquals(new int[]{381, 5, 6, 7, 378}, e.ids());
        assertArrayEquals(new float[]{0, 1, 1, 0}, e.weights(), "weights[t-1] = mask[t]; mask[0] unused");
        assertEquals(1, e.line());
        assertEquals(3, d.examples().get(1).line());
    }

    @Test
    void promptResponseGetsTheR1TemplateAndLossOnResponsePlusEos(@TempDir Path dir) throws IOException {
        Tokenizer tok = Tokenizer.load(GOLDEN.resolve("qwen2-f32"));
        Path f = write(dir, "{\"prompt\": \"the cat\", \"response\": \"sat down\"}");
        Example e = SftData.load(f, tok, SftData.Template.R1, 384, 1000, false).examples().getFirst();
        // R1: BOS + <｜User｜> + prompt + <｜Assistant｜><think>\n, then the response and EOS
        int[] prompt = tok.encode("<｜begin▁of▁sentence｜><｜User｜>the cat<｜Assistant｜><think>\n", false);
        int[] response = tok.encode("sat down", false);
        assertEquals(381, prompt[0]);
        int[] expected = IntStream.concat(IntStream.concat(Arrays.stream(prompt), Arrays.stream(response)), IntStream.of(378)).toArray();
        assertArrayEquals(expected, e.ids());
        for (int t = 1; t < expected.length; t++)
            assertEquals(t >= prompt.length ? 1f : 0f, e.weights()[t - 1], "position " + t);
        assertEquals(response.length + 1, e.lossPositions());

        Example plain = SftData.load(f, tok, SftData.Template.NONE, 384, 1000, false).examples().getFirst();
        int[] p2 = tok.encode("the cat", true);
        assertEquals(381, p2[0]);
        assertArrayEquals(IntStream.concat(IntStream.concat(Arrays.stream(p2), Arrays.stream(response)), IntStream.of(378)).toArray(), plain.ids());
    }

    @Test
    void overLongExamplesAreSkippedAndCountedOrTruncated(@TempDir Path dir) throws IOException {
        Path f = write(dir,
                "{\"ids\": [1, 2, 3, 4, 5, 6], \"loss_mask\": [0, 0, 0, 1, 1, 1]}",
                "{\"ids\": [1, 2, 3], \"loss_mask\": [0, 1, 1]}",
                "{\"ids\": [1, 2, 3, 4, 5], \"loss_mask\": [0, 0, 0, 0, 1]}",
                "{\"ids\": [1, 2, 3], \"loss_mask\": [1, 0, 0]}");
        SftData.Loaded skip = load(f, 4, false);
        assertEquals(1, skip.examples().size());
        assertEquals(2, skip.skippedTooLong());
        assertEquals(1, skip.skippedNoLoss(), "a mask with only mask[0] set has no loss position");
        SftData.Loaded cut = load(f, 4, true);
        assertEquals(1, cut.truncated(), "line 3, cut, has no loss position left: skipped, not counted as truncated");
        assertEquals(2, cut.examples().size(), "line 1 cut to 4 keeps a loss token, line 3 cut to 4 keeps none");
        assertArrayEquals(new int[]{1, 2, 3, 4}, cut.examples().get(0).ids());
        assertArrayEquals(new float[]{0, 0, 1}, cut.examples().get(0).weights());
        assertEquals(2, cut.skippedNoLoss());
    }

    @Test
    void faultsNameTheLine(@TempDir Path dir) throws IOException {
        assertFault(dir, "line 2", "{\"ids\": [1, 2], \"loss_mask\": [0, 1]}", "{\"ids\": [1, 2");
        assertFault(dir, ":1: field \"loss_mask\": 1 entries for 2 ids", "{\"ids\": [1, 2], \"loss_mask\": [1]}");
        assertFault(dir, ":1: field \"ids\": id 384 at index 1", "{\"ids\": [1, 384], \"loss_mask\": [0, 1]}");
        assertFault(dir, ":1: field \"loss_mask\": entry 1 is 2", "{\"ids\": [1, 3], \"loss_mask\": [0, 2]}");
        assertFault(dir, ":1: field \"ids\": element 0 is not an integer", "{\"ids\": [1.5, 3], \"loss_mask\": [0, 1]}");
        assertFault(dir, ":1: expected one of {\"prompt\", \"completion\"}, {\"text\"}, {\"messages\"}", "{\"txet\": \"x\"}");
        assertFault(dir, ":1: {\"text\"} lines need a tokenizer.json", "{\"text\": \"x\"}");
        assertFault(dir, ":1: field \"completion\": missing", "{\"prompt\": \"x\"}");
        assertFault(dir, ":1: expected a JSON object", "[1, 2]");
        assertFault(dir, "no usable example", "{\"ids\": [1, 2], \"loss_mask\": [1, 0]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(dir.resolve("none.jsonl"), 10, false));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    // ---- TRL's SFTTrainer shapes (https://huggingface.co/docs/trl/dataset_formats), each against the tokenizer's own
    // encoding of the text it stands for; the loss mask decoded span by span must be exactly the trained text

    static final String BOS = "<｜begin▁of▁sentence｜>", EOS = "<｜end▁of▁sentence｜>", USER = "<｜User｜>", ASSISTANT = "<｜Assistant｜>";

    static Tokenizer tok() throws IOException {
        return Tokenizer.load(GOLDEN.resolve("qwen2-f32"));
    }

    static Example one(Path dir, Tokenizer tok, String line) throws IOException {
        SftData.Loaded d = SftData.load(write(dir, line), tok, SftData.Template.R1, 384, 1000, false);
        assertEquals(1, d.examples().size());
        return d.examples().getFirst();
    }

    /** The trained spans of an example, decoded (special tokens kept), and the untrained ones. */
    static List<String> spans(Tokenizer tok, Example e, boolean trained) {
        List<String> out = new ArrayList<>();
        int[] ids = e.ids();
        int t = 1;                                       // weights[t-1] is the mask of ids[t]; ids[0] is never trained
        List<Integer> run = new ArrayList<>();
        if (!trained) run.add(ids[0]);
        for (; t <= ids.length; t++) {
            boolean in = t < ids.length && (e.weights()[t - 1] == 1f) == trained;
            if (in) run.add(ids[t]);
            else if (!run.isEmpty()) {
                out.add(tok.decode(run.stream().mapToInt(Integer::intValue).toArray(), false));
                run.clear();
            }
        }
        return out;
    }

    @Test
    void standardTextIsTrainedOnEveryTokenWithBosAndEos(@TempDir Path dir) throws IOException {
        Tokenizer tok = tok();
        Example e = one(dir, tok, "{\"text\": \"The sky is blue.\"}");
        int[] want = tok.encode("The sky is blue." + EOS, true);
        assertEquals(381, want[0]);
        assertEquals(378, want[want.length - 1]);
        assertArrayEquals(want, e.ids());
        assertEquals(want.length - 1, e.lossPositions(), "every token after BOS");
        // a text that already ends with EOS gets no second one (TRL's add_eos)
        assertArrayEquals(want, one(dir, tok, "{\"text\": \"The sky is blue." + EOS + "\"}").ids());
    }

    @Test
    void standardPromptCompletionIsTokenizedTogetherWithTheLossOnTheCompletion(@TempDir Path dir) throws IOException {
        Tokenizer tok = tok();
        Example e = one(dir, tok, "{\"prompt\": \"The sky is\", \"completion\": \" blue.\"}");
        int[] prompt = tok.encode("The sky is", true), want = tok.encode("The sky is blue." + EOS, true);
        assertArrayEquals(want, e.ids());
        assertArrayEquals(prompt, Arrays.copyOf(want, prompt.length), "this prompt tokenizes to a prefix of the whole");
        for (int t = 1; t < want.length; t++) assertEquals(t >= prompt.length ? 1f : 0f, e.weights()[t - 1], "position " + t);
        assertEquals(List.of(" blue." + EOS), spans(tok, e, true));
    }

    @Test
    void conversationalMessagesAreTrainedOnTheAssistantTurns(@TempDir Path dir) throws IOException {
        Tokenizer tok = tok();
        Example e = one(dir, tok, """
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What colour is the sky?"},
                 {"role": "assistant", "content": "<think>\\nIt scatters blue.</think>\\n\\nBlue."}, {"role": "user", "content": "And grass?"},
                 {"role": "assistant", "content": "Green."}]}""".replace("\n", " "));
        String text = BOS + "Be brief." + USER + "What colour is the sky?" + ASSISTANT + "<think>\n" + "It scatters blue.</think>\n\nBlue." + EOS
                + USER + "And grass?" + ASSISTANT + "<think>\n" + "Green." + EOS;
        assertArrayEquals(tok.encode(text, false), e.ids());
        assertEquals(List.of("It scatters blue.</think>\n\nBlue." + EOS, "Green." + EOS), spans(tok, e, true));
        assertEquals(List.of(BOS + "Be brief." + USER + "What colour is the sky?" + ASSISTANT + "<think>\n",
                USER + "And grass?" + ASSISTANT + "<think>\n"), spans(tok, e, false));
    }

    @Test
    void conversationalPromptCompletionFollowsTheGenerationPrompt(@TempDir Path dir) throws IOException {
        Tokenizer tok = tok();
        // an earlier assistant turn of the prompt is rendered as the R1 template renders history: its answer only
        Example e = one(dir, tok, """
                {"prompt": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "Let me add.</think>4"},
                 {"role": "user", "content": "and 3+3?"}],
                 "completion": [{"role": "assistant", "content": "Add again.</think>6"}]}""".replace("\n", " "));
        String prompt = BOS + USER + "2+2?" + ASSISTANT + "4" + EOS + USER + "and 3+3?" + ASSISTANT + "<think>\n";
        assertArrayEquals(tok.encode(prompt + "Add again.</think>6" + EOS, false), e.ids());
        int[] p = tok.encode(prompt, false);
        for (int t = 1; t < e.ids().length; t++) assertEquals(t >= p.length ? 1f : 0f, e.weights()[t - 1], "position " + t);
        assertEquals(List.of("Add again.</think>6" + EOS), spans(tok, e, true));

        // the same conversation as messages trains the first assistant turn too, with its reasoning
        Example m = one(dir, tok, """
                {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "Let me add.</think>4"},
                 {"role": "user", "content": "and 3+3?"}, {"role": "assistant", "content": "Add again.</think>6"}]}""".replace("\n", " "));
        assertEquals(List.of("Let me add.</think>4" + EOS, "Add again.</think>6" + EOS), spans(tok, m, true));
        // content parts ({"type": "text"}) are joined
        Example parts = one(dir, tok, "{\"prompt\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"and \"}, "
                + "{\"type\": \"text\", \"text\": \"3+3?\"}]}], \"completion\": [{\"role\": \"assistant\", \"content\": \"6\"}]}");
        assertArrayEquals(tok.encode(BOS + USER + "and 3+3?" + ASSISTANT + "<think>\n6" + EOS, false), parts.ids());
    }

    @Test
    void malformedTrlLinesNameTheLineAndField(@TempDir Path dir) throws IOException {
        Tokenizer tok = tok();
        String[][] cases = {
                {"{\"messages\": \"hi\"}", ":1: field \"messages\": expected a list of {\"role\", \"content\"} messages"},
                {"{\"messages\": []}", ":1: field \"messages\": no messages"},
                {"{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}", ":1: field \"messages\": message 0: role \"bot\" is not system, user, assistant or tool"},
                {"{\"messages\": [{\"role\": \"user\"}]}", ":1: field \"messages\": message 0: \"content\" missing"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": 3}]}", ":1: field \"messages\": message 0: \"content\" is not a string"},
                {"{\"prompt\": [{\"role\": \"user\", \"content\": \"x\"}]}", ":1: field \"completion\": missing"},
                {"{\"prompt\": [{\"role\": \"user\", \"content\": \"x\"}], \"completion\": [{\"role\": \"user\", \"content\": \"y\"}]}",
                        ":1: field \"completion\": message 0 has role \"user\"; a completion holds assistant messages"},
                {"{\"prompt\": \"x\", \"completion\": [{\"role\": \"assistant\", \"content\": \"y\"}]}", ":1: field \"completion\": a list of messages, but \"prompt\" is not"},
                {"{\"prompt\": \"x\", \"completion\": 5}", ":1: field \"completion\": expected a string"},
                {"{\"completion\": \"x\"}", ":1: field \"prompt\": missing"},
                {"{\"text\": [1]}", ":1: field \"text\": expected a string"},
        };
        for (String[] c : cases) {
            Path f = write(dir, c[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SftData.load(f, tok, SftData.Template.R1, 384, 100, false), c[0]);
            assertTrue(e.getMessage().startsWith(f + c[1]), e.getMessage());
        }
    }

    static void assertFault(Path dir, String expected, String... lines) throws IOException {
        Path f = write(dir, lines);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(f, 100, false));
        String msg = e.getMessage().replace(f + ":2:", "line 2");
        assertTrue(msg.contains(expected), msg);
    }
}
