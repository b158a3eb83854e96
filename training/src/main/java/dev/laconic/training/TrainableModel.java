package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.Adapter;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.Weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * A model being trained: the {@link Transformer}, its trainable {@link Param}s and their gradients.
 *
 * <ul>
 *   <li>{@link #full}: F32 heap master copies of every weight (embeddings, norms, biases, LM head
 *       included; tied embeddings are one parameter), each with an F32 gradient.</li>
 *   <li>{@link #lora}: the base weights stay as loaded (a BF16 checkpoint stays a zero-copy view of the
 *       memory map) and get no gradient buffers; only the adapters' A and B are trained. Switching the
 *       adapters off gives the base model, i.e. the RL reference policy, without a second copy.</li>
 * </ul>
 * A training step ({@link OptimizerStep}): the gradients zeroed, {@link #forwardBackward} once per
 * micro-batch (gradients add up), then the optimizer reads {@code Param.grad} and updates
 * {@code Param.value} in place, which is the tensor the transformer computes with.
 */
public final class TrainableModel {
    private final ModelConfig cfg;
    private final Transformer transformer;
    private final List<Param> params;            // trainable only, stable order
    private final Map<String, Param> byName;
    private final Weights grads;                 // full fine-tuning: shaped as the weights; LoRA: null (frozen base)
    private final Adapter.Layer[] adapters;      // LoRA: one per layer; full fine-tuning: null
    private final Map<String, Lora> loraByModule; // LoRA: HF module path → its adapter
    private final LoraConfig lora;               // null for full fine-tuning

    private TrainableModel(ModelConfig cfg, Transformer transformer, List<Param> params, Weights grads,
                           Adapter.Layer[] adapters, Map<String, Lora> loraByModule, LoraConfig lora) {
        this.cfg = cfg;
        this.transformer = transformer;
        this.params = List.copyOf(params);
        this.byName = new LinkedHashMap<>();
        for (Param p : params) byName.put(p.name(), p);
        this.grads = grads;
        this.adapters = adapters;
        this.loraByModule = loraByModule;
        this.lora = lora;
    }

    /** Full fine-tuning: every weight copied once into an F32 heap master tensor (tied embeddings stay one tensor). */
    public static TrainableModel full(Model model) {
        return full(model.transformer());
    }

    /** {@link #full(Model)} of a transformer built in memory (e.g. {@code RandomWeights} for benchmarks). */
    public static TrainableModel full(Transformer base) {
        Weights master = map(base.weights(), t -> t.to(DType.F32));
        Weights grads = map(master, t -> Tensor.zeros(DType.F32, t.shape()));
        Map<String, Tensor> values = master.named(), gradients = grads.named();
        List<Param> params = new ArrayList<>();
        values.forEach((name, v) -> params.add(new Param(name, v, gradients.get(name))));
        Transformer t = new Transformer(base.config(), master, base.ops());
        return new TrainableModel(base.config(), t, params, grads, null, null, null);
    }

    /**
     * LoRA on the frozen base: A ~ U(−1/√in, 1/√in) (PEFT's default, kaiming_uniform with a = √5),
     * B = 0, so the adapted model starts equal to the base. Parameters are ordered layer by layer,
     * target by target in {@link LoraConfig#TARGETS} order, A before B; A is drawn in that order
     * from one generator seeded with {@code seed}. The base weights are shared with {@code model},
     * which must stay open while this is used.
     */
    public static TrainableModel lora(Model model, LoraConfig cfg, long seed) {
        return lora(model.transformer(), cfg, seed);
    }

    /** {@link #lora(Model, LoraConfig, long)} on a transformer built in memory; its weights are shared, not copied. */
    public static TrainableModel lora(Transformer model, LoraConfig cfg, long seed) {
        Weights base = model.weights();
        SplittableRandom rng = new SplittableRandom(seed);
        Adapter.Layer[] layers = new Adapter.Layer[model.config().layers()];
        Map<String, Lora> byModule = new LinkedHashMap<>();
        List<Param> params = new ArrayList<>();
        for (int l = 0; l < layers.length; l++) {
            Lora[] perTarget = new Lora[LoraConfig.TARGETS.size()];
            for (int i = 0; i < perTarget.length; i++) {
                String target = LoraConfig.TARGETS.get(i);
                if (!cfg.targets().contains(target)) continue;
                Tensor w = LoraConfig.projection(target).of(base.layers()[l]);      // [N, K]
                int out = w.dim(0), in = w.dim(1);
                float bound = (float) (1 / Math.sqrt(in));
                Tensor a = Tensor.zeros(DType.F32, cfg.rank(), in);
                for (long j = 0; j < a.numel(); j++) a.setFloat(j, (float) rng.nextDouble(-bound, bound));
                Lora lo = new Lora(Param.of(LoraConfig.peftName(l, target, "A"), a),
                        Param.of(LoraConfig.peftName(l, target, "B"), Tensor.zeros(DType.F32, out, cfg.rank())), cfg.scale());
                perTarget[i] = lo;
                byModule.put(LoraConfig.modulePath(l, target), lo);
                params.add(lo.a);
                params.add(lo.b);
            }
            layers[l] = new Adapter.Layer(perTarget[0], perTarget[1], perTarget[2], perTarget[3], perTarget[4],
                    perTarget[5], perTarget[6]);
        }
        Transformer t = new Transformer(model.config(), base, model.ops(), null, model.sourceCheck());
        t.setAdapters(layers);
        return new TrainableModel(model.config(), t, params, null, layers, byModule, cfg);
    }

    public List<Param> parameters() { return params; }
    public Transformer transformer() { return transformer; }
    public ModelConfig config() { return cfg; }

    /** The LoRA configuration, or null for full fine-tuning. */
    public LoraConfig loraConfig() { return lora; }

    /** Sets every gradient to 0 (before each optimizer step's first micro-batch). */
    public void zeroGrad() {
        for (Param p : params) p.grad().fill(0);
    }

    /**
     * For each sequence b: logp = log p(ids[t] | ids[&lt;t]) for t = 1..n-1 with the current weights,
     * objective(b, logp) → dLoss/dlogp, then the backward through the whole model. Parameter
     * gradients accumulate (+=) into {@code Param.grad}. All sequences run through one forward (their
     * rows share every matrix product). Returns Σ_b of the objective's values.
     */
    public double forwardBackward(List<int[]> sequences, TokenObjective objective) {
        int[][] seqs = sequences.toArray(new int[0][]);
        Transformer.Trace trace = transformer.forwardTrain(seqs);
        float[][] dlogp = new float[seqs.length][];
        double total = 0;
        for (int b = 0; b < seqs.length; b++) {
            float[] logp = transformer.logProbs(trace, b);
            dlogp[b] = new float[logp.length];
            total += objective.apply(b, logp, dlogp[b]);
        }
        transformer.backward(trace, dlogp, grads);
        return total;
    }

    /**
     * log p(ids[t] | ids[&lt;t]), t = 1..n-1, without gradient, with the current weights and adapters
     * as currently enabled; the same computation as {@link #forwardBackward}'s forward.
     */
    public float[] logProbs(int[] ids) {
        return transformer.logProbs(new int[][]{ids})[0];
    }

    /**
     * LoRA: on = the adapted model, off = the base (reference) model, same weights, no copy.
     * Full fine-tuning has no adapters: turning them off is refused (a reference model would need a
     * copy of the initial weights).
     */
    public void adaptersEnabled(boolean on) {
        if (adapters == null) {
            if (!on) throw new IllegalStateException("full fine-tuning has no adapters to switch off");
            return;
        }
        transformer.setAdapters(on ? adapters : null);
    }

    /**
     * The weights of the model under their Hugging Face names (HF parameter order; tied embeddings
     * appear once as model.embed_tokens.weight). Full fine-tuning: the live F32 master tensors.
     * LoRA with merge: the base tensors, with every adapted W replaced by a new F32 W + scale·B·A.
     * LoRA without merge: the adapter only, PEFT names → live lora_A / lora_B tensors.
     * Live tensors change with the next optimizer step: write or copy them before it.
     */
    public Map<String, Tensor> exportWeights(boolean mergeAdapters) {
        if (lora == null) return transformer.weights().named();
        if (!mergeAdapters) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Param p : params) out.put(p.name(), p.value());
            return out;
        }
        Ops ops = transformer.ops();
        Map<String, Tensor> out = transformer.weights().named();
        loraByModule.forEach((module, lo) -> out.compute(module + ".weight", (name, w) -> lo.merge(ops, w)));
        return out;
    }

    /**
     * Restores every trainable value by name (resume, or a PEFT adapter's tensors); values may be any
     * float dtype and are converted to F32. The names must be exactly those of {@link #parameters()}:
     * unknown or missing names, or a wrong shape, throw IllegalArgumentException naming them, before
     * anything is changed.
     */
    public void loadParameters(Map<String, Tensor> values) {
        TreeSet<String> unknown = new TreeSet<>(values.keySet()), missing = new TreeSet<>(byName.keySet());
        unknown.removeAll(byName.keySet());
        missing.removeAll(values.keySet());
        if (!unknown.isEmpty() || !missing.isEmpty())
            throw new IllegalArgumentException((unknown.isEmpty() ? "" : "unknown parameters " + list(unknown))
                    + (!unknown.isEmpty() && !missing.isEmpty() ? "; " : "")
                    + (missing.isEmpty() ? "" : "missing parameters " + list(missing))
                    + " (this model trains " + byName.size() + " tensors, e.g. " + params.getFirst().name() + ")");
        for (Param p : params) {
            Tensor v = values.get(p.name());
            if (!Arrays.equals(v.shape(), p.value().shape()) || !v.dtype().isFloat())
                throw new IllegalArgumentException(p.name() + ": got " + v + ", expected F32" + Arrays.toString(p.value().shape()));
        }
        for (Param p : params) {
            Tensor v = values.get(p.name());
            p.value().copyFrom(v.dtype() == DType.F32 ? v : v.to(DType.F32));
        }
    }

    private static String list(TreeSet<String> names) {
        List<String> l = new ArrayList<>(names);
        return l.size() <= 8 ? l.toString() : l.subList(0, 8) + " and " + (l.size() - 8) + " more";
    }

    // ---- weights by Hugging Face name -----------------------------------------------------------

    /** Hugging Face name → tensor, in HF's parameter order; null biases skipped; a tied LM head is not repeated. */
    /** The first weight (frozen base or trainable) that is NaN or infinite, named ({@link Weights#nonFinite}); or null. */
    public String nonFiniteWeight() {
        Map<String, Tensor> all = new LinkedHashMap<>(transformer.weights().named());
        for (Param p : params) all.putIfAbsent(p.name(), p.value());
        return Weights.nonFinite(all);
    }

    /** The same structure with every tensor replaced by f(tensor); a tensor used twice (tied) maps to one result. */
    static Weights map(Weights w, UnaryOperator<Tensor> f) {
        Map<Tensor, Tensor> done = new IdentityHashMap<>();
        UnaryOperator<Tensor> g = t -> t == null ? null : done.computeIfAbsent(t, f);
        Weights.Layer[] layers = new Weights.Layer[w.layers().length];
        for (int l = 0; l < layers.length; l++) {
            Weights.Layer L = w.layers()[l];
            layers[l] = Weights.Layer.of(p -> g.apply(p.of(L)));
        }
        return new Weights(g.apply(w.embed()), layers, g.apply(w.finalNorm()), g.apply(w.lmHead()));
    }
}
