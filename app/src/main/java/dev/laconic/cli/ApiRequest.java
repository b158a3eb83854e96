package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.GenerationDefaults;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@code /v1/chat/completions} or {@code /v1/completions} body, checked field by field (a fault names its field,
 * OpenAI's {@code param}); unknown fields are ignored, as vLLM does. Beyond OpenAI's fields: {@code top_k} and
 * {@code ignore_eos} (vLLM's), and {@code thinking_budget} (thinking tokens before {@code </think>} is forced). Sampling starts from the model's
 * generation_config.json ({@link GenerationDefaults}) and the request's fields override it.
 *
 * @param prompts     token ids per prompt (chat: one, the R1 chat template with its generation prompt)
 * @param gc          sampling, n, seed, stop and thinking budget; max tokens per prompt: {@link #configFor}
 * @param maxTokens   the request's max_tokens / max_completion_tokens, or null (the server's default, capped at the context)
 */
record ApiRequest(boolean chat, String model, List<int[]> prompts, GenerationConfig gc, Integer maxTokens,
                  boolean stream, boolean includeUsage, boolean logprobs) {

    /** The most samples one request may ask for (OpenAI's limit for n). */
    static final int MAX_N = 128;

    /** @param vocab the model's vocabulary size (token-id prompts are checked against it) */
    static ApiRequest parse(JsonNode body, boolean chat, Tokenizer tok, GenerationDefaults defaults, int vocab) {
        if (body == null || !body.isObject()) throw ApiError.badField(null, "The request body must be a JSON object.");
        String model = string(body, "model");
        List<int[]> prompts = chat ? List.of(chatPrompt(body, tok)) : completionPrompts(body, tok, vocab);

        Integer max = integer(body, "max_completion_tokens", 1);
        if (max == null) max = integer(body, "max_tokens", 1);
        Double t = number(body, "temperature", 0, 2);
        Double p = number(body, "top_p", Double.MIN_VALUE, 1);
        Integer k = integer(body, "top_k", -1);                          // vLLM: -1 (or 0) = off
        Integer n = integer(body, "n", 1);
        if (n != null && n > MAX_N) throw ApiError.badField("n", "n must be at most " + MAX_N + ", is " + n + ".");
        Integer seed = integer(body, "seed", Integer.MIN_VALUE);
        Integer budget = integer(body, "thinking_budget", 0);
        Boolean ignoreEos = bool(body, "ignore_eos");                    // vLLM's extension (benchmarks)
        List<String> stop = stop(body);
        Boolean stream = bool(body, "stream");
        boolean usage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiError.badField("stream_options", "stream_options must be an object.");
            Boolean u = bool(so, "include_usage");
            usage = u != null && u;
        }
        boolean logprobs;
        if (chat) {
            Boolean lp = bool(body, "logprobs");
            logprobs = lp != null && lp;
            Integer top = integer(body, "top_logprobs", 0);
            if (top != null && top > 0) throw ApiError.unsupported("top_logprobs", "top_logprobs > 0 (the sampler gives only the chosen token's log-probability)");
        } else {
            Integer lp = integer(body, "logprobs", 0);                      // completions: the number of top log-probs
            if (lp != null && lp > 0) throw ApiError.unsupported("logprobs", "logprobs > 0 (the sampler gives only the chosen token's log-probability); 0 gives that");
            logprobs = lp != null;
            Boolean echo = bool(body, "echo");
            if (echo != null && echo) throw ApiError.unsupported("echo", "echo");
        }
        if (string(body, "suffix") != null) throw ApiError.unsupported("suffix", "suffix");

        float temperature = t != null ? t.floatValue() : defaults.samples() ? defaults.temperature() : 0f;
        float topP = p != null ? p.floatValue() : defaults.topP();
        int topK = k != null ? Math.max(k, 0) : defaults.topK();
        Sampler sampler = temperature == 0 ? Sampler.greedy() : new Sampler(temperature, topP, topK);
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();   // OpenAI and vLLM: unseeded is random
        GenerationConfig gc = new GenerationConfig(max != null ? max : 1, sampler, n != null ? n : 1, s, ignoreEos != null && ignoreEos, stop,
                budget != null ? budget : -1);
        return new ApiRequest(chat, model, prompts, gc, max, stream != null && stream, usage, logprobs);
    }

    /**
     * The configuration for one prompt: the request's max tokens, else {@code defaultMax} capped at the context left
     * after the prompt (at least 1, so that an overlong prompt still fails the context check).
     */
    GenerationConfig configFor(int[] prompt, int defaultMax, int context) {
        return gc.withMaxTokens(maxTokens != null ? maxTokens : Math.max(1, Math.min(defaultMax, context - prompt.length)));
    }

    private static int[] chatPrompt(JsonNode body, Tokenizer tok) {
        JsonNode msgs = body.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiError.badField("messages", "Missing required parameter: 'messages'.");
        if (!msgs.isArray() || msgs.isEmpty()) throw ApiError.badField("messages", "messages must be a non-empty array.");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = msgs.get(i);
            if (!m.isObject()) throw ApiError.badField(at, at + " must be an object.");
            String role = string(m, "role", at + ".role");
            if (role == null) throw ApiError.badField(at + ".role", "Missing required parameter: '" + at + ".role'.");
            String content = content(m.get("content"), at + ".content");
            ChatTemplate.Role r = switch (role) {
                case "system", "developer" -> ChatTemplate.Role.SYSTEM;
                case "user" -> ChatTemplate.Role.USER;
                case "assistant" -> ChatTemplate.Role.ASSISTANT;
                case "tool" -> ChatTemplate.Role.TOOL;
                default -> throw ApiError.badField(at + ".role", "Invalid value '" + role
                        + "' for " + at + ".role: expected one of system, developer, user, assistant, tool.");
            };
            out.add(new ChatTemplate.Message(r, content, null));
        }
        return ChatTemplate.of(tok).encode(tok, out, true);
    }

    /** A message's content: a string, or an array of {@code {"type": "text", "text": ...}} parts (joined). */
    private static String content(JsonNode c, String at) {
        if (c == null || c.isNull()) throw ApiError.badField(at, "Missing required parameter: '" + at + "'.");
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiError.badField(at, at + " must be a string or an array of text parts.");
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < c.size(); j++) {
            JsonNode part = c.get(j);
            String type = part.isObject() ? string(part, "type", at + "[" + j + "].type") : null;
            if (!"text".equals(type)) throw ApiError.unsupported(at + "[" + j + "]", "a content part that is not {\"type\": \"text\", \"text\": ...}");
            String text = string(part, "text", at + "[" + j + "].text");
            if (text == null) throw ApiError.badField(at + "[" + j + "].text", "Missing required parameter: '" + at + "[" + j + "].text'.");
            b.append(text);
        }
        return b.toString();
    }

    /** prompt: a string, an array of strings, an array of token ids, or an array of such arrays. */
    private static List<int[]> completionPrompts(JsonNode body, Tokenizer tok, int vocab) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiError.badField("prompt", "Missing required parameter: 'prompt'.");
        if (p.isTextual()) return List.of(tok.encode(p.asText(), true));
        String shape = "prompt must be a string, an array of strings, an array of token ids or an array of arrays of token ids.";
        if (!p.isArray() || p.isEmpty()) throw ApiError.badField("prompt", shape);
        if (p.get(0).isIntegralNumber()) return List.of(ids(p, "prompt", vocab));
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            JsonNode e = p.get(i);
            if (e.isTextual()) out.add(tok.encode(e.asText(), true));
            else if (e.isArray() && !e.isEmpty()) out.add(ids(e, "prompt[" + i + "]", vocab));
            else throw ApiError.badField("prompt[" + i + "]", shape);
        }
        return out;
    }

    private static int[] ids(JsonNode a, String at, int vocab) {
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = a.get(i);
            if (!e.isIntegralNumber() || e.asLong() < 0 || e.asLong() >= vocab)
                throw ApiError.badField(at, at + "[" + i + "] must be a token id in [0, " + vocab + "), is " + e + ".");
            ids[i] = e.asInt();
        }
        return ids;
    }

    private static List<String> stop(JsonNode body) {
        JsonNode s = body.get("stop");
        if (s == null || s.isNull()) return List.of();
        if (s.isTextual()) return s.asText().isEmpty() ? List.of() : List.of(s.asText());
        if (!s.isArray()) throw ApiError.badField("stop", "stop must be a string or an array of strings.");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            if (!s.get(i).isTextual()) throw ApiError.badField("stop", "stop[" + i + "] must be a string, is " + s.get(i) + ".");
            if (!s.get(i).asText().isEmpty()) out.add(s.get(i).asText());
        }
        return out;
    }

    private static String string(JsonNode o, String field) {
        return string(o, field, field);
    }

    private static String string(JsonNode o, String field, String param) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiError.badField(param, param + " must be a string, is " + v + ".");
        return v.asText();
    }

    private static Boolean bool(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw ApiError.badField(field, field + " must be a boolean, is " + v + ".");
        return v.asBoolean();
    }

    private static Integer integer(JsonNode o, String field, long min) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt())
            throw ApiError.badField(field, field + " must be an integer, is " + v + ".");
        if (v.asInt() < min) throw ApiError.badField(field, field + " must be at least " + min + ", is " + v + ".");
        return v.asInt();
    }

    private static Double number(JsonNode o, String field, double min, double max) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiError.badField(field, field + " must be a number, is " + v + ".");
        double d = v.asDouble();
        if (!(d >= min && d <= max))
            throw ApiError.badField(field, String.format(Locale.ROOT, "%s must be in [%s, %s], is %s.", field, min == Double.MIN_VALUE ? "0 (exclusive)" : min, max, v));
        return d;
    }
}
