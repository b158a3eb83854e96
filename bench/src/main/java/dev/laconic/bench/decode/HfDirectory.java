package dev.laconic.bench.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.ChildJvm;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.RandomWeights;
import dev.laconic.transformer.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes in-memory weights (e.g. random ones) as a Hugging Face model directory another engine can
 * load: {@code model.safetensors} under the HF parameter names, {@code config.json} (the given one,
 * with {@code model_type} and {@code torch_dtype} filled in), a {@code tokenizer.json}, and the
 * {@code tokenizer_config.json} and {@code generation_config.json} found next to the config, if any.
 *
 * <p>Every tensor is stored in the matrices' dtype, norms and biases included, as a real BF16
 * checkpoint stores them (Jlama, for one, takes the model's dtype from the majority of its tensors).
 * Without a tokenizer.json next to the config, a byte-level BPE with the 256 byte symbols and no
 * merges stands in: the benchmark feeds token ids, so the tokenizer is only there because loaders
 * insist on one.
 *
 * <p>{@link #writeRandom} makes {@link RandomWeights} in a child JVM ({@link #main}) and writes them
 * there, so the benchmark's own process never holds them in its heap: it maps the file, as it maps a
 * downloaded checkpoint, and its peak RSS is the footprint generation has.
 */
final class HfDirectory {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfDirectory() {}

    /** config.json plus, when next to it, generation_config.json (as Model.load reads a directory). */
    static ModelConfig readConfig(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": not found");
        JsonNode c;
        try {
            c = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        Path gen = file.toAbsolutePath().resolveSibling("generation_config.json");
        try {
            return ModelConfig.fromJson(c, Files.isRegularFile(gen) ? JSON.readTree(gen.toFile()) : null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Random weights (RandomWeights.create(cfg, seed, dtype)) shaped as configFile, written to dir by
     * a child JVM whose heap is sized for them: parameters × dtype bytes + 1 GiB.
     */
    static void writeRandom(Path dir, Path configFile, ModelConfig cfg, long seed, DType dtype) throws IOException {
        long heapMib = (cfg.parameterCount() * dtype.bytes >> 20) + 1024;
        ChildJvm.run(ChildJvm.command(HfDirectory.class, "-Xmx" + heapMib + "m", List.of("--config", configFile.toAbsolutePath().toString(),
                "--seed", "" + seed, "--dtype", dtype.name(), "--out", dir.toAbsolutePath().toString())), "writing the random model");
    }

    /** The child of {@link #writeRandom}: --config FILE --seed S --dtype BF16|F32 --out DIR. */
    public static void main(String[] args) throws Exception {
        ChildJvm.exitWithParent();
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i], args[i + 1]);
        Path config = Path.of(a.get("--config"));
        ModelConfig cfg = readConfig(config);
        long t0 = System.nanoTime();
        Weights w = RandomWeights.create(cfg, Long.parseLong(a.get("--seed")), DType.valueOf(a.get("--dtype")));
        long t1 = System.nanoTime();
        write(Path.of(a.get("--out")), config, cfg, w);
        System.err.printf(Locale.ROOT, "bench decode: random weights made in %.1f s, written to %s in %.1f s%n",
                (t1 - t0) * 1e-9, a.get("--out"), (System.nanoTime() - t1) * 1e-9);
        System.exit(0);
    }

    /** Writes the directory; configFile is the config.json the model was made from. */
    static void write(Path dir, Path configFile, ModelConfig cfg, Weights w) throws IOException {
        Files.createDirectories(dir);
        DType dtype = w.layers()[0].wq().dtype();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(Weights.EMBED, w.embed());
        if (!cfg.tieWordEmbeddings()) tensors.put(Weights.LM_HEAD, w.lmHead());
        tensors.put(Weights.FINAL_NORM, w.finalNorm().to(dtype));
        for (int l = 0; l < w.layers().length; l++)
            for (Weights.Part p : Weights.Part.values()) {
                Tensor t = p.of(w.layers()[l]);
                if (t != null) tensors.put(p.name(l), p.isMatrix() ? t : t.to(dtype));
            }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));

        ObjectNode config = (ObjectNode) JSON.readTree(configFile.toFile());
        if (!config.hasNonNull("model_type"))
            config.put("model_type", ModelConfig.QWEN2.equals(cfg.architecture()) ? "qwen2" : "llama");
        config.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32");
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        for (String name : new String[]{"tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
            Path sibling = configFile.toAbsolutePath().resolveSibling(name);
            if (Files.isRegularFile(sibling)) Files.copy(sibling, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) JSON.writeValue(dir.resolve("tokenizer.json").toFile(), byteLevelTokenizer());
    }

    /** A byte-level BPE over the 256 byte symbols (GPT-2's byte-to-unicode map), no merges. */
    static ObjectNode byteLevelTokenizer() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", false);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("unk_token");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        int[] symbol = byteSymbols();
        for (int b = 0; b < 256; b++) vocab.put(Character.toString(symbol[b]), b);
        model.putArray("merges");
        return root;
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256, 257, …. */
    private static int[] byteSymbols() {
        int[] s = new int[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            s[b] = printable ? b : next++;
        }
        return s;
    }
}
