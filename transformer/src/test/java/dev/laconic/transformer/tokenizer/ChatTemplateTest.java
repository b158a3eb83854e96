package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.transformer.tokenizer.ChatTemplate.Message;
import dev.laconic.transformer.tokenizer.ChatTemplate.Role;
import dev.laconic.transformer.tokenizer.ChatTemplate.ToolCall;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.laconic.transformer.tokenizer.TokenizerFixtures.chatGoldens;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.ints;
import static dev.laconic.transformer.tokenizer.TokenizerFixtures.tokenizer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Against transformers' apply_chat_template running the model's own Jinja template (tools/make_tokenizer_goldens.py). */
class ChatTemplateTest {

    private static List<Message> messages(JsonNode array) {
        List<Message> out = new ArrayList<>();
        for (JsonNode m : array) {
            Role role = Role.valueOf(m.path("role").asText().toUpperCase(Locale.ROOT));
            List<ToolCall> calls = new ArrayList<>();
            for (JsonNode c : m.path("tool_calls")) {
                calls.add(new ToolCall(c.path("type").asText(), c.path("function").path("name").asText(),
                        c.path("function").path("arguments").asText()));
            }
            String content = m.path("content").isNull() ? null : m.path("content").asText();
            out.add(new Message(role, content, calls));
        }
        return out;
    }

    @Test
    void rendersLikeTheJinjaTemplate() {
        Tokenizer tok = tokenizer();
        ChatTemplate template = ChatTemplate.of(tok);
        for (JsonNode c : chatGoldens().path("cases")) {
            List<Message> msgs = messages(c.path("messages"));
            boolean gen = c.path("add_generation_prompt").asBoolean();
            String name = c.path("name").asText();
            assertEquals(c.path("text").asText(), template.render(msgs, gen), name);
            assertArrayEquals(ints(c.path("ids")), template.encode(tok, msgs, gen), name);
        }
    }

    /** Training pieces: nothing trained is exactly the Jinja rendering; a trained turn follows the generation prompt, reasoning kept. */
    @Test
    void trainingPiecesKeepTheTemplateOutsideTheTrainedTurns() {
        Tokenizer tok = tokenizer();
        ChatTemplate template = ChatTemplate.of(tok);
        for (JsonNode c : chatGoldens().path("cases")) {
            if (c.path("add_generation_prompt").asBoolean()) continue;
            StringBuilder joined = new StringBuilder();
            for (ChatTemplate.Piece p : template.trainingPieces(messages(c.path("messages")), java.util.Set.of())) {
                assertEquals(false, p.assistant());
                joined.append(p.text());
            }
            assertEquals(c.path("text").asText(), joined.toString(), c.path("name").asText());
        }
        List<Message> chat = List.of(Message.user("q"), Message.assistant("<think>\nwhy</think>a"), Message.tool("out"), Message.assistant("b"));
        List<ChatTemplate.Piece> p = template.trainingPieces(chat, java.util.Set.of(1, 3));
        String bos = tok.token(tok.bosId()), eos = tok.token(tok.eosId());
        assertEquals(List.of(new ChatTemplate.Piece(bos + "<｜User｜>q<｜Assistant｜><think>\n", false), new ChatTemplate.Piece("why</think>a", true),
                new ChatTemplate.Piece(eos, true), new ChatTemplate.Piece("<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>out<｜tool▁output▁end｜><｜tool▁outputs▁end｜>", false),
                new ChatTemplate.Piece("b", true), new ChatTemplate.Piece(eos, true)), p);
        assertThrows(IllegalArgumentException.class, () -> template.trainingPieces(chat, java.util.Set.of(0)), "a user turn is not trained");
    }

    @Test
    void generationPromptOpensTheThinkingBlock() {
        Tokenizer tok = tokenizer();
        int[] ids = ChatTemplate.of(tok).encode(tok, List.of(Message.user("hi")), true);
        assertEquals(tok.bosId(), ids[0]);
        assertEquals(tok.tokenId("<think>"), ids[ids.length - 2]);
        assertEquals("\n", tok.decode(new int[] {ids[ids.length - 1]}, false));
    }

    @Test
    void refusesMessagesWithoutContent() {
        assertThrows(IllegalArgumentException.class, () -> Message.user(null));
        assertThrows(IllegalArgumentException.class, () -> Message.assistant(null));
    }
}
