package dev.laconic.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * BF16/F16 conversions against torch (goldens from tools/make_safetensors_fixtures.py, which also
 * cross-checks torch against numpy and an integer-rounding formula). An edge-case table is compared
 * element by element; large input sets (every 16-bit pattern, a rounding tie at every bf16 and f16
 * position, 2^20 random bit patterns) are regenerated here and compared through SHA-256 digests of
 * torch's outputs. NaN outputs are canonicalised on both sides (torch drops a bf16 NaN's sign; we
 * keep sign and quietness, checked separately).
 */
class DTypeTest {
    static JsonNode goldens;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = DTypeTest.class.getResourceAsStream("/safetensors/dtype_goldens.json")) {
            goldens = JsonMapper.builder().build().readTree(in);
        }
    }

    static int bf16(float f) { return DType.floatToBf16(f) & 0xFFFF; }
    static int f16(float f) { return DType.floatToF16(f) & 0xFFFF; }
    static boolean isNaN16(int bits, int expMask) { return (bits & expMask) == expMask && (bits & ~expMask & 0x7FFF) != 0; }

    @Test
    void edgeCaseTableMatchesTorch() {
        JsonNode t = goldens.get("table");
        int n = t.get("f32_bits").size();
        assertTrue(n > 40);
        for (int i = 0; i < n; i++) {
            float x = Float.intBitsToFloat((int) t.get("f32_bits").get(i).asLong());
            String at = "input " + x + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ")";
            int wantBf = t.get("bf16_bits").get(i).asInt(), wantF16 = t.get("f16_bits").get(i).asInt();
            if (Float.isNaN(x)) {
                assertTrue(isNaN16(bf16(x), 0x7F80), at);
                assertTrue(isNaN16(f16(x), 0x7C00), at);
                assertTrue(isNaN16(wantBf, 0x7F80) && isNaN16(wantF16, 0x7C00), "torch gives NaN too: " + at);
            } else {
                assertEquals(wantBf, bf16(x), "bf16 of " + at);
                assertEquals(wantF16, f16(x), "f16 of " + at);
            }
        }
    }

    @Test
    void nanKeepsSignAndBecomesQuiet() {
        for (int bits : new int[]{0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0x7F80FFFF}) {
            float x = Float.intBitsToFloat(bits);
            int b = bf16(x), h = f16(x);
            assertTrue(isNaN16(b, 0x7F80) && (b & 0x0040) != 0, "quiet bf16 NaN for 0x" + Integer.toHexString(bits));
            assertEquals(bits >>> 31, b >>> 15, "bf16 NaN sign");
            assertTrue(isNaN16(h, 0x7C00), "f16 NaN for 0x" + Integer.toHexString(bits));
            assertEquals(bits >>> 31, h >>> 15, "f16 NaN sign");
            assertTrue(Float.isNaN(DType.bf16ToFloat((short) b)) && Float.isNaN(DType.f16ToFloat((short) h)));
        }
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFC00, f16(Float.NEGATIVE_INFINITY));
    }

    @Test
    void wideningEvery16BitPatternMatchesTorch() {
        assertEquals(goldens.get("widen_bf16_all_sha256").asText(), digest32(1 << 16, h -> canonF32(DType.bf16ToFloat((short) h))));
        assertEquals(goldens.get("widen_f16_all_sha256").asText(), digest32(1 << 16, h -> canonF32(DType.f16ToFloat((short) h))));
    }

    @Test
    void roundTripsAreExactForEveryNonNaNPattern() {
        for (int h = 0; h < 1 << 16; h++) {
            float b = DType.bf16ToFloat((short) h), f = DType.f16ToFloat((short) h);
            if (!Float.isNaN(b)) assertEquals(h, bf16(b), "bf16 0x" + Integer.toHexString(h));
            if (!Float.isNaN(f)) assertEquals(h, f16(f), "f16 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void tiesAtEveryBf16PositionMatchTorch() {
        float[] xs = ties();
        assertEquals(goldens.get("ties_to_bf16_sha256").asText(), digest16(xs, DTypeTest::canonBf16));
        assertEquals(goldens.get("ties_to_f16_sha256").asText(), digest16(xs, DTypeTest::canonF16));
    }

    @Test
    void tiesAtEveryF16PositionMatchTorch() {
        float[] xs = f16Midpoints();
        assertEquals(goldens.get("f16_midpoints_to_f16_sha256").asText(), digest16(xs, DTypeTest::canonF16));
        assertEquals(goldens.get("f16_midpoints_to_bf16_sha256").asText(), digest16(xs, DTypeTest::canonBf16));
    }

    @Test
    void randomBitPatternsMatchTorch() {
        JsonNode r = goldens.get("random");
        float[] xs = random(r.get("n").asInt(), r.get("seed").asLong());
        assertEquals(goldens.get("random_to_bf16_sha256").asText(), digest16(xs, DTypeTest::canonBf16));
        assertEquals(goldens.get("random_to_f16_sha256").asText(), digest16(xs, DTypeTest::canonF16));
    }

    @Test
    void digestDetectsASingleWrongOutput() {
        // the digest comparisons above can fail: one flipped output bit changes the digest
        float[] xs = ties();
        String good = digest16(xs, DTypeTest::canonBf16);
        String bad = digest16(xs, f -> Float.floatToRawIntBits(f) == 0x3F808000 ? canonBf16(f) ^ 1 : canonBf16(f));
        assertNotEquals(good, bad);
    }

    // ---- the input sets, exactly as the Python script builds them -----------------------------------

    /** hi (sign, exponent, 7 mantissa bits) outer, then low halves around bf16's rounding point. */
    static float[] ties() {
        int[] lows = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
        float[] xs = new float[(1 << 16) * lows.length];
        int k = 0;
        for (int hi = 0; hi < 1 << 16; hi++)
            for (int lo : lows) xs[k++] = Float.intBitsToFloat(hi << 16 | lo);
        return xs;
    }

    /** For each positive finite f16 h: midpoint m to the next value (65536 past the max), m's neighbours, then negated. */
    static float[] f16Midpoints() {
        float[] xs = new float[0x7C00 * 6];
        int k = 0;
        for (int h = 0; h < 0x7C00; h++) {
            double a = Float.float16ToFloat((short) h);
            double b = h == 0x7BFF ? 65536.0 : Float.float16ToFloat((short) (h + 1));
            float m = (float) ((a + b) / 2);
            float[] trio = {m, Math.nextDown(m), Math.nextUp(m)};
            for (float v : trio) xs[k++] = v;
            for (float v : trio) xs[k++] = -v;
        }
        return xs;
    }

    /** splitmix64(seed + (i+1)·golden), the low 32 bits as float bits. */
    static float[] random(int n, long seed) {
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            long z = seed + (i + 1L) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            xs[i] = Float.intBitsToFloat((int) z);
        }
        return xs;
    }

    // ---- canonical outputs and digests -----------------------------------------------------------------

    static int canonBf16(float f) { return Float.isNaN(f) ? 0x7FC0 : bf16(f); }
    static int canonF16(float f) { return Float.isNaN(f) ? 0x7E00 : f16(f); }
    static int canonF32(float f) { return Float.isNaN(f) ? 0x7FC00000 : Float.floatToRawIntBits(f); }

    interface FloatToInt { int apply(float f); }

    static String digest16(float[] xs, FloatToInt conv) {
        ByteBuffer b = ByteBuffer.allocate(xs.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) b.putShort((short) conv.apply(x));
        return sha256(b.array());
    }

    static String digest32(int n, IntUnaryOperator f) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putInt(f.applyAsInt(i));
        return sha256(b.array());
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
