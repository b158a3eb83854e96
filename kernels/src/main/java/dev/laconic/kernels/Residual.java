package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The residual connection x += y on FloatVector lanes (llm.c's residual_forward). A lane-wise add
 * rounds exactly as the scalar one, so the result is the F32 sum, bit for bit, on any machine.
 * Memory-bound: large tensors (prefill, training) split into chunks across threads, a decode row
 * runs on the caller.
 */
final class Residual {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    /** Elements per parallel chunk (a multiple of L): 64 KiB of each operand. */
    private static final int CHUNK = 16_384;

    private Residual() {}

    /** x[N] += y[N]. */
    static void add(Tensor x, Tensor y) {
        if (x.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("too large: " + x);
        int n = (int) x.numel();
        FloatView.requireF32(x, n, "x");
        if (y.numel() != n) throw new IllegalArgumentException("y is " + y + ", expected " + n + " elements like x " + x);
        FloatView xv = FloatView.update(x), yv = FloatView.read(y);
        float[] xa = xv.a(), ya = yv.a();
        int xo = xv.off(), yo = yv.off();
        Parallel.forChunks(n, CHUNK, (from, to) -> {
            int i = from;
            for (int bound = from + SP.loopBound(to - from); i < bound; i += L)
                FloatVector.fromArray(SP, xa, xo + i).add(FloatVector.fromArray(SP, ya, yo + i)).intoArray(xa, xo + i);
            for (; i < to; i++) xa[xo + i] += ya[yo + i];
        });
        xv.commit();
    }
}
