package dev.laconic.tensor.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The writer. Hugging Face compatibility is checked outside Java: laconic_written.safetensors (committed)
 * is what this writer makes of hf_reference.safetensors' tensors, and tools/make_safetensors_fixtures.py
 * loads it with Hugging Face's safetensors and compares. {@link #matchesFileVerifiedByHuggingFace} keeps
 * that file honest: the writer must still produce it byte for byte.
 */
class SafetensorsWriterTest {

    @Test
    void matchesFileVerifiedByHuggingFace(@TempDir Path dir) throws IOException {
        boolean regenerate = Boolean.getBoolean("laconic.regenerate");
        Path out = regenerate
                ? Path.of("src/test/resources/safetensors/laconic_written.safetensors") // run from tensor/
                : dir.resolve("ours.safetensors");
        Path committed = regenerate ? out
                : SafetensorsReaderTest.resource("hf_reference.safetensors").resolveSibling("laconic_written.safetensors");
        try (Checkpoint hf = Checkpoint.open(SafetensorsReaderTest.resource("hf_reference.safetensors"))) {
            Map<String, Tensor> tensors = new HashMap<>();
            for (String n : hf.names()) tensors.put(n, hf.tensor(n));
            SafetensorsWriter.write(out, tensors, hf.metadata());
        }
        assertArrayEquals(Files.readAllBytes(committed), Files.readAllBytes(out),
                "writer output changed: regenerate with -Dlaconic.regenerate=true and re-run tools/make_safetensors_fixtures.py --verify");
    }

    @Test
    void roundTripsEveryDtypeBitExactly(@TempDir Path dir) {
        Random rnd = new Random(11);
        Map<String, Tensor> in = new HashMap<>();
        in.put("w.f32", random(rnd, DType.F32, 3, 5));
        in.put("w.bf16", random(rnd, DType.BF16, 7, 3));
        in.put("w.f16", random(rnd, DType.F16, 2, 2, 3));
        in.put("ids", Tensor.ofInts(new int[]{Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE}, 5));
        in.put("scalar", Tensor.of(new float[]{Float.NaN}));
        in.put("empty", Tensor.zeros(DType.BF16, 0, 4));
        in.put("odd", random(rnd, DType.BF16, 3)); // 6 bytes: later tensors start unaligned
        in.put("z.after.odd", random(rnd, DType.F32, 3));
        Map<String, String> md = Map.of("format", "pt", "unicode", "\u00e9\u2713", "quote", "a\"b\\c\nd");
        Path file = dir.resolve("m.safetensors");
        SafetensorsWriter.write(file, in, md);
        try (Checkpoint ck = Checkpoint.open(file)) {
            assertEquals(in.keySet().stream().sorted().toList(), List.copyOf(ck.names()));
            assertEquals(md, ck.metadata());
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor got = ck.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), got.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
                assertArrayEquals(bytes(e.getValue()), bytes(got), e.getKey());
            }
        }
    }

    @Test
    void headerIsAlignedSortedAndContiguous(@TempDir Path dir) throws IOException {
        Map<String, Tensor> in = new HashMap<>();
        for (String n : List.of("b", "a.2", "a.10", "c")) in.put(n, Tensor.zeros(DType.BF16, n.length()));
        Path file = dir.resolve("m.safetensors");
        SafetensorsWriter.write(file, in, Map.of("k", "v"));
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(raw, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.stripTrailing().endsWith("}") && header.length() - header.stripTrailing().length() < 8);
        JsonNode root = SafetensorsReaderTest.JSON.readTree(header);
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("__metadata__", "a.10", "a.2", "b", "c"), keys);
        long pos = 0;
        for (String k : keys.subList(1, keys.size())) {
            assertEquals(pos, root.get(k).get("data_offsets").get(0).asLong(), k);
            pos = root.get(k).get("data_offsets").get(1).asLong();
        }
        assertEquals(raw.length - 8 - n, pos);
    }

    @Test
    void replacesAtomicallyEvenWhenSourceIsTheMappedTarget(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.of(new float[]{1, 2, 3}, 3)), Map.of());
        try (Checkpoint ck = Checkpoint.open(file)) {
            // rewrite the file from its own mapped tensor plus a new one
            SafetensorsWriter.write(file, Map.of("x", ck.tensor("x"), "y", Tensor.of(new float[]{4}, 1)), Map.of());
            assertArrayEquals(new float[]{1, 2, 3}, ck.tensor("x").toFloatArray(), "old mapping still valid");
        }
        try (Checkpoint ck = Checkpoint.open(file)) {
            assertEquals(List.of("x", "y"), List.copyOf(ck.names()));
            assertArrayEquals(new float[]{1, 2, 3}, ck.tensor("x").toFloatArray());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temp files left behind");
        }
    }

    @Test
    void failedWriteLeavesTargetAndNoTempFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.of(new float[]{1}, 1)), Map.of());
        byte[] before = Files.readAllBytes(file);
        Map<String, String> badMetadata = new HashMap<>();
        badMetadata.put("k", null);
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(file, Map.of("y", Tensor.of(new float[]{2}, 1)), badMetadata));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(file, Map.of("__metadata__", Tensor.of(new float[]{2}, 1)), Map.of()));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    static Tensor random(Random rnd, DType dtype, int... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }

    static byte[] bytes(Tensor t) {
        return t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    @Test
    void bytesHelperSeesElementOrder() {
        // guards the comparison above: equal tensors give equal bytes, a changed element does not
        Tensor a = Tensor.of(new float[]{1, 2}, 2), b = Tensor.of(new float[]{1, 3}, 2);
        assertFalse(Arrays.equals(bytes(a), bytes(b)));
    }
}
