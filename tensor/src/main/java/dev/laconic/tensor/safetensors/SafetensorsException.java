package dev.laconic.tensor.safetensors;

import java.nio.file.Path;

/**
 * The one error a malformed or unreadable safetensors file or checkpoint raises. The message names
 * the file, the tensor when one is involved, and the reason, so a user can act on a single line:
 * {@code model-00002-of-00002.safetensors: tensor 'lm_head.weight': data_offsets [0, 10) reach past ...}.
 */
public final class SafetensorsException extends RuntimeException {
    private final transient Path file;
    private final String tensor;
    private final String reason;

    public SafetensorsException(Path file, String tensor, String reason) {
        this(file, tensor, reason, null);
    }

    public SafetensorsException(Path file, String tensor, String reason, Throwable cause) {
        super(message(file, tensor, reason), cause);
        this.file = file;
        this.tensor = tensor;
        this.reason = reason;
    }

    private static String message(Path file, String tensor, String reason) {
        return file + ": " + (tensor == null ? "" : "tensor '" + tensor + "': ") + reason;
    }

    /** The file at fault (a shard, an index, or the path the user gave). */
    public Path file() { return file; }

    /** The tensor at fault, or null when the fault is not about one tensor. */
    public String tensor() { return tensor; }

    /** The reason alone, without file and tensor. */
    public String reason() { return reason; }
}
