package dev.laconic.tensor.safetensors;

import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The malformed-file corpus, generated from one valid base file. Each case must raise a
 * {@link SafetensorsException} whose message names the file at fault and carries the expected reason
 * (and, where one is involved, names the tensor), with nothing left mapped.
 */
class MalformedSafetensorsTest {

    /** Makes the broken input under {@code dir}; returns the path handed to {@link Checkpoint#open}. */
    interface Maker {
        Path make(Path dir) throws IOException;
    }

    /** blamed: the file name the message must contain; tensor: the tensor it must name (null: none checked). */
    record Case(String name, Maker maker, String blamed, String tensor, String keyword) {
        @Override
        public String toString() { return name; }
    }

    // The valid base: F32 [2, 3] at [0, 24) and BF16 [4] at [24, 32) in a 32-byte data area.
    static final String BASE = j("{'__metadata__':{'format':'pt'},"
            + "'a':{'dtype':'F32','shape':[2,3],'data_offsets':[0,24]},"
            + "'b':{'dtype':'BF16','shape':[4],'data_offsets':[24,32]}}");
    static final int BASE_DATA = 32;

    static String j(String s) { return s.replace('\'', '"'); }

    static byte[] file(long headerLen, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(header);
        for (int i = 0; i < dataBytes; i++) b.put((byte) i);
        return b.array();
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, dataBytes);
    }

    /** The base with one substring of its header replaced. */
    static byte[] base(String from, String to, int dataBytes) {
        String h = BASE.replace(j(from), j(to));
        if (h.equals(BASE)) throw new IllegalArgumentException("no change: " + from);
        return file(h, dataBytes);
    }

    /** {@code depth} nested JSON arrays: {@code [[...]]}. */
    static String nested(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    static Case single(String name, byte[] bytes, String tensor, String keyword) {
        String fname = name + ".safetensors";
        return new Case(name, dir -> Files.write(dir.resolve(fname), bytes), fname, tensor, keyword);
    }

    static Case replace(String name, String from, String to, String tensor, String keyword) {
        return single(name, base(from, to, BASE_DATA), tensor, keyword);
    }

    static final String S1 = "model-00001-of-00002.safetensors", S2 = "model-00002-of-00002.safetensors";

    /** Two valid shards (x, y in S1; z in S2) and an index with the given weight_map body. */
    static Case sharded(String name, String weightMap, String blamed, String tensor, String keyword) {
        return new Case(name, dir -> {
            SafetensorsWriter.write(dir.resolve(S1), Map.of("x", Tensor.of(new float[]{1}, 1), "y", Tensor.of(new float[]{2}, 1)), Map.of());
            SafetensorsWriter.write(dir.resolve(S2), Map.of("z", Tensor.of(new float[]{3}, 1)), Map.of());
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), j("{'metadata':{'total_size':12},'weight_map':{" + weightMap + "}}"));
            return dir;
        }, blamed, tensor, keyword);
    }

    static final String GOOD_MAP = "'x':'" + S1 + "','y':'" + S1 + "','z':'" + S2 + "'";

    static List<Case> corpus() {
        List<Case> c = new ArrayList<>();
        // ---- framing: the 8-byte length and the header's extent
        c.add(single("empty", new byte[0], null, "shorter than the 8-byte header length"));
        c.add(single("five_bytes", new byte[]{1, 2, 3, 4, 5}, null, "shorter than the 8-byte header length"));
        c.add(single("header_length_past_eof", file(1000, BASE.getBytes(StandardCharsets.UTF_8), BASE_DATA), null,
                "reaches past the end of the file"));
        c.add(single("huge_header_length", file(Long.MAX_VALUE, BASE.getBytes(StandardCharsets.UTF_8), BASE_DATA), null,
                "over the 100000000-byte limit"));
        c.add(single("u64_max_header_length", file(-1L, BASE.getBytes(StandardCharsets.UTF_8), BASE_DATA), null,
                "18446744073709551615 is over"));
        c.add(new Case("header_length_over_limit_in_big_file", dir -> {
            Path p = dir.resolve("big.safetensors");
            try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
                raf.write(file(SafetensorsFile.MAX_HEADER_BYTES + 1, new byte[0], 0));
                raf.setLength(SafetensorsFile.MAX_HEADER_BYTES + 100); // sparse: the length fits the file but not the limit
            }
            return p;
        }, "big.safetensors", null, "over the 100000000-byte limit"));
        c.add(single("zero_header_length", file(0, new byte[0], BASE_DATA), null, "not a JSON object"));
        // ---- JSON
        c.add(single("bad_json", file(BASE.substring(0, 50), BASE_DATA), null, "invalid JSON"));
        c.add(single("header_is_array", file("[1, 2, 3]", 0), null, "not a JSON object"));
        c.add(single("leading_space", file(" " + BASE, BASE_DATA), null, "not a JSON object"));
        c.add(single("trailing_garbage", file(BASE + "x", BASE_DATA), null, "invalid JSON"));
        c.add(single("second_json_value", file(BASE + "{}", BASE_DATA), null, "trailing content"));
        byte[] bad = BASE.getBytes(StandardCharsets.UTF_8);
        bad[BASE.indexOf("\"a\"") + 1] = (byte) 0xC3; // a lone UTF-8 lead byte followed by '"'
        c.add(single("invalid_utf8", file(bad.length, bad, BASE_DATA), null, "invalid JSON"));
        // Jackson's stream limits (issue 21: these ended in a NullPointerException): nesting past Hugging Face's
        // (it loads 127 levels, counting the header object, and refuses 128), a number of more than 1,000 digits
        c.add(replace("nesting_128", "'data_offsets':[24,32]}", "'data_offsets':[24,32],'x':" + nested(126) + "}", null,
                "nested deeper than 127"));
        c.add(replace("nesting_1001", "'data_offsets':[24,32]}", "'data_offsets':[24,32],'x':" + nested(999) + "}", null,
                "nested deeper than 127"));
        c.add(replace("number_of_1001_digits", "'data_offsets':[24,32]}", "'data_offsets':[24,32],'x':1" + "0".repeat(1000) + "}",
                null, "longer than 1000 characters"));
        c.add(replace("duplicate_names", "'b':{", "'a':{", null, "duplicate"));
        c.add(replace("duplicate_key_in_entry", "'dtype':'BF16'", "'dtype':'BF16','dtype':'F16'", "b", "duplicate"));
        c.add(replace("entry_not_object", "'b':{'dtype':'BF16','shape':[4],'data_offsets':[24,32]}", "'b':5", "b", "not a JSON object"));
        // ---- dtype
        c.add(replace("unknown_dtype", "'BF16'", "'Q7'", "b", "unknown dtype 'Q7'"));
        c.add(replace("unsupported_dtype_f64", "'dtype':'F32','shape':[2,3]", "'dtype':'F64','shape':[3]", "a", "unsupported dtype F64"));
        c.add(replace("unsupported_dtype_bool", "'BF16','shape':[4]", "'BOOL','shape':[8]", "b", "unsupported dtype BOOL"));
        c.add(replace("missing_dtype", "'dtype':'BF16',", "", "b", "missing dtype"));
        c.add(replace("dtype_not_string", "'BF16'", "16", "b", "dtype must be a string"));
        // ---- shape
        c.add(replace("missing_shape", "'shape':[4],", "", "b", "missing shape"));
        c.add(replace("shape_size_mismatch", "[2,3]", "[2,2]", "a", "needs 16 bytes but data_offsets [0, 24) hold 24"));
        c.add(replace("negative_dim", "[2,3]", "[-2,-3]", "a", "negative value -2"));
        c.add(replace("fractional_dim", "[2,3]", "[2.0,3]", "a", "integers only"));
        c.add(replace("string_dim", "[2,3]", "['2',3]", "a", "integers only"));
        c.add(replace("shape_not_array", "[2,3]", "6", "a", "shape must be an array"));
        c.add(replace("dim_over_int", "[2,3]", "[4294967296,0]", "a", "too large"));
        c.add(replace("shape_product_overflows", "[2,3]", "[2147483647,2147483647,2147483647,2147483647]", "a",
                "overflows"));
        c.add(replace("shape_product_overflows_then_zero", "'shape':[2,3],'data_offsets':[0,24]",
                "'shape':[2147483647,2147483647,2147483647,0],'data_offsets':[0,0]", "a", "overflows")); // HF: overflow computing buffer size
        c.add(replace("rank_over_64", "[4]", "[4" + ",1".repeat(64) + "]", "b", "more than 64 entries"));
        // ---- offsets
        c.add(replace("missing_offsets", ",'data_offsets':[24,32]", "", "b", "missing data_offsets"));
        c.add(replace("non_numeric_offsets", "[24,32]", "['24','32']", "b", "integers only"));
        c.add(replace("negative_offsets", "[24,32]", "[-8,0]", "b", "negative value -8"));
        c.add(replace("bigint_offsets", "[24,32]", "[24,99999999999999999999999]", "b", "too large"));
        c.add(replace("one_offset", "[24,32]", "[24]", "b", "two integers"));
        c.add(replace("three_offsets", "[24,32]", "[24,32,40]", "b", "more than 2 entries"));
        c.add(replace("offsets_backwards", "'shape':[4],'data_offsets':[24,32]", "'shape':[0],'data_offsets':[32,24]", "b",
                "run backwards"));
        c.add(replace("offsets_out_of_range", "'shape':[4],'data_offsets':[24,32]", "'shape':[8],'data_offsets':[24,40]", "b",
                "reach past the end of the data area (32 bytes)"));
        c.add(single("truncated_data", file(BASE, BASE_DATA - 4), "b", "reach past the end of the data area (28 bytes)"));
        c.add(replace("overlapping_offsets", "'shape':[4],'data_offsets':[24,32]", "'shape':[4],'data_offsets':[20,28]", "b",
                "overlap tensor 'a'"));
        c.add(single("gap_in_data", base("'shape':[4],'data_offsets':[24,32]", "'shape':[4],'data_offsets':[28,36]", 36), "b",
                "gap of 4 bytes"));
        c.add(single("uncovered_tail", file(BASE, BASE_DATA + 8), null, "last 8 bytes of the data area (40 bytes) are not covered"));
        // ---- __metadata__
        c.add(replace("metadata_not_object", "{'format':'pt'}", "'pt'", null, "__metadata__ must be an object"));
        c.add(replace("metadata_value_number", "{'format':'pt'}", "{'format':1}", null, "__metadata__ value for key 'format'"));
        c.add(replace("metadata_value_object", "{'format':'pt'}", "{'format':{}}", null, "__metadata__ value for key 'format'"));
        // ---- sharded checkpoints
        c.add(sharded("missing_shard", GOOD_MAP + ",'w':'model-00003-of-00003.safetensors'", Checkpoint.INDEX_FILE, "w",
                "shard file 'model-00003-of-00003.safetensors' is missing"));
        c.add(sharded("index_names_absent_tensor", GOOD_MAP + ",'w':'" + S2 + "'", Checkpoint.INDEX_FILE, "w",
                "not found in that shard"));
        c.add(sharded("index_names_wrong_shard", "'x':'" + S1 + "','y':'" + S2 + "','z':'" + S2 + "'", Checkpoint.INDEX_FILE, "y",
                "index says shard '" + S2 + "' but the tensor is in shard '" + S1 + "'"));
        c.add(sharded("tensor_missing_from_index", "'x':'" + S1 + "','z':'" + S2 + "'", S1, "y", "not listed"));
        c.add(sharded("shard_outside_directory", GOOD_MAP + ",'w':'../elsewhere.safetensors'", Checkpoint.INDEX_FILE, "w",
                "outside the checkpoint directory"));
        c.add(sharded("weight_map_value_not_string", GOOD_MAP + ",'w':3", Checkpoint.INDEX_FILE, "w", "shard file name"));
        c.add(sharded("index_duplicate_name", GOOD_MAP + ",'x':'" + S2 + "'", Checkpoint.INDEX_FILE, null, "duplicate"));
        c.add(new Case("tensor_in_two_shards", dir -> {
            SafetensorsWriter.write(dir.resolve(S1), Map.of("x", Tensor.of(new float[]{1}, 1)), Map.of());
            SafetensorsWriter.write(dir.resolve(S2), Map.of("x", Tensor.of(new float[]{1}, 1), "z", Tensor.of(new float[]{3}, 1)), Map.of());
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), j("{'weight_map':{'x':'" + S1 + "','z':'" + S2 + "'}}"));
            return dir;
        }, S2, "x", "tensor is in both shard '" + S1 + "' and shard '" + S2 + "'"));
        c.add(new Case("malformed_shard", dir -> {
            SafetensorsWriter.write(dir.resolve(S1), Map.of("x", Tensor.of(new float[]{1}, 1), "y", Tensor.of(new float[]{2}, 1)), Map.of());
            Files.write(dir.resolve(S2), base("'BF16'", "'Q7'", BASE_DATA));
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), j("{'weight_map':{" + GOOD_MAP + "}}"));
            return dir;
        }, S2, "b", "unknown dtype"));
        c.add(new Case("index_bad_json", dir -> {
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), "{\"weight_map\": {");
            return dir;
        }, Checkpoint.INDEX_FILE, null, "invalid JSON in index"));
        c.add(new Case("index_without_weight_map", dir -> {
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), "{\"metadata\": {}}");
            return dir;
        }, Checkpoint.INDEX_FILE, null, "no weight_map"));
        c.add(new Case("index_is_array", dir -> {
            Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), "[]");
            return dir;
        }, Checkpoint.INDEX_FILE, null, "not a JSON object"));
        // ---- paths
        c.add(new Case("directory_without_model", dir -> {
            Path d = Files.createDirectory(dir.resolve("nomodel"));
            Files.writeString(d.resolve("config.json"), "{}");
            return d;
        }, "nomodel", null, "no model.safetensors or model.safetensors.index.json"));
        c.add(new Case("no_such_path", dir -> dir.resolve("absent.safetensors"), "absent.safetensors", null, "no such file"));
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void malformedInputIsRejectedWithFileTensorAndReason(Case c, @TempDir Path dir) throws IOException {
        Path target = c.maker().make(dir);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Checkpoint.open(target).close(), c.name());
        String msg = e.getMessage();
        assertTrue(msg.contains(c.blamed()), "message must name " + c.blamed() + ": " + msg);
        assertTrue(msg.toLowerCase(Locale.ROOT).contains(c.keyword().toLowerCase(Locale.ROOT)),
                "message must say '" + c.keyword() + "': " + msg);
        assertFalse(msg.contains("\n"), "one line: " + msg);
        if (c.tensor() != null) {
            assertEquals(c.tensor(), e.tensor(), msg);
            assertTrue(msg.contains("'" + c.tensor() + "'"), msg);
        }
        assertNothingMapped(dir);
    }

    @Test
    void corpusIsLargeAndTheBaseIsValid(@TempDir Path dir) throws IOException {
        assertTrue(corpus().size() >= 20);
        Path p = dir.resolve("base.safetensors");
        Files.write(p, file(BASE, BASE_DATA));
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals(List.of("a", "b"), List.copyOf(ck.names()));
            assertEquals(Map.of("format", "pt"), ck.metadata());
            assertEquals(Float.intBitsToFloat(0x03020100), ck.tensor("a").getFloat(0)); // data bytes 0, 1, 2, ...
        }
        Path shards = Files.createDirectory(dir.resolve("sharded"));
        sharded("valid", GOOD_MAP, "", null, "").maker().make(shards);
        try (Checkpoint ck = Checkpoint.open(shards)) {
            assertEquals(List.of("x", "y", "z"), List.copyOf(ck.names()));
        }
    }

    /**
     * What Hugging Face's reader loads, Laconic loads: a 60,000-character tensor name and a 20,000,001-character
     * metadata value (past Jackson's default name and string limits, under the 100 MB header limit) and JSON nested
     * 127 levels deep (HF's limit) in a key the format does not define.
     */
    @Test
    void longNamesLongMetadataAndDeepUnknownKeysLoadAsInHuggingFace(@TempDir Path dir) throws IOException {
        String name = "n".repeat(60_000), value = "v".repeat(20_000_001);
        Path p = dir.resolve("long.safetensors");
        Files.write(p, base("{'format':'pt'}", "{'format':'" + value + "'}", BASE_DATA));
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals(value, ck.metadata().get("format"));
        }
        Files.write(p, base("'b':{", "'" + name + "':{", BASE_DATA));
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals(4, ck.tensor(name).numel());
        }
        Files.write(p, base("'data_offsets':[24,32]}", "'data_offsets':[24,32],'x':" + nested(125) + "}", BASE_DATA));
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals(2, ck.size());
        }
    }

    /**
     * A failed open must unmap everything it mapped (the checkpoint-with-two-shards cases map both
     * shards before failing). Linux only: /proc/self/maps lists every mapped file.
     */
    static void assertNothingMapped(Path dir) throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return;
        String prefix = dir.toRealPath().toString();
        List<String> lines = Files.readAllLines(maps).stream().filter(l -> l.contains(prefix)).toList();
        assertEquals(List.of(), lines, "still mapped after a failed open: " + Arrays.toString(lines.toArray()));
    }

    @Test
    void nothingMappedCheckCanFail(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("base.safetensors");
        Files.write(p, file(BASE, BASE_DATA));
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals(2, ck.size());
            if (Files.isReadable(Path.of("/proc/self/maps")))
                assertThrows(AssertionError.class, () -> assertNothingMapped(dir));
        }
        assertNothingMapped(dir);
    }
}
