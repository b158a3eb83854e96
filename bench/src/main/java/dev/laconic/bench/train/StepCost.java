package dev.laconic.bench.train;

import dev.laconic.bench.GemmCase;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.training.LoraConfig;
import dev.laconic.transformer.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The FLOPs of one training step on {@code batch} sequences of {@code seq} tokens, two ways, and the
 * matrix products the step runs (for the GEMM bound). R = batch·seq rows go through every layer,
 * P = batch·(seq − 1) positions predict a token (the LM head and the loss).
 * <pre>
 *   Np = Σ of a layer's seven projections n·k          (q, k, v, o, gate, up, down)
 *   Nh = V·C                                            (LM head)
 *   A  = 2·H·D·seq·(seq+1) per layer and sequence       (causal QKᵀ and P·V: query i sees i+1 keys)
 *   Nl = r·Σ_targets (in + out) per layer                (LoRA: x·Aᵀ then ·Bᵀ)
 *
 *   model FLOPs (the 6·params·tokens convention; what any implementation must do):
 *     full:  6·R·L·Np + 6·P·Nh + 3·L·batch·A                  forward 2, dx 2, dW 2; attention backward = 2× forward
 *     LoRA:  4·R·L·Np + 4·P·Nh + 3·L·batch·A + 6·R·L·Nl        frozen base: forward and dx only
 *   executed FLOPs (what our step runs: layer-input checkpointing recomputes every layer in the
 *   backward, the chunked LM head recomputes its logits, flash attention's backward recomputes QKᵀ):
 *     model + 2·R·L·Np + 2·P·Nh + 1.5·L·batch·A + 2·R·L·Nl
 * </pre>
 * Embedding lookups, norms, biases, RoPE, SwiGLU, the log-softmax and AdamW are left out: together
 * well under 1% at these shapes (AdamW: ~10 FLOPs per trainable parameter, once per step).
 *
 * @param gemms the step's matrix products: each distinct shape and kind once, with how many times a step runs it
 */
record StepCost(int seq, int batch, double modelFlops, double executedFlops, List<Gemm> gemms) {

    /** One kind of matrix product of the step, run {@code count} times per step. */
    record Gemm(GemmCase gemm, int count) {}

    long tokens() { return (long) seq * batch; }
    double modelFlopsPerToken() { return modelFlops / tokens(); }
    double executedFlopsPerToken() { return executedFlops / tokens(); }

    /** @param lora null for full fine-tuning; weights: how the frozen or trained matrices are held */
    static StepCost of(ModelConfig cfg, int seq, int batch, LoraConfig lora, DType weights) {
        if (seq < 2 || batch < 1) throw new IllegalArgumentException("a training step needs seq >= 2 and batch >= 1, got " + seq + ", " + batch);
        int c = cfg.hidden(), f = cfg.intermediate(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim();
        int layers = cfg.layers();
        long rows = (long) seq * batch, predicted = (long) (seq - 1) * batch;
        // the seven projections w[N, K] as (target, n, k)
        Map<String, int[]> proj = new LinkedHashMap<>();
        proj.put("q", new int[]{qd, c});
        proj.put("k", new int[]{kvd, c});
        proj.put("v", new int[]{kvd, c});
        proj.put("o", new int[]{c, qd});
        proj.put("gate", new int[]{f, c});
        proj.put("up", new int[]{f, c});
        proj.put("down", new int[]{c, f});
        double np = 0, nl = 0;
        for (var e : proj.entrySet()) {
            int[] nk = e.getValue();
            np += (double) nk[0] * nk[1];
            if (lora != null && lora.targets().contains(e.getKey())) nl += (double) lora.rank() * (nk[0] + nk[1]);
        }
        double nh = (double) cfg.vocab() * c;
        double attn = 2.0 * cfg.heads() * cfg.headDim() * seq * (seq + 1.0) * layers * batch;
        boolean full = lora == null;
        double model = (full ? 6 : 4) * (rows * layers * np + predicted * nh) + 3 * attn + 6 * rows * layers * nl;
        double executed = model + 2 * (rows * layers * np + predicted * nh) + 1.5 * attn + 2 * rows * layers * nl;

        // the products, each distinct (kind, t, n, k) once: per layer forward twice (forward, recompute), dx once,
        // dW once (full only); the LM head in chunks of Ops.LM_HEAD_CHUNK positions, the same three per chunk
        Map<String, Gemm> gemms = new LinkedHashMap<>();
        for (var e : proj.entrySet()) {
            int[] nk = e.getValue();
            add(gemms, "fwd", GemmCase.Kind.FWD, (int) rows, nk, weights, 2 * layers);
            add(gemms, "dx", GemmCase.Kind.DX, (int) rows, nk, weights, layers);
            if (full) add(gemms, "dw", GemmCase.Kind.DW, (int) rows, nk, weights, layers);
        }
        int chunk = Math.min(Ops.LM_HEAD_CHUNK, seq - 1);
        int chunks = batch * ((seq - 1 + chunk - 1) / chunk);
        int[] head = {cfg.vocab(), c};
        add(gemms, "fwd lm_head", GemmCase.Kind.FWD, chunk, head, weights, 2 * chunks);
        add(gemms, "dx lm_head", GemmCase.Kind.DX, chunk, head, weights, chunks);
        if (full) add(gemms, "dw lm_head", GemmCase.Kind.DW, chunk, head, weights, chunks);
        return new StepCost(seq, batch, model, executed, List.copyOf(gemms.values()));
    }

    private static void add(Map<String, Gemm> gemms, String name, GemmCase.Kind kind, int t, int[] nk, DType w, int count) {
        // dW products are F32 (the master weights of full fine-tuning); fwd/dx read the weights as held
        String key = kind + " " + t + " " + nk[0] + " " + nk[1];
        Gemm old = gemms.get(key);
        if (old != null) {
            gemms.put(key, new Gemm(old.gemm(), old.count() + count));
        } else {
            gemms.put(key, new Gemm(new GemmCase(name + " " + nk[0] + "x" + nk[1], kind, t, nk[0], nk[1], w), count));
        }
    }

    /** Σ count·flops of the products: the executed FLOPs that are GEMMs. */
    double gemmFlops() {
        double s = 0;
        for (Gemm g : gemms) s += g.count() * g.gemm().flops();
        return s;
    }

    /** For the report: the shapes with their counts, e.g. "fwd 1536x1536 T=1024 x56". */
    List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Gemm g : gemms) out.add(g.gemm().name() + " T=" + g.gemm().t() + " x" + g.count());
        return out;
    }
}
