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
