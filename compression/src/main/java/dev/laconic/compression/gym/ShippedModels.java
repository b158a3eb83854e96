package dev.laconic.compression.gym;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The gym models that ship inside the jar (trained once with the seeded commands in
 * {@code resources/dev/laconic/compression/gym/models/README.md}), so that the demo needs no
 * pretraining on a fresh machine. They are ordinary Hugging Face directories once extracted.
 *
 * <pre>
 *   long-reasoner   System-2 style: column scratchpad + 0–3 verification passes (the model both methods compress)
 *   short-model     System-1 style: the direct answer (TL;DR's short reference point)
 * </pre>
 */
public final class ShippedModels {
    public static final String LONG = "long-reasoner", SHORT = "short-model";
    static final String ROOT = "/dev/laconic/compression/gym/models/";
    static final List<String> FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "gym_pretrain.json", "model.safetensors");

    private ShippedModels() {}

    public static boolean available(String name) {
        return ShippedModels.class.getResource(ROOT + name + "/model.safetensors") != null;
    }

    /**
     * Copies the model's files to {@code dir} (a temporary sibling renamed into place, so an interrupted
     * copy never leaves a half model); an existing complete directory is reused.
     */
    public static Path extract(String name, Path dir) throws IOException {
        if (!available(name)) throw new IllegalStateException("no shipped gym model named " + name + " in this build (expected " + ROOT + name + ")");
        if (FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f))))
            return dir;
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".");
        try {
            for (String f : FILES) {
                try (InputStream in = ShippedModels.class.getResourceAsStream(ROOT + name + "/" + f)) {
                    if (in == null) throw new IllegalStateException("shipped gym model " + name + " lacks " + f);
                    Files.copy(in, tmp.resolve(f));
                }
            }
            if (Files.exists(dir)) deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
        return dir;
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
