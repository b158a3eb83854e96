package dev.laconic.bench.decode;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import dev.laconic.bench.ChildJvm;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Jlama 0.8.4 as an {@link Engine}, driven the way its own {@code AbstractModel.generate} drives it:
 * the prompt through {@code batchForward} (chunks of 256 tokens), then {@code forward} one token at a
 * time, each followed by {@code sample} at temperature 0 (its LM head and argmax), against a KV buffer
 * from its {@code KvBufferCache}. Working memory is F32 (Jlama's default); for a BF16 model Jlama
 * itself rounds activations to BF16 before each product, its normal BF16 path. Kernels: its native
 * C SIMD ones when jlama-native loads, else its Panama (Vector API) ones; {@link #name()} says which.
 *
 * <p>{@link #main} is the child JVM that {@link JlamaPeer} starts on the peers' class path (this class
 * lives in bench/peers, the only module that sees Jlama), so Jlama's thread pool, global properties
 * and memory stay out of the process that measures ours. It prints one JSON line:
 * {@code {"engine", "results": [{"test", "kind", "tokens", "seconds", "greedy"}...], "peak_rss_bytes"}}.
 */
final class JlamaEngine implements Engine {
    private final AbstractModel model;
    private final KvBufferCache caches;
    private final AbstractTensor<?, ?> logits;   // [V], scratch for sample()
    private KvBufferCache.KvBuffer kv;
    private int position;

    JlamaEngine(Path dir, int threads) {
        // F32 working memory; the "quantized" working type follows the model (Jlama forces BF16 for a BF16 model)
        this.model = ModelSupport.loadModel(dir.toFile(), null, DType.F32, DType.F32, Optional.empty(), Optional.of(threads));
        this.caches = new KvBufferCache(model);
        this.logits = model.makeDenseTensor(model.getConfig().vocabularySize);
    }

    @Override
    public String name() {
        return "jlama 0.8.4 (" + TensorOperationsProvider.get().name() + ")";
    }

    @Override
    public void reset(int capacity) {
        if (kv != null) kv.close();
        kv = caches.getKvBuffer(UUID.randomUUID());   // pages are allocated as positions are written
        position = 0;
    }

    @Override
    public int prefill(int[] ids) {
        AbstractTensor<?, ?> last = model.batchForward(ids, position, kv);
        position += ids.length;
        try {
            return model.sample(last.slice(last.shape().first() - 1), 0f, 0f, logits);
        } finally {
            last.close();
        }
    }

    @Override
    public int decode(int id) {
        AbstractTensor<?, ?> out = model.forward(id, position++, kv, Optional.empty());
        try {
            return model.sample(out, 0f, 0f, logits);
        } finally {
            out.close();
            kv.incrementContextPosition();
        }
    }

    @Override
    public void close() {
        if (kv != null) kv.close();
        model.close();
    }

    /**
     * The child JVM: args are --dir, --threads, --vocab, --prompt-tokens, --gen-tokens, --reps,
     * --context, --seed (all required, as JlamaPeer passes them). Progress goes to stderr.
     */
    public static void main(String[] args) throws Exception {
        ChildJvm.exitWithParent();
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i], args[i + 1]);
        PrintStream log = System.err;
        DecodeRuns.Settings s = new DecodeRuns.Settings(Integer.parseInt(a.get("--prompt-tokens")),
                Integer.parseInt(a.get("--gen-tokens")), Integer.parseInt(a.get("--reps")),
                Integer.parseInt(a.get("--context")), Long.parseLong(a.get("--seed")));
        Map<String, Object> out = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (JlamaEngine e = new JlamaEngine(Path.of(a.get("--dir")), Integer.parseInt(a.get("--threads")))) {
            log.printf("bench decode: %s: loaded in %.1f s%n", e.name(), (System.nanoTime() - t0) * 1e-9);
            List<Map<String, Object>> results = new ArrayList<>();
            for (DecodeRuns.Result r : DecodeRuns.run(e, s, Integer.parseInt(a.get("--vocab")), log)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("test", r.test());
                m.put("kind", r.kind());
                m.put("tokens", r.tokens());
                m.put("seconds", r.seconds());
                m.put("greedy", r.greedy());
                results.add(m);
            }
            out.put("engine", e.name());
            out.put("results", results);
        }
        out.put("peak_rss_bytes", ProcessMemory.peakRssBytes());
        System.out.println(new ObjectMapper().writeValueAsString(out));
        System.out.flush();
        System.exit(0);   // Jlama's pools need not be shut down one by one
    }
}
