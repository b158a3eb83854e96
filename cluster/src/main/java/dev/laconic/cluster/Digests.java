package dev.laconic.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** SHA-256 of a model directory's content, and of this Laconic build. */
final class Digests {
    private static final Map<String, String> MODELS = new ConcurrentHashMap<>();
    private static volatile String build;

    private Digests() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    /**
     * The content hash of a model directory: SHA-256 over the name, size and bytes of config.json, tokenizer.json
     * and every safetensors file (and index), in name order. Computed once per directory, size and modification time
     * in a process (a 3.5 GB checkpoint takes a few seconds).
     */
    static String model(Path dir) {
        try {
            Path d = dir.toAbsolutePath().normalize();
            List<Path> files;
            try (Stream<Path> s = Files.list(d)) {
                files = s.filter(p -> {
                    String n = p.getFileName().toString();
                    return Files.isRegularFile(p) && (n.equals("config.json") || n.equals("tokenizer.json") || n.endsWith(".safetensors")
                            || n.endsWith(".safetensors.index.json"));
                }).sorted().toList();
            }
            StringBuilder key = new StringBuilder(d.toString());
            for (Path f : files) key.append('|').append(f.getFileName()).append(':').append(Files.size(f)).append(':').append(Files.getLastModifiedTime(f).toMillis());
            String k = key.toString();
            String cached = MODELS.get(k);
            if (cached != null) return cached;
            MessageDigest md = sha256();
            for (Path f : files) {
                md.update((f.getFileName() + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                    while (ch.read(buf) > 0) {
                        buf.flip();
                        md.update(buf);
                        buf.clear();
                    }
                }
            }
            String h = "sha256:" + HexFormat.of().formatHex(md.digest()).substring(0, 24);
            MODELS.put(k, h);
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read the model to hash it: " + e.getMessage(), e);
        }
    }

    /**
     * This build of Laconic: a digest of every dev/laconic class (entry names and CRCs of the jar, or the class files
     * of the module directories on a development class path), so two machines must run the same code to work together.
     */
    static String build() {
        String b = build;
        if (b != null) return b;
        MessageDigest md = sha256();
        Class<?>[] anchors = {dev.laconic.tensor.Tensor.class, dev.laconic.transformer.Transformer.class,
                dev.laconic.training.TrainableModel.class, dev.laconic.compression.generation.Policy.class, Digests.class};
        java.util.Set<Path> seen = new java.util.TreeSet<>();
        for (Class<?> c : anchors) {
            try {
                var src = c.getProtectionDomain().getCodeSource();
                if (src != null) seen.add(Path.of(src.getLocation().toURI()));
            } catch (Exception e) {
                md.update(c.getName().getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            for (Path p : seen) {
                if (Files.isDirectory(p)) {
                    try (Stream<Path> s = Files.walk(p)) {
                        for (Path f : s.filter(x -> x.toString().endsWith(".class")).sorted().toList()) {
                            md.update(p.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
                            md.update(Files.readAllBytes(f));
                        }
                    }
                } else if (Files.isRegularFile(p)) {
                    try (var jar = new java.util.jar.JarFile(p.toFile())) {
                        for (var e : jar.stream().filter(e -> e.getName().startsWith("dev/laconic/") && e.getName().endsWith(".class"))
                                .sorted(java.util.Comparator.comparing(java.util.zip.ZipEntry::getName)).toList()) {
                            md.update(e.getName().getBytes(StandardCharsets.UTF_8));
                            md.update(Long.toString(e.getCrc()).getBytes(StandardCharsets.UTF_8));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Laconic's own classes to identify the build: " + e.getMessage(), e);
        }
        build = "0.1.0-SNAPSHOT+" + HexFormat.of().formatHex(md.digest()).substring(0, 12);
        return build;
    }
}
