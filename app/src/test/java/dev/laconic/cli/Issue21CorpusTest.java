package dev.laconic.cli;

import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.tensor.safetensors.SafetensorsException;
import dev.laconic.training.Jsonl;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21's reproducers, one file each in {@code src/test/resources/issue21/} (written by
 * {@code tools/make_issue21_corpus.py}): a file named {@code loads-*} must load (Hugging Face loads it too); every other
 * must be refused with one line naming the file, through the loader the CLI uses for it. Reading every tensor of a file
 * that loads is part of loading.
 */
class Issue21CorpusTest {
    static final Path CORPUS = Path.of("src/test/resources/issue21");

    static Stream<Path> corpus() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(CORPUS)) {
            files = s.sorted().toList();
        }
        assertTrue(files.size() == 13, "the corpus is there: " + files);
        return files.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void eachReproducerLoadsOrIsRefusedInOneLineNamingItsFile(Path file, @TempDir Path tmp) throws Exception {
        String name = file.getFileName().toString();
        // tokenizer.json and config.json are read from a model directory under their own names
        Path blamed = name.startsWith("tokenizer-") ? Files.copy(file, tmp.resolve("tokenizer.json"))
                : name.startsWith("config-") ? Files.copy(file, tmp.resolve("config.json")) : file;
        Exception fault = fault(name, file, tmp);
        if (name.startsWith("loads-")) {
            assertNull(fault, () -> "refused: " + fault.getMessage());
            return;
        }
        assertNotNull(fault, name + " was accepted");
        String m = fault.getMessage();
        assertTrue(Laconic.isUserFault(fault), "the CLI words it as one error line: " + fault);
        assertFalse(m.contains("\n") || m.contains("[Source:"), m);
        assertTrue(m.startsWith(blamed.toString() + ":") || m.startsWith(blamed + " "), "names " + blamed + ": " + m);
    }

    /** The fault loading {@code file} raises, or null when it loads. */
    static Exception fault(String name, Path file, Path tmp) {
        try {
            if (name.endsWith(".safetensors")) {
                try (Checkpoint ck = Checkpoint.open(file)) {
                    for (String t : ck.names()) ck.tensor(t).toFloatArray();
                }
            } else if (name.startsWith("tokenizer-")) Tokenizer.load(tmp);
            else if (name.startsWith("config-")) ModelConfig.load(tmp);
            else Jsonl.read(file);
        } catch (SafetensorsException | IllegalArgumentException | IllegalStateException | IOException e) {
            return e;
        }
        return null;
    }
}
