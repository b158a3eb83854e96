package dev.laconic.cli;

import dev.laconic.bench.BackendOption;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.Model;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The flags every model command shares: --model, --dtype, --threads, --backend. */
public final class ModelOptions {
    @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json)")
    Path model;

    @Option(names = "--dtype", defaultValue = "auto", description = "weights kept in memory as " + Dtypes.AUTO + " (default: ${DEFAULT-VALUE})")
    String dtype;

    @Mixin ThreadsOption threads;

    @Mixin BackendOption backend;

    /** What the weights were kept as, once {@link #load} has run. */
    DType resolved;

    public Model load() throws IOException {
        resolved = Dtypes.weights(dtype, model, "--dtype");
        return Model.load(model, resolved, backend.backend());
    }
}
