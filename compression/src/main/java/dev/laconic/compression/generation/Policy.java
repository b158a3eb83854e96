package dev.laconic.compression.generation;

import dev.laconic.tensor.DType;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.nio.file.Path;

/**
 * The model that generates: the transformer this process decodes with, and what a worker on another machine needs to
 * build the same one (the base model's directory, and the trained weights of this version).
 *
 * @param model   the transformer the in-process backend decodes with
 * @param base    the Hugging Face directory the base weights were loaded from; null: a model built in memory, which
 *                only the in-process backend can run
 * @param trained the weights being trained on top of the base (LoRA adapters, or every weight for full fine-tuning);
 *                null: the base as loaded
 * @param version changes whenever {@code trained}'s weights change (e.g. the optimizer steps done), so a worker
 *                fetches each version once
 */
public record Policy(Transformer model, Tokenizer tok, Path base, TrainableModel trained, long version) {
    /** A model as loaded from its directory. */
    public static Policy of(Model m) {
        return new Policy(m.transformer(), m.tokenizer(), m.dir(), null, 0);
    }

    /** A model built in memory: in-process generation only. */
    public static Policy of(Transformer model, Tokenizer tok) {
        return new Policy(model, tok, null, null, 0);
    }

    /** The trained model at {@code version}, on the base loaded from {@code base}. */
    public static Policy trained(TrainableModel tm, Tokenizer tok, Path base, long version) {
        return new Policy(tm.transformer(), tok, base, tm, version);
    }

    /**
     * What the base matrices are kept as (BF16 or F32): the dtype a worker loads {@link #base} with. With full
     * fine-tuning the F32 master copies decide (the worker loads F32 and overwrites every weight).
     */
    public DType dtype() {
        return model.weights().embed().dtype();
    }
}
