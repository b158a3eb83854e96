package dev.laconic.transformer;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.safetensors.SafetensorsException;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21 item 3: a model whose safetensors file is truncated while it is loaded ({@code cp new old} over a model in
 * use) ends with one line naming the file, not a JVM crash. Before the check the next decode step read the lost pages
 * inside compiled Vector API code: SIGBUS, exit 134, an hs_err file. It runs in a child JVM, which a crash would end.
 */
class TruncatedWhileLoadedTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/qwen2-f32");

    /** The child: load, decode until the kernels are compiled, truncate the file, decode again. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        try (Model m = Model.load(dir, DType.F32, Backend.named(null))) {
            Generator g = Generator.of(m.transformer(), m.tokenizer());
            GenerationConfig gc = new GenerationConfig(20, Sampler.greedy(), 1, 0, true, null, -1);
            List<int[]> prompt = List.of(m.tokenizer().encode("hello world", true));
            for (int i = 0; i < 60; i++) g.generate(prompt, gc, (p, s, id) -> {});
            try (FileChannel ch = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
                ch.truncate(300_000);   // about half: the embedding stays, the layers' pages go
            }
            System.out.println("truncated");
            g.generate(prompt, gc, (p, s, id) -> {});
            System.out.println("generated");
        } catch (SafetensorsException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    @Test
    void truncatingTheFileOfALoadedModelEndsInOneErrorLineNamingIt(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("model"));
        try (Stream<Path> files = Files.list(GOLDEN)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Path out = tmp.resolve("out.txt"), err = tmp.resolve("err.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-XX:ErrorFile=" + tmp.resolve("hs_err.log"), "-cp", System.getProperty("java.class.path"),
                TruncatedWhileLoadedTest.class.getName(), dir.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child finished");
        List<String> errors = Files.readAllLines(err).stream().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
        assertEquals(1, p.exitValue(), "exit 1 (a crash is 134): " + errors);
        assertEquals(List.of("truncated"), Files.readAllLines(out));
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.getFirst().startsWith("error: " + dir.resolve("model.safetensors") + ": file changed on disk while in use"),
                errors.getFirst());
        assertFalse(Files.exists(tmp.resolve("hs_err.log")));
    }
}
