package dev.laconic.transformer;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Hugging Face model directory opened for use: config, memory-mapped weights, tokenizer.
 *
 * <p>{@code dtype} chooses what matrices are kept as: a matrix already stored in that dtype is a
 * zero-copy view of the mapped file (a BF16 checkpoint costs no heap at --dtype bf16); otherwise it
 * is converted once into the heap. Norm weights and biases are always F32. Closing unmaps the
 * files; the transformer must not be used afterwards.
 *
 * <p>{@link DType#Q8_0} (8-bit blocks, {@link dev.laconic.tensor.Q8}) quantises every matrix at load,
 * the embeddings and the LM head included (as llama.cpp's Q8_0 files do); norms and biases stay F32.
 * It runs on the cpu backend.
 */
public final class Model implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Transformer transformer;
    private final Tokenizer tokenizer;   // null when the directory has no tokenizer.json

    private Model(Path dir, ModelConfig config, Checkpoint checkpoint, Transformer transformer, Tokenizer tokenizer) {
        this.dir = dir;
        this.config = config;
        this.checkpoint = checkpoint;
        this.transformer = transformer;
        this.tokenizer = tokenizer;
    }

    /**
     * Opens {@code dir} with Hugging Face's defaults: the weights in the checkpoint's own precision
     * ({@link #storedDtype}) and the default backend ({@code Backend.named(null)}: the
     * {@value Backend#PROPERTY} system property, else {@value Backend#DEFAULT}).
     */
    public static Model load(Path dir) throws IOException {
        return load(dir, storedDtype(dir), Backend.named(null));
    }

    /**
     * The dtype that keeps the checkpoint's precision (what {@code dtype="auto"} means here): BF16 when
     * every matrix is stored as BF16 (then kept zero-copy), otherwise F32 — F32 stays F32, and F16, which
     * the kernels do not read, widens to F32 exactly.
     */
    public static DType storedDtype(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": not a model directory");
        try (Checkpoint ck = Checkpoint.open(dir)) {
            boolean matrices = false, allBf16 = true;
            for (String name : ck.names()) {
                var e = ck.entry(name);
                if (e.shape().length != 2 || !e.dtype().isFloat()) continue;
                matrices = true;
                allBf16 &= e.dtype() == DType.BF16;
            }
            return matrices && allBf16 ? DType.BF16 : DType.F32;
        }
    }

    /**
     * Opens {@code dir} with {@code backend}'s ops; a backend that can run whole decode steps on its
     * device ({@link DeviceDecoder.Source}) gets them, since these weights never change in place.
     */
    public static Model load(Path dir, DType dtype, Backend backend) throws IOException {
        if (dtype == DType.Q8_0 && !backend.name().equals(Backend.DEFAULT))
            throw new IllegalArgumentException("q8 weights run on the cpu backend only, not " + backend.name());
        return load(dir, dtype, backend.ops(), backend.extension(DeviceDecoder.Source.class).orElse(null));
    }

    /** Opens {@code dir} with plain {@code ops} (no device decoder). */
    public static Model load(Path dir, DType dtype, Ops ops) throws IOException {
        return load(dir, dtype, ops, null);
    }

    private static Model load(Path dir, DType dtype, Ops ops, DeviceDecoder.Source device) throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.Q8_0)
            throw new IllegalArgumentException("dtype must be f32, bf16 or q8, not " + dtype);
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": not a model directory");
        ModelConfig cfg = ModelConfig.load(dir);
        Tokenizer tok = Files.isRegularFile(dir.resolve("tokenizer.json")) ? Tokenizer.load(dir) : null;
        Checkpoint ck = Checkpoint.open(dir);
        try {
            Weights w = weights(ck, cfg, dtype);
            // nothing trains these in place (TrainableModel copies or adapts them)
            Transformer t = new Transformer(cfg, w, ops, device, ck::checkUnchanged);
            return new Model(dir, cfg, ck, t, tok);
        } catch (RuntimeException e) {
            ck.close();                         // all or nothing: no half-loaded model stays mapped
            throw e;
        }
    }

    /** Reads every parameter under its Hugging Face name, checking shapes against the config. */
    static Weights weights(Checkpoint ck, ModelConfig cfg, DType keep) {
        int c = cfg.hidden();
        Weights.Layer[] layers = new Weights.Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            int layer = l;
            layers[l] = Weights.Layer.of(cfg, p -> p.isMatrix() ? matrix(ck, p.name(layer), keep, p.shape(cfg))
                    : vector(ck, p.name(layer), p.shape(cfg)));
        }
        Tensor embed = matrix(ck, Weights.EMBED, keep, cfg.vocab(), c);
        Tensor lmHead;
        if (ck.contains(Weights.LM_HEAD) && !cfg.tieWordEmbeddings()) lmHead = matrix(ck, Weights.LM_HEAD, keep, cfg.vocab(), c);
        else if (cfg.tieWordEmbeddings()) lmHead = embed;
        else throw new IllegalArgumentException(ck.path() + ": " + Weights.LM_HEAD + " is missing and tie_word_embeddings is false");
        return new Weights(embed, layers, vector(ck, Weights.FINAL_NORM, c), lmHead);
    }

    private static Tensor matrix(Checkpoint ck, String name, DType keep, int... shape) {
        Tensor t = find(ck, name, shape);
        if (!t.dtype().isFloat()) throw new IllegalArgumentException(ck.fileOf(name).path() + ": " + name + " has dtype " + t.dtype() + ", expected a float type");
        if (keep == DType.Q8_0 && shape[1] % dev.laconic.tensor.Q8.BLOCK != 0)
            throw new IllegalArgumentException(ck.fileOf(name).path() + ": " + name + " has rows of " + shape[1]
                    + " elements; q8 needs a multiple of " + dev.laconic.tensor.Q8.BLOCK + " (use --dtype bf16 or f32)");
        return t.dtype() == keep ? t : t.to(keep);
    }

    private static Tensor vector(Checkpoint ck, String name, int... shape) {
        return find(ck, name, shape).to(DType.F32);
    }

    private static Tensor find(Checkpoint ck, String name, int... shape) {
        if (!ck.contains(name)) throw new IllegalArgumentException(ck.path() + ": tensor " + name + " is missing");
        Tensor t = ck.tensor(name);
        if (!Arrays.equals(t.shape(), shape))
            throw new IllegalArgumentException(ck.fileOf(name).path() + ": " + name + " has shape " + Arrays.toString(t.shape())
                    + " but config.json implies " + Arrays.toString(shape));
        return t;
    }

    public Path dir() { return dir; }
    public ModelConfig config() { return config; }
    public Transformer transformer() { return transformer; }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException(dir + ": no tokenizer.json");
        return tokenizer;
    }

    @Override
    public void close() {
        transformer.closeDevice();
        checkpoint.close();
    }
}
