package dev.laconic.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * SFT examples from JSON Lines. Each line is one of
 * <pre>
 *   {"prompt": text, "response": text}   template r1:   ids = R1(user turn = prompt) + "&lt;｜Assistant｜&gt;&lt;think&gt;\n"
 *                                                               + tokens(response) + EOS
 *                                        template none: ids = tokenizer(prompt, with BOS) + tokens(response) + EOS
 *                                        loss on the response tokens and the EOS, none on the prompt
 *   {"ids": [...], "loss_mask": [0|1, ...]}   used as given (one mask entry per id; mask[0] is never used)
 * </pre>
 * An example stores {@code weights[t-1] = mask[t]} for t = 1..n-1: the weight of predicting ids[t],
 * the shape {@link TokenObjective} takes. An example longer than {@code maxLen} is skipped and
 * counted, or cut to its first {@code maxLen} tokens with {@code truncate}; an example left without a
 * loss position is skipped and counted too. Every other fault names the file and line.
 */
public final class SftData {
    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Template { R1, NONE }

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

    /**
     * @param tokenizer needed only for prompt/response lines (may be null otherwise)
     * @param vocab     ids must lie in [0, vocab)
     * @param maxLen    longest example in tokens (also bounded by the model's context by the caller)
     */
    public static Loaded load(Path file, Tokenizer tokenizer, Template template, int vocab, int maxLen, boolean truncate) {
        if (maxLen < 2) throw new IllegalArgumentException("maxLen must be ≥ 2, got " + maxLen);
        List<Example> out = new ArrayList<>();
        int tooLong = 0, noLoss = 0, cut = 0;
        ChatTemplate chat = null;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            int n = 0;
            while ((s = r.readLine()) != null) {
                n++;
                if (s.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw bad(file, n, "not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) throw bad(file, n, "expected a JSON object");
                int[] ids;
                int[] mask;
                if (node.has("ids")) {
                    ids = intArray(file, n, node, "ids");
                    mask = intArray(file, n, node, "loss_mask");
                    if (mask.length != ids.length) throw bad(file, n, "field \"loss_mask\": " + mask.length + " entries for " + ids.length + " ids");
                    for (int i = 0; i < mask.length; i++)
                        if (mask[i] != 0 && mask[i] != 1) throw bad(file, n, "field \"loss_mask\": entry " + i + " is " + mask[i] + ", expected 0 or 1");
                } else if (node.has("prompt") || node.has("response")) {
                    String prompt = text(file, n, node, "prompt"), response = text(file, n, node, "response");
                    if (tokenizer == null) throw bad(file, n, "prompt/response lines need a tokenizer.json in the model directory");
                    if (tokenizer.eosId() < 0) throw bad(file, n, "the tokenizer has no eos_token to end the response with");
                    int[] p;
                    if (template == Template.R1) {
                        if (chat == null) chat = ChatTemplate.of(tokenizer);
                        p = chat.encode(tokenizer, List.of(ChatTemplate.Message.user(prompt)), true);
                    } else {
                        p = tokenizer.encode(prompt, true);
                    }
                    int[] resp = tokenizer.encode(response, false);
                    ids = Arrays.copyOf(p, p.length + resp.length + 1);
                    System.arraycopy(resp, 0, ids, p.length, resp.length);
                    ids[ids.length - 1] = tokenizer.eosId();
                    mask = new int[ids.length];
                    Arrays.fill(mask, p.length, ids.length, 1);
                } else {
                    throw bad(file, n, "expected {\"prompt\", \"response\"} or {\"ids\", \"loss_mask\"}");
                }
                for (int i = 0; i < ids.length; i++)
                    if (ids[i] < 0 || ids[i] >= vocab) throw bad(file, n, "field \"ids\": id " + ids[i] + " at index " + i + " is outside the vocabulary [0, " + vocab + ")");
                boolean over = ids.length > maxLen;
                if (over) {
                    if (!truncate) {
                        tooLong++;
                        continue;
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
                    noLoss++;
                    continue;
                }
                if (over) cut++;
                out.add(new Example(n, ids, w));
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty())
            throw new IllegalArgumentException(file + ": no usable example (" + tooLong + " longer than maxLen " + maxLen
                    + ", " + noLoss + " without a loss position)");
        return new Loaded(List.copyOf(out), tooLong, noLoss, cut);
    }

    private static IllegalArgumentException bad(Path file, int line, String problem) {
        return new IllegalArgumentException(file + ":" + line + ": " + problem);
    }

    private static String text(Path file, int line, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null) throw bad(file, line, "field \"" + field + "\": missing");
        if (!v.isTextual()) throw bad(file, line, "field \"" + field + "\": expected a string");
        return v.asText();
    }

    private static int[] intArray(Path file, int line, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null) throw bad(file, line, "field \"" + field + "\": missing");
        if (!v.isArray()) throw bad(file, line, "field \"" + field + "\": expected an array of integers");
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) throw bad(file, line, "field \"" + field + "\": element " + i + " is not an integer");
            out[i] = e.asInt();
        }
        return out;
    }
}
