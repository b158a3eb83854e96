package dev.laconic.cli;

import dev.laconic.tensor.DType;
import dev.laconic.transformer.Model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * {@code --dtype} and {@code --save-dtype}: auto (the default) keeps a checkpoint's own precision, as
 * Hugging Face's {@code dtype="auto"} does — BF16 weights stay BF16 (memory-mapped, zero-copy), F32 stay F32,
 * F16 widen to F32 (exactly; the kernels read F32 and BF16). An explicit bf16 on a checkpoint that is not
 * BF16 rounds its weights, and says so once on stderr.
 */
final class Dtypes {
    private Dtypes() {}

    /** For --dtype's description. */
    static final String AUTO = "auto (the checkpoint's own: BF16 stays BF16, zero-copy; F32 stays F32; F16 widens to F32), bf16, f32 "
            + "or q8 (8-bit blocks of 32 with an F16 scale, llama.cpp's Q8_0, quantised at load; a frozen base for LoRA)";

    private static final Set<Path> NOTED = new HashSet<>();

    /** bf16, f32 or q8; null for auto. */
    static DType parse(String s, String flag) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> null;
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            case "q8" -> DType.Q8_0;
            default -> throw new IllegalArgumentException(flag + " must be auto, bf16, f32 or q8, not " + s);
        };
    }

    /** What the weights of {@code model} are kept as under {@code flag value} (null or auto: the checkpoint's own). */
    static DType weights(String value, Path model, String flag) throws IOException {
        DType asked = value == null ? null : parse(value, flag);
        DType stored = Model.storedDtype(model);
        if (asked == null) return stored;
        if (asked == DType.BF16 && stored != DType.BF16 && noteOnce(model))
            System.err.println("note: " + flag + " bf16 rounds " + model + "'s weights to BF16 (its own precision is F32; "
                    + flag + " auto keeps it)");
        return asked;
    }

    /** The dtype a model directory is written in: {@code value}, or (null or auto) the base model's own. */
    static DType save(String value, Path base, String flag) throws IOException {
        DType asked = value == null ? null : parse(value, flag);
        if (asked == DType.Q8_0)
            throw new IllegalArgumentException(flag + " q8: a model directory is written in bf16 or f32 (q8 is a dtype to hold a base in memory)");
        return asked != null ? asked : Model.storedDtype(base);
    }

    static String label(DType d) {
        return switch (d) {
            case BF16 -> "bf16";
            case Q8_0 -> "q8";
            default -> "f32";
        };
    }

    private static synchronized boolean noteOnce(Path model) {
        return NOTED.add(model.toAbsolutePath().normalize());
    }
}
