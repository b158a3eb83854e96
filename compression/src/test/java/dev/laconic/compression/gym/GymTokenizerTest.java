package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class GymTokenizerTest {
    static final Tokenizer TOK = GymTokenizer.load();

    @Test
    void roundTripOfPromptsAndSolutionsThroughOurTokenizer(@TempDir Path dir) throws Exception {
        GymTokenizer.write(dir, 1024);
        Tokenizer fromFiles = Tokenizer.load(dir);             // the files a model directory carries
        SplittableRandom rng = new SplittableRandom(5);
        for (int level = 1; level <= 4; level++)
            for (int i = 0; i < 50; i++) {
                Problem p = Problem.random(level, rng);
                for (String text : List.of(GymFormat.userMessage(p), System2Writer.write(p, rng).response(), System1Writer.write(p))) {
                    int[] ids = fromFiles.encode(text, false);
                    assertEquals(text, fromFiles.decode(ids, false));
                    assertArrayEquals(ids, TOK.encode(text, false));
                    // byte-level: the ids' bytes are exactly the UTF-8 bytes of the text
                    assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), fromFiles.decodeBytes(ids, false));
                }
            }
        // text the corpus never had still round-trips (every byte has a token)
        String odd = "Größe ≠ 42 ½ — 猫 \t\r\n~`";
        assertEquals(odd, fromFiles.decode(fromFiles.encode(odd, false), false));
    }

    @Test
    void everyDigitIsItsOwnToken() {
        String text = "A=4821 B=3975 carry=0 digits=96\n1+5+0=16";
        int[] ids = TOK.encode(text, false);
        int digits = 0;
        for (int id : ids) {
            String t = TOK.decode(new int[]{id}, false);
            if (t.chars().anyMatch(Character::isDigit)) {
                assertEquals(1, t.length(), "token '" + t + "' mixes a digit with other characters");
                digits++;
            }
        }
        assertEquals(text.chars().filter(Character::isDigit).count(), digits);
    }

    @Test
    void addedTokensBosEosAndTheR1ChatTemplate() {
        for (String t : List.of(GymTokenizer.BOS, GymTokenizer.EOS, ChatTemplate.USER, ChatTemplate.ASSISTANT, ChatTemplate.THINK, ChatTemplate.END_THINK)) {
            int id = TOK.tokenId(t);
            assertTrue(id >= 256, t);
            assertArrayEquals(new int[]{id}, TOK.encode(t, false), t + " is one token");
        }
        assertEquals(TOK.tokenId(GymTokenizer.BOS), TOK.bosId());
        assertEquals(TOK.tokenId(GymTokenizer.EOS), TOK.eosId());
        assertTrue(TOK.isSpecial(TOK.bosId()) && TOK.isSpecial(TOK.eosId()));
        assertFalse(TOK.isSpecial(TOK.tokenId(ChatTemplate.THINK)));
        assertEquals(TOK.bosId(), TOK.encode("x", true)[0], "post-processor prepends BOS");

        Problem p = new Problem(1, new long[]{47, 85});
        int[] prompt = GymFormat.promptIds(TOK, p);
        String text = TOK.decode(prompt, false);
        assertEquals(GymTokenizer.BOS + ChatTemplate.USER + "Please reason step by step, and put your final answer within \\boxed{}."
                + "What is 47 + 85?" + ChatTemplate.ASSISTANT + ChatTemplate.THINK + "\n", text);
        assertEquals(TOK.bosId(), prompt[0]);
        assertEquals(1, java.util.Arrays.stream(prompt).filter(id -> id == TOK.bosId()).count(), "one BOS only");
        assertNotNull(TOK.chatTemplateSource());
        assertTrue(TOK.chatTemplateSource().contains("{{'<｜Assistant｜><think>\\n'}}"), "the real R1 Jinja template");
    }

    @Test
    void trainingRowMasksThePromptAndEndsWithEos() {
        Problem p = new Problem(2, new long[]{265, 482});
        String response = System1Writer.write(p);
        GymFormat.Row row = GymFormat.row(TOK, GymFormat.userMessage(p), response);
        int[] prompt = GymFormat.promptIds(TOK, p);
        assertEquals(prompt.length, row.promptTokens());
        assertArrayEquals(prompt, java.util.Arrays.copyOf(row.ids(), prompt.length));
        assertEquals(TOK.eosId(), row.ids()[row.ids().length - 1]);
        assertEquals(response, TOK.decode(java.util.Arrays.copyOfRange(row.ids(), prompt.length, row.ids().length - 1), false));
        for (int t = 1; t < row.ids().length; t++) assertEquals(t >= prompt.length ? 1f : 0f, row.weights()[t - 1], "weight of id " + t);
    }

    @Test
    void buildIsReproducibleAndSmall() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode a = GymTokenizer.tokenizerJson();
        JsonNode b = GymTokenizer.build();                        // a second build from scratch, not the cached tree
        assertEquals(json.writeValueAsString(a), json.writeValueAsString(b));
        int merges = a.path("model").path("merges").size();
        assertTrue(merges > 0 && merges <= GymTokenizer.MERGES, "merges: " + merges);
        assertEquals(256 + merges, a.path("model").path("vocab").size());
        assertEquals(256 + merges + 6, TOK.vocabSize());
        for (JsonNode m : a.path("model").path("merges"))
            for (JsonNode part : m) assertFalse(part.asText().chars().anyMatch(Character::isDigit), "merge with a digit: " + m);
    }

    @Test
    void solutionsAreShortInTokens() {
        // merges shorten the words, never the digits: a level-3 System-2 solution without passes stays under 200 tokens
        Problem p = new Problem(3, new long[]{4821, 3975});
        int n = TOK.encode(System2Writer.write(p, 0, null, new int[0]).response(), false).length;
        int chars = System2Writer.write(p, 0, null, new int[0]).response().length();
        assertTrue(n < 200 && n < chars * 0.6, n + " tokens for " + chars + " characters");
    }

    @Test
    void writesConfigTheChatTemplateNeeds(@TempDir Path dir) throws Exception {
        GymTokenizer.write(dir, 777);
        JsonNode c = new ObjectMapper().readTree(Files.readString(dir.resolve("tokenizer_config.json")));
        assertEquals(GymTokenizer.BOS, c.path("bos_token").asText());
        assertEquals(GymTokenizer.EOS, c.path("eos_token").asText());
        assertEquals(777, c.path("model_max_length").asInt());
        assertTrue(c.path("add_bos_token").asBoolean());
        ChatTemplate.of(Tokenizer.load(dir));                    // accepted as the R1 template
    }
}
