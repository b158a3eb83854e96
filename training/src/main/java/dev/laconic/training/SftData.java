package dev.laconic.training;


import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;








import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * SFT examples from JSON Lines: the data shapes of TRL's {@code SFTTrainer}, and two of Laconic's own. Each line is one of
 * <pre>
 *   {"text": t}                          standard language modeling: ids = tokenizer(t + EOS, with BOS); loss on every token
 *   {"prompt": p, "completion": c}       standard prompt-completion: ids = tokenizer(p + c + EOS, with BOS); loss on c and EOS
 *   {"messages": [{"role", "content"}, ...]}
 *                                        conversational: the model's chat template applied; loss on the assistant turns
 *   {"prompt": [messages], "completion": [assistant messages]}
 *                                        conversational prompt-completion: prompt rendered with the generation prompt,
 *                                        the completion after it; loss on the completion
 *   {"prompt": p, "response": r}         template r1:   ids = R1(user turn = p) + "&lt;｜Assistant｜&gt;&lt;think&gt;\n" + r + EOS
 *                                        template none: ids = tokenizer(p, with BOS) + tokens(r) + EOS
 *                                        loss on the response tokens and the EOS, none on the prompt
 *   {"ids": [...], "loss_mask": [0|1, ...]}   used as given (one mask entry per id; mask[0] is never used)
 * </pre>
 * As TRL: the EOS is added to a text or completion that does not already end with it; a prompt and its
 * completion are tokenized together ({@code tokenizer(p + c)}), and the loss starts at the first token that is
 * not wholly inside the prompt's own tokenization; {@code completion_only_loss} holds for prompt-completion lines
 * and ({@code assistant_only_loss}) for messages. Roles are system, user, assistant and tool; content is a string
 * (or a list of {@code {"type": "text", "text"}} parts, joined). In a conversation, a trained assistant turn is
 * written as the model writes it after the R1 generation prompt {@code "<｜Assistant｜><think>\n"}, its content
 * whole ({@link ChatTemplate#trainingPieces}): the R1 template's own rendering of an assistant turn keeps only
 * the answer after {@code </think>}, which is right for earlier turns of a prompt and wrong for a turn to learn.
 *
 * <p>An example stores {@code weights[t-1] = mask[t]} for t = 1..n-1: the weight of predicting ids[t],
 * the shape {@link TokenObjective} takes. An example longer than {@code maxLen} is skipped and
 * counted, or cut to its first {@code maxLen} tokens with {@code truncate}; an example left without a
 * loss position is skipped and counted too. Every other fault names the file, the line and the field.
 * {@code -} as the file reads standard input.
 */
public final class SftData {

    /** The template of {"prompt", "response"} lines (conversational lines always get the model's chat template). */
    public enum Template { R1, NONE }

    /** A fault in one field of one line: {@code (field, problem)} → the exception to throw. */
    @FunctionalInterface
    public interface Fault {
        RuntimeException at(String field, String problem);
    }

    /** @param line 1-based line of the input file */
    public record Example(int line, int[] ids, float[] weights) {
        public Example {
            if (weights.length != ids.length - 1) throw new IllegalArgumentException("line " + line + ": " + weights.length + " weights for " + ids.length + " ids");
        }

        public double lossPositions() {
            double s = 0;
            for (float w : weights) s += w;
            return s;
        }
    }

    /** The examples kept, and how many were cut ({@code truncated}) or left out ({@code skipped}). */
    public record Loaded(List<Example> examples, int skippedTooLong, int skippedNoLoss, int truncated) {}

    /** Token ids and one loss-mask entry per id. */
    public record Encoded(int[] ids, int[] mask) {}

    /**
     * @param tokenizer needed for every shape but ids/loss_mask (may be null otherwise)
     * @param vocab     ids must lie in [0, vocab)
     * @param maxLen    longest example in tokens (also bounded by the model's context by the caller)
     */
    public static Loaded load(Path file, Tokenizer tokenizer, Template template, int vocab, int maxLen, boolean truncate) {
        if (maxLen < 2) throw new IllegalArgumentException("maxLen must be ≥ 2, got " + maxLen);
        List<Example> out = new ArrayList<>();
        int[] skipped = new int[3];   // too long, no loss position, cut to maxLen
        Jsonl.forEach(file, line -> {
            Encoded enc = encode(line.json(), tokenizer, template, line::error, line::fault);
            int[] ids = enc.ids(), mask = enc.mask();
            for (int i = 0; i < ids.length; i++)
                if (ids[i] < 0 || ids[i] >= vocab)
                    throw line.error("ids", "id " + ids[i] + " at index " + i + " is outside the vocabulary [0, " + vocab + ")");
            boolean over = ids.length > maxLen;
            if (over) {
                if (!truncate) {
                    skipped[0]++;
                    return;
                }
                ids = Arrays.copyOf(ids, maxLen);
                mask = Arrays.copyOf(mask, maxLen);
            }
            float[] w = new float[Math.max(0, ids.length - 1)];
            boolean any = false;
            for (int t = 1; t < ids.length; t++) {
                w[t - 1] = mask[t];
                any |= mask[t] != 0;
            }
            if (!any) {
                skipped[1]++;
                return;
            }
            if (over) skipped[2]++;
            out.add(new Example(line.number(), ids, w));
        });
        int tooLong = skipped[0], noLoss = skipped[1], cut = skipped[2];
        Path name = Jsonl.isStdin(file) ? Jsonl.STDIN : file;
        if (out.isEmpty())
            throw new IllegalArgumentException(name + ": no usable example (" + tooLong + " longer than maxLen " + maxLen
                    + ", " + noLoss + " without a loss position)");
        return new Loaded(List.copyOf(out), tooLong, noLoss, cut);
    }

    /** Which of the shapes above a line has, by its fields. */
    public enum Shape { IDS, TEXT, PROMPT_COMPLETION, MESSAGES, CHAT_PROMPT_COMPLETION, PROMPT_RESPONSE }

    static final String SHAPES = "expected one of {\"prompt\", \"completion\"}, {\"text\"}, {\"messages\"}, "
            + "{\"prompt\": [messages], \"completion\": [messages]}, {\"prompt\", \"response\"} or {\"ids\", \"loss_mask\"}";

    public static Shape shape(JsonNode node, Fault fault, java.util.function.Function<String, RuntimeException> lineFault) {
        if (node.has("ids")) return Shape.IDS;
        if (node.has("messages")) return Shape.MESSAGES;
        if (node.has("prompt")) {
            JsonNode p = node.get("prompt");
            if (p.isArray()) {
                if (!node.has("completion")) throw fault.at("completion", "missing (a conversational prompt needs a list of assistant messages to learn)");
                return Shape.CHAT_PROMPT_COMPLETION;
            }
            if (node.has("completion")) {
                if (node.get("completion").isArray()) throw fault.at("completion", "a list of messages, but \"prompt\" is not: give both as lists of messages or both as strings");
                return Shape.PROMPT_COMPLETION;
            }
            if (node.has("response")) return Shape.PROMPT_RESPONSE;
            throw fault.at("completion", "missing (a text prompt needs a text \"completion\", or a \"response\")");
        }
        if (node.has("text")) return Shape.TEXT;
        if (node.has("completion") || node.has("response")) throw fault.at("prompt", "missing");
        throw lineFault.apply(SHAPES);
    }

    /** One line's ids and loss mask (every field checked; ids not yet checked against the vocabulary). */
    static Encoded encode(JsonNode node, Tokenizer tok, Template template, Fault fault, java.util.function.Function<String, RuntimeException> lineFault) {
        Shape shape = shape(node, fault, lineFault);
        if (shape == Shape.IDS) {
            int[] ids = intArray(node, "ids", fault), mask = intArray(node, "loss_mask", fault);
            if (mask.length != ids.length) throw fault.at("loss_mask", mask.length + " entries for " + ids.length + " ids");
            for (int i = 0; i < mask.length; i++)
                if (mask[i] != 0 && mask[i] != 1) throw fault.at("loss_mask", "entry " + i + " is " + mask[i] + ", expected 0 or 1");
            return new Encoded(ids, mask);
        }
        if (tok == null) throw lineFault.apply(shapeName(shape) + " lines need a tokenizer.json in the model directory");
        if (tok.eosId() < 0) throw lineFault.apply("the tokenizer has no eos_token to end the " + (shape == Shape.TEXT ? "text" : "completion") + " with");
        String eos = tok.token(tok.eosId());
        return switch (shape) {
            case TEXT -> {
                String t = text(node, "text", fault);
                yield tokenize(tok, List.of(new ChatTemplate.Piece(t.endsWith(eos) ? t : t + eos, true)), true);
            }
            case PROMPT_COMPLETION -> {
                String p = text(node, "prompt", fault), c = text(node, "completion", fault);
                yield tokenize(tok, List.of(new ChatTemplate.Piece(p, false), new ChatTemplate.Piece(c.endsWith(eos) ? c : c + eos, true)), true);
            }
            case PROMPT_RESPONSE -> {
                String p = text(node, "prompt", fault), r = text(node, "response", fault);
                if (template == Template.R1) {
                    yield tokenize(tok, chat(tok, lineFault).trainingPieces(
                            List.of(ChatTemplate.Message.user(p), ChatTemplate.Message.assistant(r)), Set.of(1)), false);
                }
                int[] pi = tok.encode(p, true), ri = tok.encode(r, false);
                int[] ids = Arrays.copyOf(pi, pi.length + ri.length + 1);
                System.arraycopy(ri, 0, ids, pi.length, ri.length);
                ids[ids.length - 1] = tok.eosId();
                int[] mask = new int[ids.length];
                Arrays.fill(mask, pi.length, ids.length, 1);
                yield new Encoded(ids, mask);
            }
            case MESSAGES -> {
                List<ChatTemplate.Message> m = messages(node.get("messages"), "messages", fault);
                Set<Integer> trained = new LinkedHashSet<>();
                for (int i = 0; i < m.size(); i++) if (m.get(i).role() == ChatTemplate.Role.ASSISTANT) trained.add(i);
                yield tokenize(tok, chat(tok, lineFault).trainingPieces(m, trained), false);
            }
            case CHAT_PROMPT_COMPLETION -> {
                List<ChatTemplate.Message> p = messages(node.get("prompt"), "prompt", fault), c = messages(node.get("completion"), "completion", fault);
                List<ChatTemplate.Message> all = new ArrayList<>(p);
                Set<Integer> trained = new LinkedHashSet<>();
                for (int i = 0; i < c.size(); i++) {
                    if (c.get(i).role() != ChatTemplate.Role.ASSISTANT)
                        throw fault.at("completion", "message " + i + " has role \"" + c.get(i).role().name().toLowerCase(Locale.ROOT) + "\"; a completion holds assistant messages");
                    trained.add(all.size());
                    all.add(c.get(i));
                }
                yield tokenize(tok, chat(tok, lineFault).trainingPieces(all, trained), false);
            }
            case IDS -> throw new AssertionError();
        };
    }

    /**
     * The prompt of one line, for generation: {"prompt": text} (with {@code chat}: as the user turn of the R1
     * template, else tokenized with BOS), {"text": ...} likewise, {"prompt": [messages]} and {"messages": [...]} (its
     * trailing assistant messages left out, a training line's answer) with the chat template and its generation
     * prompt. Other fields ({@code completion}, {@code response}, ...) are ignored; {"ids"} is the caller's.
     */
    public static int[] promptIds(JsonNode node, Tokenizer tok, boolean chat, Fault fault, java.util.function.Function<String, RuntimeException> lineFault) {
        JsonNode p = node.get("prompt");
        if (p != null && p.isArray() || p == null && node.has("messages")) {
            String field = p != null ? "prompt" : "messages";
            List<ChatTemplate.Message> m = new ArrayList<>(messages(node.get(field), field, fault));
            if (p == null) while (!m.isEmpty() && m.getLast().role() == ChatTemplate.Role.ASSISTANT) m.removeLast();
            if (m.isEmpty()) throw fault.at(field, "no message before the assistant's to prompt with");
            return chat(tok, lineFault).encode(tok, m, true);
        }
        String field = p != null ? "prompt" : node.has("text") ? "text" : null;
        if (field == null) throw lineFault.apply("expected {\"prompt\": text or [messages]}, {\"messages\": [...]}, {\"text\"} or {\"ids\"}");
        String t = text(node, field, fault);
        return chat ? chat(tok, lineFault).encode(tok, List.of(ChatTemplate.Message.user(t)), true) : tok.encode(t, true);
    }

    /**
     * The ids of the joined pieces, tokenized as one text (as TRL tokenizes prompt + completion), and the mask: 1
     * on the tokens of the {@link ChatTemplate.Piece#assistant() assistant} pieces. A boundary falls after the
     * tokens the text before it tokenizes to on its own (their common prefix with the whole), so a token that
     * spans a boundary into trained text is trained.
     */
    static Encoded tokenize(Tokenizer tok, List<ChatTemplate.Piece> pieces, boolean addBos) {
        StringBuilder text = new StringBuilder();
        for (ChatTemplate.Piece p : pieces) text.append(p.text());
        int[] ids = tok.encode(text.toString(), addBos);
        int[] mask = new int[ids.length];
        StringBuilder prefix = new StringBuilder();
        int from = -1;                                  // first trained token of the open span, -1: none open
        for (ChatTemplate.Piece p : pieces) {
            if (p.assistant() != (from >= 0)) {
                int at = prefix.isEmpty() ? 0 : commonPrefix(tok.encode(prefix.toString(), addBos), ids);
                if (p.assistant()) from = at;
                else {
                    Arrays.fill(mask, from, at, 1);
                    from = -1;
                }
            }
            prefix.append(p.text());
        }
        if (from >= 0) Arrays.fill(mask, from, ids.length, 1);
        return new Encoded(ids, mask);
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    private static ChatTemplate chat(Tokenizer tok, java.util.function.Function<String, RuntimeException> lineFault) {
        try {
            return ChatTemplate.of(tok);
        } catch (IllegalArgumentException e) {
            throw lineFault.apply(e.getMessage());
        }
    }

    private static String shapeName(Shape s) {
        return switch (s) {
            case TEXT -> "{\"text\"}";
            case PROMPT_COMPLETION -> "{\"prompt\", \"completion\"}";
            case MESSAGES -> "{\"messages\"}";
            case CHAT_PROMPT_COMPLETION -> "conversational {\"prompt\", \"completion\"}";
            case PROMPT_RESPONSE -> "prompt/response";
            case IDS -> "{\"ids\"}";
        };
    }

    /** A list of {"role", "content"} messages. */
    public static List<ChatTemplate.Message> messages(JsonNode n, String field, Fault fault) {
        if (n == null) throw fault.at(field, "missing");
        if (!n.isArray()) throw fault.at(field, "expected a list of {\"role\", \"content\"} messages");
        if (n.isEmpty()) throw fault.at(field, "no messages");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode m = n.get(i);
            String where = "message " + i;
            if (!m.isObject()) throw fault.at(field, where + " is not an object {\"role\", \"content\"}");
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw fault.at(field, where + ": \"role\" " + (role == null ? "missing" : "is not a string"));
            ChatTemplate.Role r = switch (role.asText()) {
                case "system" -> ChatTemplate.Role.SYSTEM;
                case "user" -> ChatTemplate.Role.USER;
                case "assistant" -> ChatTemplate.Role.ASSISTANT;
                case "tool" -> ChatTemplate.Role.TOOL;
                default -> throw fault.at(field, where + ": role \"" + role.asText() + "\" is not system, user, assistant or tool");
            };
            out.add(new ChatTemplate.Message(r, content(m.get("content"), field, where, fault), null));
        }
        return out;
    }

    private static String content(JsonNode c, String field, String where, Fault fault) {
        if (c == null || c.isNull()) throw fault.at(field, where + ": \"content\" missing");
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {                             // [{"type": "text", "text": ...}, ...], as TRL's multimodal rows
            StringBuilder s = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.path("type").asText("").equals("text") || !part.path("text").isTextual())
                    throw fault.at(field, where + ": \"content\" parts must be {\"type\": \"text\", \"text\": ...}");
                s.append(part.get("text").asText());
            }
            return s.toString();
        }
        throw fault.at(field, where + ": \"content\" is not a string");
    }

    private static String text(JsonNode node, String field, Fault fault) {
        JsonNode v = node.get(field);
        if (v == null) throw fault.at(field, "missing");
        if (!v.isTextual()) throw fault.at(field, "expected a string");
        return v.asText();
    }

    private static int[] intArray(JsonNode node, String field, Fault fault) {
        JsonNode v = node.get(field);
        if (v == null) throw fault.at(field, "missing");
        if (!v.isArray()) throw fault.at(field, "expected an array of integers");
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) throw fault.at(field, "element " + i + " is not an integer");
            out[i] = e.asInt();
        }
        return out;
    }
}
