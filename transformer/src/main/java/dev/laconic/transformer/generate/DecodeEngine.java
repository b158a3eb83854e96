package dev.laconic.transformer.generate;

import dev.laconic.transformer.KVCache;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Continuous batching: one engine holds the live sequences of any number of requests and decodes them together.
 *
 * <pre>
 *   submit (any thread)   → the request waits
 *   step   (one thread)   → drop cancelled sequences
 *                           admit waiting requests while the live sequences fit {@code maxSequences}: each prompt
 *                           prefilled alone, its cache copied into its n sample caches, first tokens picked
 *                           decode every live sequence once, {@link Generator#MAX_ROWS_PER_STEP} rows per forward
 *                           a finished sequence leaves; its request completes when its last sample has
 * </pre>
 * A sequence's tokens are the same bits whichever others share its steps: its prompt is prefilled alone, and every
 * decode forward stays below the row count at which the CPU kernels switch from per-row products to the packed GEMM
 * (see {@link Generator#MAX_ROWS_PER_STEP}); each sample draws from its own random stream (seed, stream, sample).
 * {@link Generator#generate(List, int[], GenerationConfig, Generator.Listener)} is "submit all, step until idle".
 *
 * <p>{@link #submit}, {@link Request#cancel} and {@link #awaitWork} may be called from any thread; {@link #step}
 * and {@link #cancelAll} from the one thread that owns the model. {@link Sink}s are called on that thread.
 */
public final class DecodeEngine {
    /** Receives a request's tokens as they are decoded (on the stepping thread). */
    @FunctionalInterface
    public interface Sink {
        /**
         * Token {@code id} of sample {@code sample}; {@code logprob} as in {@link Completion#logprobs()} (under the
         * sampling distribution; 0 for a token forced by the thinking budget).
         */
        void token(int sample, int id, float logprob);

        /** Sample {@code c.sample()} is done (its last token was passed to {@link #token} before). */
        default void finished(Completion c) {}
    }

    private final Generator gen;
    private final int maxSequences;
    private final Deque<Request> waiting = new ArrayDeque<>();     // guarded by this
    private final List<Seq> live = new ArrayList<>();               // stepping thread only
    private long prefillNanos;                                      // stepping thread only

    /**
     * @param maxSequences live sequences decoded together at most (vLLM's max_num_seqs); a request waits until its n
     *                     samples fit, except that one is always admitted into an empty engine
     */
    public DecodeEngine(Generator gen, int maxSequences) {
        if (maxSequences < 1) throw new IllegalArgumentException("max sequences must be ≥ 1: " + maxSequences);
        this.gen = gen;
        this.maxSequences = maxSequences;
    }

    /** A submitted prompt: its n samples decode in the engine until each finishes or the request is cancelled. */
    public final class Request {
        final int tag, stream;
        final int[] prompt;
        final GenerationConfig gc;
        final Sink sink;
        private final Completion[] done;
        private int remaining;
        private volatile boolean cancelled;
        private final CompletableFuture<List<Completion>> result = new CompletableFuture<>();

        private Request(int tag, int[] prompt, int stream, GenerationConfig gc, Sink sink) {
            this.tag = tag;
            this.prompt = prompt;
            this.stream = stream;
            this.gc = gc;
            this.sink = sink;
            this.done = new Completion[gc.samples()];
            this.remaining = gc.samples();
        }

        /** Ends every sample at the engine's next step, finish {@link Completion.Finish#CANCELLED}, tokens so far kept. */
        public void cancel() {
            cancelled = true;
            wake();
        }

        /** The samples in order, once all are done (exceptionally if the engine failed). */
        public CompletableFuture<List<Completion>> result() { return result; }

        public int promptTokens() { return prompt.length; }

        private void finished(Completion c) {
            done[c.sample()] = c;
            if (sink != null) sink.finished(c);
            if (--remaining == 0) result.complete(List.of(done));
        }
    }

    /** One live sample. */
    private static final class Seq {
        final Request req;
        final int sample;
        final KVCache cache;
        final SplittableRandom rng;
        final IntArrayList ids = new IntArrayList();
        float[] logprobs = new float[16];   // logprobs[i]: of ids.getInt(i), the first ids.size() in use
        boolean thinking;                   // inside a thinking block
        int reasoningTokens;
        int textLength;                     // of the decoded ids, when stop strings are checked
        Completion.Finish finish;
        int[] pending;                      // ids to feed at the next forward

        Seq(Request req, int sample, KVCache cache, boolean thinking) {
            this.req = req;
            this.sample = sample;
            this.cache = cache;
            // one independent stream per (prompt stream, sample): results do not depend on batching
            this.rng = new SplittableRandom(Generator.mix(req.gc.seed(), req.stream, sample));
            this.thinking = thinking;
        }

        /** Adds a token and its log-probability, and tells the request's sink. */
        void add(int id, float lp) {
            ids.add(id);
            int i = ids.size() - 1;
            if (i >= logprobs.length) logprobs = Arrays.copyOf(logprobs, Math.max(2 * logprobs.length, i + 1));
            logprobs[i] = lp;
            if (req.sink != null) req.sink.token(sample, id, lp);
        }
    }

    /**
     * Queues a prompt (checked first: ids in the vocabulary, prompt + max tokens within the context — a
     * {@link ContextLengthExceeded} otherwise). {@code tag} becomes the completions' {@link Completion#promptIndex()}
     * and names the prompt in faults; sample s draws from random stream (seed, {@code stream}, s).
     */
    public Request submit(int tag, int[] prompt, int stream, GenerationConfig gc, Sink sink) {
        check(tag, prompt, gc);
        Request r = new Request(tag, prompt, stream, gc, sink);
        synchronized (this) {
            waiting.add(r);
            notifyAll();
        }
        return r;
    }

    /** Refuses a prompt that cannot run: empty, an id outside the vocabulary, or prompt + max tokens over the context. */
    void check(int tag, int[] prompt, GenerationConfig gc) {
        ModelConfig cfg = gen.model().config();
        if (prompt.length == 0) throw new IllegalArgumentException("prompt " + tag + " is empty");
        for (int id : prompt)
            if (id < 0 || id >= cfg.vocab())
                throw new IllegalArgumentException("prompt " + tag + ": token id " + id + " is outside the vocabulary [0, " + cfg.vocab() + ")");
        // forced thinking-end tokens count against maxTokens too: prompt + maxTokens positions suffice
        if (prompt.length + (long) gc.maxTokens() > cfg.maxPositions())
            throw new ContextLengthExceeded(tag, prompt.length, gc.maxTokens(), cfg.maxPositions());
    }

    /** Prompt + max new tokens over the model's context. */
    public static final class ContextLengthExceeded extends IllegalArgumentException {
        public final int promptTokens, maxTokens, context;

        ContextLengthExceeded(int tag, int promptTokens, int maxTokens, int context) {
            super("prompt " + tag + ": " + promptTokens + " prompt tokens + " + maxTokens
                    + " new tokens exceed the model's context of " + context);
            this.promptTokens = promptTokens;
            this.maxTokens = maxTokens;
            this.context = context;
        }
    }

    /** Nanoseconds the steps so far spent prefilling admitted prompts (benchmarks: the decode time is the rest). */
    public long prefillNanos() { return prefillNanos; }

    /** Live sequences (stepping thread). */
    public int live() { return live.size(); }

    /** Requests not admitted yet. */
    public synchronized int waiting() { return waiting.size(); }

    /** Whether a step has anything to do. */
    public synchronized boolean idle() { return waiting.isEmpty() && live.isEmpty(); }

    /** Blocks until there is work (a submission or a cancellation) or the timeout passes; returns whether there is. */
    public synchronized boolean awaitWork(long timeout, TimeUnit unit) throws InterruptedException {
        long end = System.nanoTime() + unit.toNanos(timeout);
        while (waiting.isEmpty() && live.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    private synchronized void wake() { notifyAll(); }

    /**
     * One step: cancelled sequences leave, waiting requests join while they fit, then every live sequence is decoded
     * once. Returns whether anything is still live or waiting.
     */
    public boolean step() {
        dropCancelled();
        admit();
        decode();
        return !idle();
    }

    /** Ends every live and waiting request now (finish CANCELLED): shutdown. */
    public void cancelAll() {
        synchronized (this) {
            for (Request r : waiting) r.cancelled = true;
        }
        for (Seq q : live) q.req.cancelled = true;
        dropCancelled();
    }

    /** Fails every live and waiting request with {@code e} (the engine is empty afterwards): a bug in a step. */
    public void failAll(Throwable e) {
        List<Request> all = new ArrayList<>();
        synchronized (this) {
            all.addAll(waiting);
            waiting.clear();
        }
        for (Seq q : live) all.add(q.req);
        live.clear();
        for (Request r : all) r.result.completeExceptionally(e);
    }

    private void dropCancelled() {
        List<Request> gone = new ArrayList<>();
        synchronized (this) {
            waiting.removeIf(r -> r.cancelled && gone.add(r));
        }
        for (Request r : gone)
            for (int s = 0; s < r.gc.samples(); s++)
                r.finished(new Completion(r.tag, s, new int[0], new float[0], "", "", "", Completion.Finish.CANCELLED, 0));
        live.removeIf(q -> {
            if (!q.req.cancelled) return false;
            q.finish = Completion.Finish.CANCELLED;
            q.req.finished(gen.complete(q.req.tag, q.sample, q.ids.toIntArray(), Arrays.copyOf(q.logprobs, q.ids.size()), q.finish, q.reasoningTokens, q.thinking));
            return true;
        });
    }

    /** Prefills and admits waiting requests, in order, while their samples fit. */
    private void admit() {
        ModelConfig cfg = gen.model().config();
        int vocab = cfg.vocab();
        while (true) {
            Request r;
            synchronized (this) {
                r = waiting.peek();
                if (r == null || (!live.isEmpty() && live.size() + r.gc.samples() > maxSequences)) return;
                waiting.poll();
            }
            // the prompt alone: its rows go through exactly the products a one-prompt call runs
            long t0 = System.nanoTime();
            KVCache prefill = new KVCache(cfg, r.prompt.length + r.gc.maxTokens());
            float[] logits = gen.model().nextLogits(new int[][]{r.prompt}, new KVCache[]{prefill}).floatArray();
            prefillNanos += System.nanoTime() - t0;
            checkFinite(logits, vocab);
            boolean thinking = gen.opensThinking(r.prompt);
            int n = r.gc.samples();
            for (int s = 0; s < n; s++) {   // n samples share the prefill
                KVCache cache = s == n - 1 ? prefill : copy(prefill, cfg);
                Seq q = new Seq(r, s, cache, thinking);
                accept(q, r.gc.sampler().pick(logits, 0, vocab, q.rng));
                if (q.finish == null) live.add(q);
                else leave(q);
            }
        }
    }

    /**
     * Refuses a prompt's first logits when one is NaN or infinite (a sampler would pick id 0, {@code <pad>}, forever),
     * naming the weight that is not finite when there is one (a scan, only then).
     */
    private void checkFinite(float[] logits, int vocab) {
        for (int i = 0; i < vocab; i++) {
            if (Float.isFinite(logits[i])) continue;
            String weight = Weights.nonFinite(gen.model().weights().named());
            throw new IllegalStateException("the model's first logits are not finite (logit " + i + " is " + logits[i] + "): "
                    + (weight != null ? weight + " (a corrupt checkpoint)" : "every weight is finite; the activations overflowed"));
        }
    }

    /** Every live sequence once: as many as fit in MAX_ROWS_PER_STEP rows per forward (a forced think end feeds several tokens). */
    private void decode() {
        int vocab = gen.model().config().vocab();
        List<Seq> step = List.copyOf(live);
        for (int c0 = 0, c1; c0 < step.size(); c0 = c1) {
            int rows = step.get(c0).pending.length;
            for (c1 = c0 + 1; c1 < step.size() && rows + step.get(c1).pending.length <= Generator.MAX_ROWS_PER_STEP; c1++)
                rows += step.get(c1).pending.length;
            List<Seq> chunk = step.subList(c0, c1);
            int[][] tokens = new int[chunk.size()][];
            KVCache[] caches = new KVCache[chunk.size()];
            for (int j = 0; j < chunk.size(); j++) {
                tokens[j] = chunk.get(j).pending;
                caches[j] = chunk.get(j).cache;
            }
            float[] logits = gen.model().nextLogits(tokens, caches).floatArray();
            for (int j = 0; j < chunk.size(); j++) {
                Seq q = chunk.get(j);
                accept(q, q.req.gc.sampler().pick(logits, j * vocab, vocab, q.rng));
            }
        }
        live.removeIf(q -> {
            if (q.finish == null) return false;
            leave(q);
            return true;
        });
    }

    private void leave(Seq q) {
        q.req.finished(gen.complete(q.req.tag, q.sample, q.ids.toIntArray(), Arrays.copyOf(q.logprobs, q.ids.size()), q.finish, q.reasoningTokens, q.thinking));
    }

    /** Records a picked token; sets {@code q.pending} to the ids to feed next (the token, or it plus the forced think end), or finishes q. */
    private void accept(Seq q, Sampler.Pick pick) {
        GenerationConfig gc = q.req.gc;
        q.add(pick.token(), pick.logprob());
        q.pending = null;
        if (q.thinking) {
            if (pick.token() == gen.thinkEndId()) q.thinking = false;
            else q.reasoningTokens++;
        }
        if (!gc.ignoreEos() && gen.isEos(pick.token())) { q.finish = Completion.Finish.EOS; return; }
        if (q.ids.size() >= gc.maxTokens()) { q.finish = Completion.Finish.LENGTH; return; }
        if (!gc.stop().isEmpty()) {   // a stop string anywhere in the text this token added (it may end inside the token)
            String text = gen.decode().apply(q.ids.toIntArray());
            for (String s : gc.stop())
                if (text.indexOf(s, Math.max(0, q.textLength - s.length() + 1)) >= 0) { q.finish = Completion.Finish.STOP; return; }
            q.textLength = text.length();
        }
        int[] force = gen.thinkForce();
        if (q.thinking && gc.thinkBudget() >= 0 && q.reasoningTokens >= gc.thinkBudget() && force.length > 0) {
            // budget spent: force "\n</think>\n\n" and let the model answer
            int[] forced = Arrays.copyOf(force, Math.min(force.length, gc.maxTokens() - q.ids.size()));
            for (int id : forced) q.add(id, 0f);
            q.thinking = false;
            if (q.ids.size() >= gc.maxTokens()) { q.finish = Completion.Finish.LENGTH; return; }
            int[] feed = new int[forced.length + 1];
            feed[0] = pick.token();
            System.arraycopy(forced, 0, feed, 1, forced.length);
            q.pending = feed;
            return;
        }
        q.pending = new int[]{pick.token()};
    }

    private static KVCache copy(KVCache src, ModelConfig cfg) {
        KVCache c = new KVCache(cfg, src.capacity());
        c.copyPrefix(src, src.length());
        return c;
    }
}
