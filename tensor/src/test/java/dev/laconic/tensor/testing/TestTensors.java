package dev.laconic.tensor.testing;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Shape;
import dev.laconic.tensor.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared test helpers for op tests (reused by the kernels module through the tensor test-jar):
 * seeded random tensors, NaN poisoning of outputs, and a tolerance assert that reports the worst
 * element.
 *
 * <p>Tolerance convention (the same as in {@code Ops}): element i passes when
 * {@code |expected[i] − actual[i]| ≤ atol + rtol·|expected[i]|}. A NaN or infinite actual value
 * where the expected one is finite always fails, so an output that a kernel forgot to write (left
 * poisoned) is caught.
 */
public final class TestTensors {
    private TestTensors() {}

    // ---- random tensors -------------------------------------------------------------------------

    /** An F32 heap tensor of N(0,1) samples; the same seed and shape give the same values. */
    public static Tensor randn(long seed, int... shape) {
        return Tensor.of(randnArray(seed, (int) Shape.numel(shape)), shape);
    }

    /** A BF16 heap tensor of N(0,1) samples rounded to BF16 (nearest even). */
    public static Tensor randnBf16(long seed, int... shape) {
        return randn(seed, shape).to(DType.BF16);
    }

    /** An F16 heap tensor of N(0,1) samples rounded to F16 (nearest even). */
    public static Tensor randnF16(long seed, int... shape) {
        return randn(seed, shape).to(DType.F16);
    }

    /**
     * An F32 tensor of N(0,1)·scale samples. Note the float: randn(seed, 2f, 3) is scale 2 and shape [3],
     * while randn(seed, 2, 3) is shape [2,3].
     */
    public static Tensor randn(long seed, float scale, int... shape) {
        float[] a = randnArray(seed, (int) Shape.numel(shape));
        for (int i = 0; i < a.length; i++) a[i] *= scale;
        return Tensor.of(a, shape);
    }

    /** An F32 tensor of uniform samples in [lo, hi). */
    public static Tensor uniform(long seed, float lo, float hi, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[(int) Shape.numel(shape)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return Tensor.of(a, shape);
    }

    /** n N(0,1) floats (Box–Muller on a SplittableRandom, so the sequence is fixed by the seed). */
    public static float[] randnArray(long seed, int n) {
        return toFloat(randnDoubles(seed, n));
    }

    /** n N(0,1) doubles, same sequence as {@link #randnArray} before rounding to float. */
    public static double[] randnDoubles(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[n];
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();   // u1 in (0,1]: log is finite
            double rad = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
            a[i] = rad * Math.cos(th);
            if (i + 1 < n) a[i + 1] = rad * Math.sin(th);
        }
        return a;
    }

    /** n token ids uniform in [0, vocab). */
    public static int[] randomIds(long seed, int n, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    // ---- poison ---------------------------------------------------------------------------------

    /** Fills a float tensor with NaN, so any element an op fails to write shows up in assertClose. */
    public static void poison(Tensor t) {
        t.fill(Float.NaN);
    }

    /** A new F32 tensor of this shape filled with NaN (an output buffer for parity tests). */
    public static Tensor poisoned(int... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        poison(t);
        return t;
    }

    // ---- comparison -----------------------------------------------------------------------------

    /**
     * Asserts |expected − actual| ≤ atol + rtol·|expected| element-wise (tensors of any float dtype
     * with the same number of elements). On failure the message names {@code what}, the number of
     * failing elements, the worst one (by excess over its tolerance) with its multi-index, and the
     * max absolute error.
     */
    public static void assertClose(Tensor expected, Tensor actual, double atol, double rtol, String what) {
        if (expected.numel() != actual.numel())
            fail(what + ": expected " + expected + " but got " + actual + " (different sizes)");
        Mismatch m = Mismatch.find(toDouble(expected), toDouble(actual), atol, rtol);
        if (m != null) fail(what + " " + m.describe(expected.shape()));
    }

    /** {@link #assertClose(Tensor, Tensor, double, double, String)} on float arrays. */
    public static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertClose(toDouble(expected), toDouble(actual), atol, rtol, what);
    }

    /** {@link #assertClose(Tensor, Tensor, double, double, String)} on double arrays. */
    public static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        if (expected.length != actual.length)
            fail(what + ": expected " + expected.length + " elements, got " + actual.length);
        Mismatch m = Mismatch.find(expected, actual, atol, rtol);
        if (m != null) fail(what + " " + m.describe(new int[]{expected.length}));
    }

    /** The failing elements of one comparison: how many, the worst (largest err/tolerance), max |err|. */
    private record Mismatch(int bad, int n, int worst, double expected, double actual, double maxAbs,
                            double atol, double rtol) {
        static Mismatch find(double[] e, double[] a, double atol, double rtol) {
            int bad = 0, worst = -1;
            double worstExcess = 0, maxAbs = 0;
            for (int i = 0; i < e.length; i++) {
                double err = Math.abs(e[i] - a[i]), tol = atol + rtol * Math.abs(e[i]);
                // A finite expected value needs a finite actual one; NaN/Inf expected must match exactly.
                boolean ok = Double.isFinite(e[i]) ? Double.isFinite(a[i]) && err <= tol : Double.compare(e[i], a[i]) == 0;
                if (Double.isFinite(err)) maxAbs = Math.max(maxAbs, err);
                if (!ok) {
                    bad++;
                    double excess = Double.isFinite(err) ? err / tol : Double.POSITIVE_INFINITY;
                    if (worst < 0 || excess > worstExcess) { worst = i; worstExcess = excess; }
                }
            }
            return bad == 0 ? null : new Mismatch(bad, e.length, worst, e[worst], a[worst], maxAbs, atol, rtol);
        }

        String describe(int[] shape) {
            return Arrays.toString(shape) + ": " + bad + " of " + n + " elements outside atol=" + atol + " rtol=" + rtol
                    + "; worst at " + Arrays.toString(unravel(worst, shape)) + " (flat " + worst + "): expected "
                    + expected + ", actual " + actual + "; max abs err " + maxAbs;
        }
    }

    /** The multi-index of flat row-major index i in shape. */
    public static int[] unravel(long i, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 0) return idx;
            idx[d] = (int) (i % shape[d]);
            i /= shape[d];
        }
        return idx;
    }

    // ---- conversions ----------------------------------------------------------------------------

    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** The elements of any float tensor, widened to double. */
    public static double[] toDouble(Tensor t) {
        return toDouble(t.toFloatArray());
    }
}
