package dev.laconic.training;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.Adapter;

/**
 * One LoRA adapter on a frozen projection y = x·Wᵀ:  δ(x) = scale·(x·Aᵀ)·Bᵀ.
 * The rank-r intermediate z = scale·x·Aᵀ[T, r] is recomputed in the backward (it is T×r: cheap),
 * so nothing is saved between forward and backward.
 */
final class Lora implements Adapter {
    final Param a;          // lora_A.weight [r, K]
    final Param b;          // lora_B.weight [N, r]
    final float scale;      // alpha / r

    Lora(Param a, Param b, float scale) {
        if (a.value().rank() != 2 || b.value().rank() != 2 || a.value().dim(0) != b.value().dim(1))
            throw new IllegalArgumentException("LoRA A " + a.value() + " and B " + b.value() + " do not chain");
        this.a = a;
        this.b = b;
        this.scale = scale;
    }

    /** z[T, r] = scale·x[T,K]·Aᵀ. */
    private Tensor down(Ops ops, Tensor x) {
        int k = a.value().dim(1), t = (int) (x.numel() / k);
        Tensor z = Tensor.zeros(DType.F32, t, a.value().dim(0));
        ops.matmul(x, a.value(), null, z);
        scaleInPlace(z, scale);
        return z;
    }

    /** y[T,N] += z·Bᵀ. */
    @Override
    public void forward(Ops ops, Tensor x, Tensor y) {
        Tensor z = down(ops, x);
        Tensor delta = Tensor.zeros(DType.F32, z.dim(0), b.value().dim(0));
        ops.matmul(z, b.value(), null, delta);
        ops.residual(y, delta);
    }

    /**
     * With z = scale·x·Aᵀ and δ = z·Bᵀ:  dB += dyᵀ·z;  dz = scale·dy·B;  dA += dzᵀ·x;  dx += dz·A.
     */
    @Override
    public void backward(Ops ops, Tensor x, Tensor dy, Tensor dx) {
        Tensor z = down(ops, x);
        Tensor dz = Tensor.zeros(DType.F32, z.dim(0), z.dim(1));
        ops.matmulBackward(z, b.value(), dy, dz, b.grad(), null);
        scaleInPlace(dz, scale);
        Tensor dxa = Tensor.zeros(DType.F32, z.dim(0), a.value().dim(1));
        ops.matmulBackward(x, a.value(), dz, dxa, a.grad(), null);
        ops.residual(dx, dxa);
    }

    /** The merged weight W + scale·B·A as a new F32 tensor [N, K] (W may be BF16 or mapped). */
    Tensor merge(Ops ops, Tensor w) {
        int r = a.value().dim(0), k = a.value().dim(1), n = b.value().dim(0);
        Tensor at = Tensor.zeros(DType.F32, k, r);                         // Aᵀ, so that B·A = matmul(B, Aᵀ)
        for (int i = 0; i < r; i++)
            for (int j = 0; j < k; j++) at.setFloat((long) j * r + i, a.value().getFloat((long) i * k + j));
        Tensor ba = Tensor.zeros(DType.F32, n, k);
        ops.matmul(b.value(), at, null, ba);
        float[] out = ba.floatArray();
        for (int i = 0; i < out.length; i++) out[i] = w.getFloat(i) + out[i] * scale;   // PEFT: W + (B·A)·scaling
        return ba;
    }

    static void scaleInPlace(Tensor x, float s) {
        float[] xa = x.floatArray();
        for (int i = x.floatOffset(), end = i + (int) x.numel(); i < end; i++) xa[i] *= s;
    }
}
