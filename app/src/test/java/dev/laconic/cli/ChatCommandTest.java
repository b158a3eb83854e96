package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code laconic chat} off a terminal: turns from standard input, the reasoning labelled apart, the commands. */
class ChatCommandTest {
    @TempDir Path tmp;

    static ModelCommandsTest.Run chat(String input, String... args) {
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
            return ModelCommandsTest.run(args);
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void aTwoTurnConversationKeepsTheFirstAnswerWithoutItsThinking() throws Exception {
        Path saved = tmp.resolve("chat.json");
        ModelCommandsTest.Run r = chat("What is 2+3?\n/budget 3\n/bogus\nAnd times 4?\n/save " + saved + "\n/reset\n/exit\nnever read\n",
                "chat", "--model", ModelCommandsTest.MODEL.toString(), "--temperature", "0", "--max-tokens", "20", "--system", "Be brief.");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("[thinking]\n"), r.out());
        assertTrue(r.out().contains("(thinking budget: 3 tokens)"), r.out());
        assertTrue(r.out().contains("error: unknown command /bogus"), r.out());
        assertTrue(r.out().contains("(conversation cleared)"), r.out());

        JsonNode ms = Jsonl.JSON.readTree(saved.toFile()).get("messages");
        assertEquals(5, ms.size(), ms.toString());
        assertEquals(List.of("system", "user", "assistant", "user", "assistant"),
                List.of(ms.get(0), ms.get(1), ms.get(2), ms.get(3), ms.get(4)).stream().map(m -> m.get("role").asText()).toList());

        // each turn is what the generator gives the template's prompt of the conversation so far (greedy), turn k stream k
        try (Model m = Model.load(ModelCommandsTest.MODEL)) {
            Tokenizer tok = m.tokenizer();
            Generator gen = Generator.of(m.transformer(), tok);
            List<ChatTemplate.Message> conv = List.of(new ChatTemplate.Message(ChatTemplate.Role.SYSTEM, "Be brief.", null),
                    ChatTemplate.Message.user("What is 2+3?"));
            Completion first = gen.generate(List.of(ChatTemplate.of(tok).encode(tok, conv, true)), new int[]{0},
                    GenerationConfig.greedy(20), null).getFirst();
            assertEquals(answer(first, gen, tok), ms.get(2).get("content").asText());
            conv = List.of(conv.get(0), conv.get(1), new ChatTemplate.Message(ChatTemplate.Role.ASSISTANT, ms.get(2).get("content").asText(), null),
                    ChatTemplate.Message.user("And times 4?"));
            Completion second = gen.generate(List.of(ChatTemplate.of(tok).encode(tok, conv, true)), new int[]{1},
                    GenerationConfig.greedy(20).toBuilder().thinkBudget(3).build(), null).getFirst();
            assertEquals(3, second.reasoningTokens(), "the /budget took");
            assertFalse(answer(second, gen, tok).isEmpty());
            assertEquals(answer(second, gen, tok), ms.get(4).get("content").asText());
            assertTrue(r.out().contains("[answer]\n" + answer(second, gen, tok)), r.out());
        }
    }

    /** The answer as shown: the tokens after </think>, special tokens left out. */
    static String answer(Completion c, Generator gen, Tokenizer tok) {
        int[] ids = c.ids();
        for (int i = ids.length - 1; i >= 0; i--)
            if (ids[i] == gen.thinkEndId()) return tok.decode(java.util.Arrays.copyOfRange(ids, i + 1, ids.length), true);
        return "";
    }

    @Test
    void foldedThinkingShowsOnlyItsTokenCount() {
        ModelCommandsTest.Run r = chat("hi\n", "chat", "--model", ModelCommandsTest.MODEL.toString(), "--temperature", "0",
                "--max-tokens", "12", "--think-budget", "4", "--thinking", "fold");
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.out().contains("[thinking]"), r.out());
        assertTrue(r.out().contains("(thought for 4 tokens"), r.out());
    }
}
