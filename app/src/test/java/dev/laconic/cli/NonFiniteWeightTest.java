package dev.laconic.cli;

import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21 item 9: a NaN weight made generate print {@code <pad><pad>...} and exit 0, and training's NaN loss blamed the
 * learning rate. Now both stop with one line naming the tensor.
 */
class NonFiniteWeightTest {
    static final String TENSOR = "model.layers.1.mlp.up_proj.weight";

    /** The golden model with element 5 of {@link #TENSOR} set to {@code value}. */
    static Path poisoned(Path tmp, float value) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("model"));
        try (Stream<Path> files = Files.list(ModelCommandsTest.MODEL)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Path file = dir.resolve(Checkpoint.SINGLE_FILE);
        long at;
        try (Checkpoint ck = Checkpoint.open(file)) {
            SafetensorsFile.Entry e = ck.entry(TENSOR);
            at = ck.fileOf(TENSOR).fileSize() - ck.fileOf(TENSOR).entries().stream().mapToLong(SafetensorsFile.Entry::byteSize).sum()
                    + e.begin() + 5 * 4L;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value), at);
        }
        return dir;
    }

    @Test
    void generateRefusesNaNLogitsNamingTheTensor(@TempDir Path tmp) throws IOException {
        Path model = poisoned(tmp, Float.NaN);
        ModelCommandsTest.Run r = ModelCommandsTest.run("generate", "--model", model.toString(), "--prompt", "Once", "--max-tokens", "4");
        assertEquals(1, r.exit(), r.err());
        assertEquals("", r.out());
        String e = r.err().lines().filter(l -> l.startsWith("error:")).findFirst().orElseThrow(() -> new AssertionError(r.err()));
        assertEquals("error: the model's first logits are not finite (logit 0 is NaN): tensor '" + TENSOR
                + "' holds NaN at element 5 (a corrupt checkpoint)", e);
    }

    @Test
    void trainingDoesNotBlameTheLearningRateForAnInfiniteWeight(@TempDir Path tmp) throws IOException {
        Path model = poisoned(tmp, Float.POSITIVE_INFINITY);
        ModelCommandsTest.Run r = ModelCommandsTest.run("train-sft", "--model", model.toString(), "--data",
                TrainSftCommandTest.DATA.toString(), "--out", tmp.resolve("run").toString(), "--lr", "1e-3", "--steps", "2",
                "--lora-rank", "2");
        assertEquals(1, r.exit(), r.err());
        String e = r.err().lines().filter(l -> l.startsWith("error:")).findFirst().orElseThrow(() -> new AssertionError(r.err()));
        assertTrue(e.contains("step 1: loss NaN") && e.contains("tensor '" + TENSOR + "' holds Infinity at element 5")
                && e.contains("not the learning rate"), e);
        assertFalse(e.contains("Try a lower lr"), e);
    }
}
