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

    @Option(names = "--dtype", defaultValue = "bf16", description = "weights kept in memory as bf16 (zero-copy for BF16 files) or f32 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Mixin ThreadsOption threads;

    @Mixin BackendOption backend;

    public Model load() throws IOException {
        DType d = switch (dtype.toLowerCase()) {
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16 or f32, not " + dtype);
        };
        return Model.load(model, d, backend.backend());
    }
}
