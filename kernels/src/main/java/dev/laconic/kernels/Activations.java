package dev.laconic.kernels;

import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SiLU-gated MLP activation (SwiGLU, Shazeer 2020), element-wise on FloatVector lanes:
 * <pre>
 *   h = silu(g)·u,  silu(g) = g·σ(g),  σ(g) = 1/(1 + e^−g)
 *   dgate = dh·u·σ(g)·(1 + g·(1 − σ(g))),  dup = dh·silu(g)
 * </pre>
 * e^−g overflows to +∞ for g &lt; −88, giving σ = 0 and silu = −0: the limits, never NaN.
 */
final class Activations {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();
    /** Elements per parallel chunk (a multiple of L): about 64 KiB per operand. */
    private static final int CHUNK = 16_384;

    private Activations() {}

    /** h[T,F] = silu(gate[T,F])·up[T,F]. */
    static void swiglu(Tensor gate, Tensor up, Tensor h) {
        int n = size(gate, up);
        FloatView.requireF32(h, n, "h");
        FloatView gv = FloatView.read(gate), uv = FloatView.read(up), hv = FloatView.write(h);
        float[] ga = gv.a(), ua = uv.a(), ha = hv.a();
        int go = gv.off(), uo = uv.off(), ho = hv.off();
        Parallel.forChunks(n, CHUNK, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = SP.indexInRange(i, to);
                FloatVector g = FloatVector.fromArray(SP, ga, go + i, m), u = FloatVector.fromArray(SP, ua, uo + i, m);
                // h = g·σ(g)·u
                g.mul(sigmoid(g)).mul(u).intoArray(ha, ho + i, m);
            }
        });
        hv.commit();
    }

    /** dgate, dup (both [T,F], assigned; either may be null) from dh[T,F]. */
    static void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) {
        int n = size(gate, up);
        if (dh.numel() != n) throw new IllegalArgumentException("dh is " + dh + ", expected " + n + " elements");
        if (dgate == null && dup == null) return;
        if (dgate != null) FloatView.requireF32(dgate, n, "dgate");
        if (dup != null) FloatView.requireF32(dup, n, "dup");
        FloatView gv = FloatView.read(gate), uv = FloatView.read(up), dv = FloatView.read(dh);
        FloatView dgv = dgate == null ? null : FloatView.write(dgate), duv = dup == null ? null : FloatView.write(dup);
        float[] ga = gv.a(), ua = uv.a(), da = dv.a();
        int go = gv.off(), uo = uv.off(), dof = dv.off();
        Parallel.forChunks(n, CHUNK, (from, to) -> {
            for (int i = from; i < to; i += L) {
                VectorMask<Float> m = SP.indexInRange(i, to);
                FloatVector g = FloatVector.fromArray(SP, ga, go + i, m), d = FloatVector.fromArray(SP, da, dof + i, m);
                FloatVector sig = sigmoid(g);
                if (dgv != null) {
                    // dgate = dh·u·σ·(1 + g·(1 − σ))
                    FloatVector u = FloatVector.fromArray(SP, ua, uo + i, m);
                    FloatVector slope = g.mul(sig.neg().add(1f)).add(1f);
                    d.mul(u).mul(sig).mul(slope).intoArray(dgv.a(), dgv.off() + i, m);
                }
                // dup = dh·g·σ
                if (duv != null) d.mul(g).mul(sig).intoArray(duv.a(), duv.off() + i, m);
            }
        });
        if (dgv != null) dgv.commit();
        if (duv != null) duv.commit();
    }

    /** σ(g) = 1/(1 + e^−g). */
    private static FloatVector sigmoid(FloatVector g) {
        return FloatVector.broadcast(SP, 1f).div(VectorMath.exp(g.neg()).add(1f));
    }

    private static int size(Tensor gate, Tensor up) {
        if (gate.numel() != up.numel()) throw new IllegalArgumentException("gate " + gate + " and up " + up + " differ in size");
        if (gate.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("too large: " + gate);
        return (int) gate.numel();
    }
}
