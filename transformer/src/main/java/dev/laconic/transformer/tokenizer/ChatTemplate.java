package dev.laconic.transformer.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The DeepSeek-R1 chat template (tokenizer_config.json "chat_template" of every DeepSeek-R1-Distill model) as code,
 * so no Jinja engine is needed. What the Jinja source does, in order:
 * <pre>
 * BOS + (content of the last system message, wherever it is)
 * user                      → "&lt;｜User｜&gt;" + content
 * assistant                 → "&lt;｜Assistant｜&gt;" + (content after its last "&lt;/think&gt;") + EOS
 * assistant after tool      → "&lt;｜tool▁outputs▁end｜&gt;" + content + EOS           (not cut at &lt;/think&gt;)
 * assistant with tool calls → "&lt;｜Assistant｜&gt;&lt;｜tool▁calls▁begin｜&gt;" + call, then "\n" + call + ends for the rest
 * tool                      → "&lt;｜tool▁outputs▁begin｜&gt;&lt;｜tool▁output▁begin｜&gt;" + content + "&lt;｜tool▁output▁end｜&gt;"
 *                             the first time, "\n&lt;｜tool▁output▁begin｜&gt;" + ... after that
 * end                       → "&lt;｜tool▁outputs▁end｜&gt;" if the last message was a tool output, otherwise the
 *                             generation prompt "&lt;｜Assistant｜&gt;&lt;think&gt;\n" when asked for
 * </pre>
 * Quirks of the original are kept on purpose (tests compare with transformers' rendering of the Jinja source):
 * the "first tool call" flag is never reset, so only the first tool-call message of a conversation gets the
 * "&lt;｜Assistant｜&gt;&lt;｜tool▁calls▁begin｜&gt;" opening, and a single-call message is never closed.
 */
public record ChatTemplate(String bos, String eos) {
    public static final String USER = "<｜User｜>", ASSISTANT = "<｜Assistant｜>";
    public static final String THINK = "<think>", END_THINK = "</think>";
    /** What the model is prompted with: it then writes its reasoning, {@code </think>}, and the answer. */
    public static final String GENERATION_PROMPT = ASSISTANT + THINK + "\n";
    private static final String CALLS_BEGIN = "<｜tool▁calls▁begin｜>", CALLS_END = "<｜tool▁calls▁end｜>";
    private static final String CALL_BEGIN = "<｜tool▁call▁begin｜>", CALL_END = "<｜tool▁call▁end｜>";
    private static final String SEP = "<｜tool▁sep｜>";
    private static final String OUTPUTS_BEGIN = "<｜tool▁outputs▁begin｜>", OUTPUTS_END = "<｜tool▁outputs▁end｜>";
    private static final String OUTPUT_BEGIN = "<｜tool▁output▁begin｜>", OUTPUT_END = "<｜tool▁output▁end｜>";

    public enum Role { SYSTEM, USER, ASSISTANT, TOOL }

    /** A function call requested by the assistant; {@code arguments} is the JSON text. */
    public record ToolCall(String type, String name, String arguments) {}

    /** {@code content} is null only for an assistant message that carries tool calls instead. */
    public record Message(Role role, String content, List<ToolCall> toolCalls) {
        public Message {
            Objects.requireNonNull(role);
            toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
            if (content == null && (role != Role.ASSISTANT || toolCalls.isEmpty())) {
                throw new IllegalArgumentException("a " + role + " message needs content");
            }
        }

        public static Message system(String content) { return new Message(Role.SYSTEM, content, null); }
        public static Message user(String content) { return new Message(Role.USER, content, null); }
        public static Message assistant(String content) { return new Message(Role.ASSISTANT, content, null); }
        public static Message tool(String content) { return new Message(Role.TOOL, content, null); }
        public static Message toolCalls(List<ToolCall> calls) { return new Message(Role.ASSISTANT, null, calls); }
    }

    /** The R1 template with the tokenizer's own BOS and EOS strings. */
    public static ChatTemplate of(Tokenizer tokenizer) {
        String src = tokenizer.chatTemplateSource();
        if (src != null && !(src.contains(USER) && src.contains(ASSISTANT) && src.contains(END_THINK))) {
            throw new IllegalArgumentException("tokenizer_config.json: chat_template is not the DeepSeek-R1 template");
        }
        if (tokenizer.bosId() < 0 || tokenizer.eosId() < 0) {
            throw new IllegalArgumentException("tokenizer_config.json: bos_token and eos_token are needed for the chat template");
        }
        return new ChatTemplate(tokenizer.token(tokenizer.bosId()), tokenizer.token(tokenizer.eosId()));
    }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (Piece p : pieces(messages, addGenerationPrompt, Set.of())) out.append(p.text());
        return out.toString();
    }

    /** A span of a rendered conversation; {@code assistant}: text an assistant turn being trained writes (its content and EOS). */
    public record Piece(String text, boolean assistant) {}

    /**
     * A conversation rendered for training on the assistant messages at the indices {@code trained}: as
     * {@link #render} (no generation prompt), except that each of those messages is written as the model writes
     * it when prompted — the generation prompt {@code "<｜Assistant｜><think>\n"}, then its content whole (the
     * reasoning kept, where {@link #render} keeps only the answer of an earlier turn; a leading {@code <think>} is
     * the prompt's and dropped) and EOS. After a tool output the template opens the turn with
     * {@code "<｜tool▁outputs▁end｜>"} instead, and keeps the content whole anyway. The trained content and its EOS
     * are the {@link Piece#assistant() assistant} pieces; the pieces joined are the text to tokenize.
     */
    public List<Piece> trainingPieces(List<Message> messages, Set<Integer> trained) {
        for (int i : trained) {
            if (i < 0 || i >= messages.size() || messages.get(i).role() != Role.ASSISTANT || messages.get(i).content() == null)
                throw new IllegalArgumentException("message " + i + " is not an assistant message with content");
        }
        return pieces(messages, false, trained);
    }

    private List<Piece> pieces(List<Message> messages, boolean addGenerationPrompt, Set<Integer> trained) {
        String system = "";                                        // the last system message wins
        for (Message m : messages) if (m.role() == Role.SYSTEM) system = m.content();
        List<Piece> out = new ArrayList<>();
        StringBuilder plain = new StringBuilder(bos).append(system);   // text outside trained turns, flushed before one

        boolean isTool = false, isFirstCall = false, isFirstOutput = true;
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            switch (m.role()) {
                case SYSTEM -> { }
                case USER -> {
                    isTool = false;
                    plain.append(USER).append(m.content());
                }
                case ASSISTANT -> {
                    if (m.content() == null) {
                        isTool = false;
                        for (ToolCall c : m.toolCalls()) {
                            String call = CALL_BEGIN + c.type() + SEP + c.name() + "\n```json\n" + c.arguments()
                                    + "\n```" + CALL_END;
                            if (!isFirstCall) {
                                plain.append(ASSISTANT).append(CALLS_BEGIN).append(call);
                                isFirstCall = true;
                            } else {
                                plain.append('\n').append(call).append(CALLS_END).append(eos);
                            }
                        }
                    } else if (trained.contains(i)) {
                        plain.append(isTool ? OUTPUTS_END : GENERATION_PROMPT);
                        out.add(new Piece(plain.toString(), false));
                        plain.setLength(0);
                        out.add(new Piece(isTool ? m.content() : withoutThinkOpening(m.content()), true));
                        out.add(new Piece(eos, true));
                        isTool = false;
                    } else if (isTool) {
                        plain.append(OUTPUTS_END).append(m.content()).append(eos);
                        isTool = false;
                    } else {
                        plain.append(ASSISTANT).append(answerPart(m.content())).append(eos);
                    }
                }
                case TOOL -> {
                    isTool = true;
                    if (isFirstOutput) {
                        plain.append(OUTPUTS_BEGIN).append(OUTPUT_BEGIN).append(m.content()).append(OUTPUT_END);
                        isFirstOutput = false;
                    } else {
                        plain.append('\n').append(OUTPUT_BEGIN).append(m.content()).append(OUTPUT_END);
                    }
                }
            }
        }
        if (isTool) plain.append(OUTPUTS_END);
        if (addGenerationPrompt && !isTool) plain.append(GENERATION_PROMPT);
        if (!plain.isEmpty()) out.add(new Piece(plain.toString(), false));
        return out;
    }

    /** Content written after the generation prompt, which already opened the thinking block: a leading {@code <think>} (and its newline) dropped. */
    static String withoutThinkOpening(String content) {
        if (!content.startsWith(THINK)) return content;
        String rest = content.substring(THINK.length());
        return rest.startsWith("\n") ? rest.substring(1) : rest;
    }

    /** Token ids of the rendered conversation: its BOS is in the text, so none is added again. */
    public int[] encode(Tokenizer tokenizer, List<Message> messages, boolean addGenerationPrompt) {
        return tokenizer.encode(render(messages, addGenerationPrompt), false);
    }

    /** What an earlier assistant turn contributes to the prompt: the text after its last {@code </think>}. */
    public static String answerPart(String content) {
        int k = content.lastIndexOf(END_THINK);
        return k < 0 ? content : content.substring(k + END_THINK.length());
    }
}
