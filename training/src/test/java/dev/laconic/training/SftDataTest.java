package dev.laconic.training;

import dev.laconic.training.SftData.Example;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
        assertFault(dir, ":1: expected {\"prompt\", \"response\"}", "{\"text\": \"x\"}");
        assertFault(dir, ":1: field \"response\": missing", "{\"prompt\": \"x\"}");
        assertFault(dir, ":1: expected a JSON object", "[1, 2]");
        assertFault(dir, "no usable example", "{\"ids\": [1, 2], \"loss_mask\": [1, 0]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(dir.resolve("none.jsonl"), 10, false));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    static void assertFault(Path dir, String expected, String... lines) throws IOException {
        Path f = write(dir, lines);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(f, 100, false));
        String msg = e.getMessage().replace(f + ":2:", "line 2");
        assertTrue(msg.contains(expected), msg);
    }
}
