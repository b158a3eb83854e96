package dev.laconic.transformer.generate;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import dev.laconic.transformer.KVCache;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.StreamingDecoder;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Batched generation: P prompts × n samples decoded together.
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
     * decoded: reasoning and answer apart, in whole characters (through a {@link StreamingDecoder} per sample), special
     * tokens left out. A sample is reasoning from its first token when its prompt ends inside a thinking block (the R1
     * chat template's generation prompt does), and answer from the token after {@code </think>} on.
     */
    public List<Completion> generate(List<int[]> prompts, GenerationConfig gc, Tokenizer tok, TextListener text) {
        int n = gc.samples();
        StreamingDecoder[] decoders = new StreamingDecoder[prompts.size() * n];
        boolean[] thinking = new boolean[decoders.length];
        for (int p = 0; p < prompts.size(); p++)
            for (int s = 0; s < n; s++) {
                decoders[p * n + s] = new StreamingDecoder(tok, true);
                thinking[p * n + s] = opensThinking(prompts.get(p));
            }
        List<Completion> out = generate(prompts, gc, (p, s, id) -> {
            int k = p * n + s;
            if (thinking[k] && id == thinkEndId) {
                String rest = decoders[k].finish();
                if (!rest.isEmpty()) text.text(p, s, TextListener.Part.REASONING, rest);
                thinking[k] = false;
                return;
            }
            String piece = decoders[k].push(id);
            if (!piece.isEmpty()) text.text(p, s, thinking[k] ? TextListener.Part.REASONING : TextListener.Part.ANSWER, piece);
        });
        for (int k = 0; k < decoders.length; k++) {
            String rest = decoders[k].finish();
            if (!rest.isEmpty()) text.text(k / n, k % n, thinking[k] ? TextListener.Part.REASONING : TextListener.Part.ANSWER, rest);
        }
        return out;
    }

    /** One live sample. */
    private static final class Seq {
        final int prompt, sample;
        final KVCache cache;
        final SplittableRandom rng;
        final IntArrayList ids = new IntArrayList();
        float[] logprobs = new float[16];   // logprobs[i]: of ids.getInt(i), the first ids.size() in use
        boolean thinking;            // inside a thinking block
        int reasoningTokens;
        Completion.Finish finish;

        Seq(int prompt, int sample, int stream, KVCache cache, long seed, boolean thinking) {
            this.prompt = prompt;
            this.sample = sample;
            this.cache = cache;
            // one independent stream per (prompt, sample): results do not depend on batching
            this.rng = new SplittableRandom(mix(seed, stream, sample));
            this.thinking = thinking;
        }

        /** The log-probability of the id just added to {@link #ids}. */
        void logprob(float lp) {
            int i = ids.size() - 1;
            if (i >= logprobs.length) logprobs = Arrays.copyOf(logprobs, Math.max(2 * logprobs.length, i + 1));
            logprobs[i] = lp;
        }
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
     */
    public List<Completion> generate(List<int[]> prompts, int[] streams, GenerationConfig gc, Listener listener) {
        if (streams.length != prompts.size())
            throw new IllegalArgumentException(streams.length + " random streams for " + prompts.size() + " prompts");
        var cfg = model.config();
        int vocab = cfg.vocab();
        // 1. check every prompt before any work, then prefill
        KVCache[] prefill = new KVCache[prompts.size()];
        int[][] promptIds = new int[prompts.size()][];
        for (int p = 0; p < prefill.length; p++) {
            promptIds[p] = prompts.get(p);
            if (promptIds[p].length == 0) throw new IllegalArgumentException("prompt " + p + " is empty");
            for (int id : promptIds[p])
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("prompt " + p + ": token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            // forced thinking-end tokens count against maxTokens too: prompt + maxTokens positions suffice
            int capacity = promptIds[p].length + gc.maxTokens();
            if (capacity > cfg.maxPositions())
                throw new IllegalArgumentException("prompt " + p + ": " + promptIds[p].length + " prompt tokens + " + gc.maxTokens()
                        + " new tokens exceed the model's context of " + cfg.maxPositions());
            prefill[p] = new KVCache(cfg, capacity);
        }
        // each prompt alone: its rows then go through exactly the products a one-prompt call would run
        float[] promptLogits = new float[prefill.length * vocab];
        for (int p = 0; p < prefill.length; p++)
            System.arraycopy(model.nextLogits(new int[][]{promptIds[p]}, new KVCache[]{prefill[p]}).floatArray(), 0,
                    promptLogits, p * vocab, vocab);

        // 2. n samples per prompt share the prefill
        List<Seq> all = new ArrayList<>();
        for (int p = 0; p < prefill.length; p++)
            for (int s = 0; s < gc.samples(); s++) {
                KVCache cache = s == gc.samples() - 1 ? prefill[p] : copy(prefill[p], cfg);
                all.add(new Seq(p, s, streams[p], cache, gc.seed(), opensThinking(promptIds[p])));
            }
        int[][] pending = new int[all.size()][];
        for (int i = 0; i < all.size(); i++) {
            Seq q = all.get(i);
            pending[i] = accept(q, gc.sampler().pick(promptLogits, q.prompt * vocab, vocab, q.rng), gc, listener);
        }

        // 3. decode all live samples together
        while (true) {
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) if (all.get(i).finish == null) live.add(i);
            if (live.isEmpty()) break;
            for (int c0 = 0, c1; c0 < live.size(); c0 = c1) {
                // as many samples as fit in MAX_ROWS_PER_STEP rows (a forced think end feeds several tokens)
                int rows = pending[live.get(c0)].length;
                for (c1 = c0 + 1; c1 < live.size() && rows + pending[live.get(c1)].length <= MAX_ROWS_PER_STEP; c1++)
                    rows += pending[live.get(c1)].length;
                List<Integer> chunk = live.subList(c0, c1);
                int[][] tokens = new int[chunk.size()][];
                KVCache[] caches = new KVCache[chunk.size()];
                for (int j = 0; j < chunk.size(); j++) {
                    tokens[j] = pending[chunk.get(j)];
                    caches[j] = all.get(chunk.get(j)).cache;
                }
                float[] logits = model.nextLogits(tokens, caches).floatArray();
                for (int j = 0; j < chunk.size(); j++) {
                    Seq q = all.get(chunk.get(j));
                    pending[chunk.get(j)] = accept(q, gc.sampler().pick(logits, j * vocab, vocab, q.rng), gc, listener);
                }
            }
        }

        List<Completion> out = new ArrayList<>();
        for (Seq q : all) out.add(complete(q));
        return out;
    }

    /** Records a picked token; returns the ids to feed next (the token, or it plus the forced think end). */
    private int[] accept(Seq q, Sampler.Pick pick, GenerationConfig gc, Listener listener) {
        q.ids.add(pick.token());
        q.logprob(pick.logprob());
        if (listener != null) listener.token(q.prompt, q.sample, pick.token());
        if (q.thinking) {
            if (pick.token() == thinkEndId) q.thinking = false;
            else q.reasoningTokens++;
        }
        if (!gc.ignoreEos() && isEos(pick.token())) { q.finish = Completion.Finish.EOS; return null; }
        if (q.ids.size() >= gc.maxTokens()) { q.finish = Completion.Finish.LENGTH; return null; }
        if (!gc.stop().isEmpty()) {
            String text = decode.apply(q.ids.toIntArray());
            for (String s : gc.stop()) if (text.endsWith(s)) { q.finish = Completion.Finish.STOP; return null; }
        }
        if (q.thinking && gc.thinkBudget() >= 0 && q.reasoningTokens >= gc.thinkBudget() && thinkForce.length > 0) {
            // budget spent: force "\n</think>\n\n" and let the model answer
            int room = Math.min(thinkForce.length, gc.maxTokens() - q.ids.size());
            int[] forced = Arrays.copyOf(thinkForce, room);
            for (int id : forced) {
                q.ids.add(id);
                q.logprob(0f);
                if (listener != null) listener.token(q.prompt, q.sample, id);
            }
            q.thinking = false;
            if (q.ids.size() >= gc.maxTokens()) { q.finish = Completion.Finish.LENGTH; return null; }
            int[] feed = new int[forced.length + 1];
            feed[0] = pick.token();
            System.arraycopy(forced, 0, feed, 1, forced.length);
            return feed;
        }
        return new int[]{pick.token()};
    }

    private Completion complete(Seq q) {
        int[] ids = q.ids.toIntArray();
        float[] lp = Arrays.copyOf(q.logprobs, ids.length);
        String text = decode.apply(ids);
        String reasoning = "", answer = text;
        int cut = -1;
        for (int i = 0; i < ids.length; i++) if (ids[i] == thinkEndId) cut = i;
        boolean thinkingPrompt = q.reasoningTokens > 0 || cut >= 0;
        if (cut >= 0) {
            reasoning = decode.apply(Arrays.copyOf(ids, cut));
            answer = decode.apply(Arrays.copyOfRange(ids, cut + 1, ids.length));
        } else if (thinkingPrompt && q.thinking) {
            reasoning = text;
            answer = "";
        }
        return new Completion(q.prompt, q.sample, ids, lp, text, reasoning, answer, q.finish, q.reasoningTokens);
    }

    private boolean isEos(int id) {
        for (int e : model.config().eosIds()) if (e == id) return true;
        return false;
    }

    /** Does the prompt end inside an open thinking block (last &lt;think&gt; after the last &lt;/think&gt;)? */
    private boolean opensThinking(int[] prompt) {
        if (thinkStartId < 0) return false;
        for (int i = prompt.length - 1; i >= 0; i--) {
            if (prompt[i] == thinkEndId) return false;
            if (prompt[i] == thinkStartId) return true;
        }
        return false;
    }

    private static KVCache copy(KVCache src, dev.laconic.transformer.ModelConfig cfg) {
        KVCache c = new KVCache(cfg, src.capacity());
        c.copyPrefix(src, src.length());
        return c;
    }

    static long mix(long seed, int prompt, int sample) {
        long z = seed + 0x9E3779B97F4A7C15L * (prompt * 65_537L + sample + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
