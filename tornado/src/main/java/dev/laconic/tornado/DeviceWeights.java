package dev.laconic.tornado;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;
import java.util.function.Function;

/**
 * A model's weights laid out for {@link DecodeKernels}: each kind of matrix of all L layers stacked in
 * one array (layer l's W[N,K] at l·N·K), so one compiled kernel serves every layer. Matrices stay
 * BF16 (a {@link ShortArray} of the raw bits, half the bytes to read per token) when every matrix of
 * the model is BF16; otherwise all are F32. Norm weights and biases are F32; a model without biases
 * gets zero arrays, which the kernels add at no measurable cost.
 *
 * <p>These are host arrays (one off-heap copy of the weights); the decode plan uploads them to the
 * device once, on its first execution. The embedding table stays on the host: a token needs one row,
 * which the decoder gathers and uploads (C floats).
 */
final class DeviceWeights {
    final boolean bf16;
    final TornadoNativeArray wq, wk, wv, wo, wGate, wUp, wDown, lmHead;   // ShortArray (bf16) or FloatArray
    final FloatArray bq, bk, bv, bo, zeroC;                                // [L·N] stacked biases; zeroC: the down projection's
    final FloatArray attnNorm, mlpNorm, finalNorm;                         // [L·C], [L·C], [C]

    DeviceWeights(ModelConfig cfg, Weights w) {
        int c = cfg.hidden(), qd = cfg.heads() * cfg.headDim(), kvd = cfg.kvHeads() * cfg.headDim(), f = cfg.intermediate();
        boolean allBf16 = w.lmHead().dtype() == DType.BF16;
        for (Weights.Layer l : w.layers())
            for (Tensor m : new Tensor[]{l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown()})
                allBf16 &= m.dtype() == DType.BF16;
        bf16 = allBf16;
        wq = stack(w, Weights.Layer::wq, qd, c);
        wk = stack(w, Weights.Layer::wk, kvd, c);
        wv = stack(w, Weights.Layer::wv, kvd, c);
        wo = stack(w, Weights.Layer::wo, c, qd);
        wGate = stack(w, Weights.Layer::wGate, f, c);
        wUp = stack(w, Weights.Layer::wUp, f, c);
        wDown = stack(w, Weights.Layer::wDown, c, f);
        lmHead = matrices(new Tensor[]{w.lmHead()}, cfg.vocab(), c);
        bq = vectors(w, Weights.Layer::bq, qd);
        bk = vectors(w, Weights.Layer::bk, kvd);
        bv = vectors(w, Weights.Layer::bv, kvd);
        bo = vectors(w, Weights.Layer::bo, c);
        zeroC = new FloatArray(w.layers().length * c);
        attnNorm = vectors(w, Weights.Layer::attnNorm, c);
        mlpNorm = vectors(w, Weights.Layer::mlpNorm, c);
        finalNorm = vectors(new Tensor[]{w.finalNorm()}, c);
    }

    private TornadoNativeArray stack(Weights w, Function<Weights.Layer, Tensor> pick, int n, int k) {
        Tensor[] per = new Tensor[w.layers().length];
        for (int l = 0; l < per.length; l++) per[l] = pick.apply(w.layers()[l]);
        return matrices(per, n, k);
    }

    /** The matrices [N,K] one after the other, as BF16 bits or F32 values. */
    private TornadoNativeArray matrices(Tensor[] per, int n, int k) {
        long total = (long) per.length * n * k;
        if (total > Integer.MAX_VALUE - 64)
            throw new IllegalArgumentException("the tornado backend indexes device arrays with int: " + per.length + " matrices of "
                    + n + "×" + k + " (" + total + " elements) are too many for one array");
        int size = n * k;
        if (bf16) {
            ShortArray a = new ShortArray((int) total);
            for (int l = 0; l < per.length; l++)
                MemorySegment.copy(per[l].segment(), 0, a.getSegment(), (long) l * size * Short.BYTES, (long) size * Short.BYTES);
            return a;
        }
        FloatArray a = new FloatArray((int) total);
        for (int l = 0; l < per.length; l++) {
            Tensor m = per[l];
            if (m.dtype() == DType.F32) {
                MemorySegment.copy(m.segment(), 0, a.getSegment(), (long) l * size * Float.BYTES, (long) size * Float.BYTES);
            } else {
                for (int i = 0; i < size; i++) a.set(l * size + i, m.getFloat(i));     // BF16/F16 widened exactly
            }
        }
        return a;
    }

    private static FloatArray vectors(Weights w, Function<Weights.Layer, Tensor> pick, int n) {
        Tensor[] per = new Tensor[w.layers().length];
        for (int l = 0; l < per.length; l++) per[l] = pick.apply(w.layers()[l]);
        return vectors(per, n);
    }

    /** F32 vectors [n] one after the other; a null one (no bias) is zeros. */
    private static FloatArray vectors(Tensor[] per, int n) {
        FloatArray a = new FloatArray(per.length * n);
        for (int l = 0; l < per.length; l++)
            if (per[l] != null)
                for (int i = 0; i < n; i++) a.set(l * n + i, per[l].getFloat(i));
        return a;
    }
}
