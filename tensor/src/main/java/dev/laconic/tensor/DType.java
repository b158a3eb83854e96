package dev.laconic.tensor;

/**
 * Element types a {@link Tensor} can hold, with their safetensors names.
 *
 * <p>BF16 and F16 conversions follow IEEE-754: round to nearest, ties to even; NaN stays NaN
 * (quiet, sign kept) and infinities stay infinite. BF16 is the top half of an F32, so widening is a
 * 16-bit shift, which is how the kernels read memory-mapped BF16 weights.
 *
 * <p>{@link #Q8_0} is block-quantised, not an element type: see {@link Q8} for its layout. Its
 * {@link #bytes} is the int8 payload per element; {@link #byteSize} counts the scales too.
 */
public enum DType {
    F32(4, "F32"),
    BF16(2, "BF16"),
    F16(2, "F16"),
    I32(4, "I32"),
    /** 8-bit weights in blocks of 32 with one F16 scale each (llama.cpp's Q8_0): {@link Q8}. Never in a safetensors header. */
    Q8_0(1, null);

    public final int bytes;
    public final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** The dtype with this safetensors name, or null when Laconic does not support it. */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) if (d.safetensorsName != null && d.safetensorsName.equals(name)) return d;
        return null;
    }

    /** Bytes that {@code numel} elements take: numel·bytes, or for Q8_0 whole blocks of {@value Q8#BLOCK} with their scales. */
    public long byteSize(long numel) {
        if (this != Q8_0) return Math.multiplyExact(numel, (long) bytes);
        if (numel % Q8.BLOCK != 0)
            throw new IllegalArgumentException("Q8_0 holds whole blocks of " + Q8.BLOCK + " elements, not " + numel);
        return numel / Q8.BLOCK * Q8.BLOCK_BYTES;
    }

    public boolean isFloat() {
        return this != I32;
    }

    // ---- BF16 <-> F32 ------------------------------------------------------------------------

    /** bf16 bits -> f32: the bf16 bits are the high half of the f32 bits. Exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * f32 -> bf16 bits, round to nearest even: add 0x7FFF plus the lowest kept bit, then truncate.
     * NaN is kept as a quiet NaN with its sign (the rounding add could otherwise carry it into Inf).
     */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (short) ((x >>> 16) | 0x0040);
        int lsb = (x >>> 16) & 1;
        return (short) ((x + 0x7FFF + lsb) >>> 16);
    }

    // ---- F16 <-> F32 (IEEE binary16; the JDK's Float methods round to nearest even) -------------

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
