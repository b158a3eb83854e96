package dev.laconic.tensor.safetensors;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21, "keep them fixed": seeded mutations of small safetensors files through {@link Checkpoint#open}, every
 * {@link Checkpoint#tensor} and a read of every element. Each input must load or fail with one {@link
 * SafetensorsException} line naming the file; anything else (NullPointerException, ArithmeticException,
 * IndexOutOfBounds, OutOfMemoryError, InternalError, a message over several lines) fails the test with the seed and
 * iteration that reproduce it. CI runs 20,000 inputs (seconds); before a release run more:
 * {@code ./mvnw -B -o -pl tensor -am test -Dtest=SafetensorsFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfuzz.iterations=100000 [-Dfuzz.seed=N]}
 * (it prints how many inputs loaded and how many were refused).
 */
class SafetensorsFuzzTest {
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 20_000);
    static final long SEED = Long.getLong("fuzz.seed", 21L);

    /** Values a hostile header puts where numbers go: the edges of int, long and u64, negatives, huge digit runs. */
    static final String[] NUMBERS = {"0", "1", "-1", "-5", "2147483647", "2147483648", "4294967296", "9223372036854775807",
            "9223372036854775808", "18446744073709551615", "1e400", "0.5", "-0", "1" + "0".repeat(30), "7".repeat(1001)};
    static final String[] SNIPPETS = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "\"dtype\"", "\"shape\"",
            "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"BF16\"", "\"I64\"", "\"x\":1", "[".repeat(200), "\\u0000", "\uFFFF"};

    static List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(Files.readAllBytes(Path.of("src/test/resources/safetensors/hf_reference.safetensors")));
        seeds.add(MalformedSafetensorsTest.file(MalformedSafetensorsTest.BASE, MalformedSafetensorsTest.BASE_DATA));
        seeds.add(MalformedSafetensorsTest.file(MalformedSafetensorsTest.j(
                "{'t':{'dtype':'F32','shape':[2147483647,2147483647,2147483647,0],'data_offsets':[0,0]}}"), 0));
        return seeds;
    }

    /** One to three mutations of a seed: in the header's text, its length field, or the file's bytes and size. */
    static byte[] mutate(byte[] seed, SplittableRandom r) {
        long headerLen = ByteBuffer.wrap(seed, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(seed, 8, (int) headerLen, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(seed, 8 + (int) headerLen, seed.length);
        boolean fixLength = true;
        for (int m = 1 + r.nextInt(3); m > 0; m--) {
            switch (r.nextInt(8)) {
                case 0 -> header = replaceNumber(header, NUMBERS[r.nextInt(NUMBERS.length)], r);
                case 1 -> header = insert(header, SNIPPETS[r.nextInt(SNIPPETS.length)], r);
                case 2 -> header = delete(header, r);
                case 3 -> header = flip(header, r);
                case 4 -> { headerLen = r.nextBoolean() ? headerLen + r.nextInt(-16, 17) : r.nextLong(); fixLength = false; }
                case 5 -> data = Arrays.copyOf(data, r.nextInt(data.length + 16));
                case 6 -> header = header.replace("\"F32\"", r.nextBoolean() ? "\"F16\"" : "\"I32\"");
                default -> header = replaceNumber(header, Integer.toString(r.nextInt(200)), r);
            }
        }
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(fixLength ? h.length : headerLen).put(h).put(data);
        return b.array();
    }

    static String replaceNumber(String s, String with, SplittableRandom r) {
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            if (Character.isDigit(s.charAt(i))) {
                int j = i;
                while (j < s.length() && Character.isDigit(s.charAt(j))) j++;
                spans.add(new int[]{i, j});
                i = j;
            } else i++;
        }
        if (spans.isEmpty()) return s;
        int[] sp = spans.get(r.nextInt(spans.size()));
        return s.substring(0, sp[0]) + with + s.substring(sp[1]);
    }

    static String insert(String s, String what, SplittableRandom r) {
        int at = r.nextInt(s.length() + 1);
        return s.substring(0, at) + what + s.substring(at);
    }

    static String delete(String s, SplittableRandom r) {
        if (s.isEmpty()) return s;
        int at = r.nextInt(s.length()), n = 1 + r.nextInt(Math.min(12, s.length() - at));
        return s.substring(0, at) + s.substring(at + n);
    }

    static String flip(String s, SplittableRandom r) {
        if (s.isEmpty()) return s;
        char[] c = s.toCharArray();
        c[r.nextInt(c.length)] = (char) r.nextInt(32, 127);
        return new String(c);
    }

    /** Opens, takes every tensor and reads every element; returns whether it loaded, throws what is not a clean refusal. */
    static boolean load(Path file) {
        try (Checkpoint ck = Checkpoint.open(file)) {
            for (String name : ck.names()) {
                Tensor t = ck.tensor(name);
                for (long i = 0; i < t.numel(); i++) if (t.dtype() == DType.I32) t.getInt(i); else t.getFloat(i);
                assertEquals(t.numel(), ck.entry(name).numel());
            }
            return true;
        } catch (SafetensorsException e) {
            if (!e.getMessage().startsWith(file + ": ") || e.getMessage().contains("\n"))
                throw new AssertionError("not one line naming the file: " + e.getMessage(), e);
            return false;
        }
    }

    @Test
    void everyMutatedFileLoadsOrIsRefusedInOneLineNamingIt(@TempDir Path dir) throws IOException {
        List<byte[]> seeds = seeds();
        SplittableRandom r = new SplittableRandom(SEED);
        Path file = dir.resolve("fuzz.safetensors");
        int loaded = 0, refused = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = mutate(seeds.get(r.nextInt(seeds.size())), r);
            Files.write(file, input);
            try {
                if (load(file)) loaded++;
                else refused++;
            } catch (Throwable t) {
                Path kept = dir.resolve("failure.safetensors");
                Files.write(kept, input);
                throw new AssertionError("seed " + SEED + ", input " + i + " (" + input.length + " bytes): " + t, t);
            }
        }
        System.out.printf("safetensors fuzz: seed %d, %d inputs: %d loaded, %d refused in one line, 0 other faults%n",
                SEED, ITERATIONS, loaded, refused);
        assertEquals(ITERATIONS, loaded + refused);
        assertTrue(loaded > 0 && refused > ITERATIONS / 2, "the mutations reach both sides: " + loaded + " / " + refused);
    }
}
