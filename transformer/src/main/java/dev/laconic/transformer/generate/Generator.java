package dev.laconic.transformer.generate;

import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Batched generation: P prompts × n samples decoded together, through a {@link DecodeEngine} (continuous batching:
 * the same engine serves requests that come and go).
 *
 * <pre>
 *   prefill each prompt (a GEMM over its tokens)
 *   copy each prompt's cache into its n sample caches
 *   loop: pick one token per live sample (its own seeded RNG) → stop checks → forwards over the live
 *         samples, {@link #MAX_ROWS_PER_STEP} at a time (a T-row product per weight matrix)
 * </pre>
 * Text matters only for stop strings and the reasoning/answer split, so the tokenizer enters as a
 * decode function; the thinking budget needs the ids of {@code </think>} and of the text forced
 * when the budget runs out ({@code "\n</think>\n\n"}).
 *
 * @param decode      ids → text (special tokens kept)
 * @param thinkEndId  id of {@code </think>}, or -1
 * @param thinkForce  ids appended when the thinking budget is spent (ends with {@code </think>} and
 *                    the blank line), or an empty array
 */
public record Generator(Transformer model, Function<int[], String> decode, int thinkStartId, int thinkEndId,
                        int[] thinkForce) {

    /**
     * Live samples decoded per forward call. Below 32 rows the CPU kernels compute every row of a
     * product on its own (the matvec path: same operations, same order, whatever the other rows), so
     * a sample's tokens are the same bits whether it is decoded alone or with others; larger calls
     * switch to the packed GEMM, whose summation order differs in the last bits.
     */
    static final int MAX_ROWS_PER_STEP = 16;

    /** The generator for a model and its tokenizer: think markers from the R1 chat format, {@code "\n</think>\n\n"} forced. */
    public static Generator of(Transformer model, Tokenizer tok) {
        return new Generator(model, ids -> tok.decode(ids, false), tok.tokenId(ChatTemplate.THINK),
                tok.tokenId(ChatTemplate.END_THINK), tok.encode("\n" + ChatTemplate.END_THINK + "\n\n", false));
    }

    /** Called after every token of every sample (for streaming). */
    @FunctionalInterface
    public interface Listener {
        void token(int promptIndex, int sample, int tokenId);
    }

    /**
     * {@link #generate(List, GenerationConfig, Listener)}, streaming every sample's text to {@code text} as it is
     * decoded: reasoning and answer apart, in whole characters (through a {@link TextSplitter} per sample), special
     * tokens left out. A sample is reasoning from its first token when its prompt ends inside a thinking block (the R1
     * chat template's generation prompt does), and answer from the token after {@code </think>} on.
     */
    public List<Completion> generate(List<int[]> prompts, GenerationConfig gc, Tokenizer tok, TextListener text) {
        int n = gc.samples();
        TextSplitter[] splitters = new TextSplitter[prompts.size() * n];
        for (int p = 0; p < prompts.size(); p++)
            for (int s = 0; s < n; s++) splitters[p * n + s] = splitter(tok, prompts.get(p));
        List<Completion> out = generate(prompts, gc, (p, s, id) -> splitters[p * n + s].push(id, (part, t) -> text.text(p, s, part, t)));
        for (int k = 0; k < splitters.length; k++) {
            int p = k / n, s = k % n;
            splitters[k].finish((part, t) -> text.text(p, s, part, t));
        }
        return out;
    }

    /** One sample's text splitter: reasoning first when {@code prompt} opens a thinking block. */
    public TextSplitter splitter(Tokenizer tok, int[] prompt) {
        return new TextSplitter(tok, thinkEndId, opensThinking(prompt));
    }

    public List<Completion> generate(List<int[]> prompts, GenerationConfig gc, Listener listener) {
        int[] streams = new int[prompts.size()];
        for (int p = 0; p < streams.length; p++) streams[p] = p;
        return generate(prompts, streams, gc, listener);
    }

    /**
     * As above, but prompt p draws its samples from random stream (seed, streams[p], sample) instead of
     * (seed, p, sample): a caller that decodes a dataset in batches passes each problem's index in the
     * dataset, so a problem's samples do not depend on which batch it lands in or where.
     * Every prompt is checked before any work; then all are submitted to one {@link DecodeEngine} and it is stepped
     * until idle.
     */
    public List<Completion> generate(List<int[]> prompts, int[] streams, GenerationConfig gc, Listener listener) {
        if (streams.length != prompts.size())
            throw new IllegalArgumentException(streams.length + " random streams for " + prompts.size() + " prompts");
        DecodeEngine engine = new DecodeEngine(this, Integer.MAX_VALUE);
        for (int p = 0; p < prompts.size(); p++) engine.check(p, prompts.get(p), gc);
        List<DecodeEngine.Request> requests = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            final int prompt = p;
            requests.add(engine.submit(p, prompts.get(p), streams[p], gc,
                    listener == null ? null : (s, id, lp) -> listener.token(prompt, s, id)));
        }
        while (engine.step()) { }
        List<Completion> out = new ArrayList<>();
        for (DecodeEngine.Request r : requests) out.addAll(r.result().join());
        return out;
    }

    /** A finished sample: its text decoded and split at the last {@code </think>}. */
    Completion complete(int prompt, int sample, int[] ids, float[] lp, Completion.Finish finish, int reasoningTokens, boolean stillThinking) {
        String text = decode.apply(ids);
        String reasoning = "", answer = text;
        int cut = -1;
        for (int i = 0; i < ids.length; i++) if (ids[i] == thinkEndId) cut = i;
        boolean thinkingPrompt = reasoningTokens > 0 || cut >= 0;
        if (cut >= 0) {
            reasoning = decode.apply(Arrays.copyOf(ids, cut));
            answer = decode.apply(Arrays.copyOfRange(ids, cut + 1, ids.length));
        } else if (thinkingPrompt && stillThinking) {
            reasoning = text;
            answer = "";
        }
        return new Completion(prompt, sample, ids, lp, text, reasoning, answer, finish, reasoningTokens);
    }

    boolean isEos(int id) {
        for (int e : model.config().eosIds()) if (e == id) return true;
        return false;
    }

    /** Does the prompt end inside an open thinking block (last &lt;think&gt; after the last &lt;/think&gt;)? */
    public boolean opensThinking(int[] prompt) {
        if (thinkStartId < 0) return false;
        for (int i = prompt.length - 1; i >= 0; i--) {
            if (prompt[i] == thinkEndId) return false;
            if (prompt[i] == thinkStartId) return true;
        }
        return false;
    }

    static long mix(long seed, int prompt, int sample) {
        long z = seed + 0x9E3779B97F4A7C15L * (prompt * 65_537L + sample + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
