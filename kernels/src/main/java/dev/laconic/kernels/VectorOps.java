package dev.laconic.kernels;

import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;

import java.util.List;

/**
 * The fast CPU implementation of {@link Ops} on the Vector API (AVX2/AVX-512 through
 * {@code jdk.incubator.vector}), multi-threaded through {@link dev.laconic.tensor.Parallel}.
 * Each op family lives in its own file; this class only routes.
 */
public final class VectorOps implements Ops {
    /** What a JVM started without the Vector API module is told, at load time rather than deep inside a kernel. */
    static final String NO_VECTOR_MODULE = "the Vector API module is missing: start java with --add-modules jdk.incubator.vector "
            + "(./laconic and ./mvnw add it; a JAR manifest cannot)";

    /** @throws IllegalStateException when this JVM was started without {@code --add-modules jdk.incubator.vector} */
    public VectorOps() {
        requireVectorApi();
    }

    /** Touches the Vector API once, so that a missing module shows here, with the flag to add, not in a kernel. */
    static void requireVectorApi() {
        try {
            if (jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() < 1) throw new AssertionError();
        } catch (NoClassDefFoundError e) {
            if (e.getMessage() == null || !e.getMessage().contains("jdk/incubator/vector")) throw e;
            throw new IllegalStateException(NO_VECTOR_MODULE, e);
        }
    }

    @Override public void matmul(Tensor x, Tensor w, Tensor b, Tensor y) { Linear.matmul(x, w, b, y); }
    @Override public void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) { Linear.matmulBackward(x, w, dy, dx, dw, db); }
    @Override public void residual(Tensor x, Tensor y) { Residual.add(x, y); }
    @Override public void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) { Norms.forward(x, weight, eps, y, rstd); }
    @Override public void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) { Norms.backward(x, weight, rstd, dy, dx, dweight); }
    @Override public void rope(Tensor x, int[] pos, float[] invFreq) { Rope.rotate(x, pos, invFreq, 1); }
    @Override public void ropeBackward(Tensor dx, int[] pos, float[] invFreq) { Rope.rotate(dx, pos, invFreq, -1); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) { Attention.forward(q, k, v, start, out, lse); }
    @Override public void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse, Tensor dout, Tensor dq, Tensor dk, Tensor dv) { Attention.backward(q, k, v, start, out, lse, dout, dq, dk, dv); }
    @Override public void swiglu(Tensor gate, Tensor up, Tensor h) { Activations.swiglu(gate, up, h); }
    @Override public void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) { Activations.swigluBackward(gate, up, dh, dgate, dup); }
    @Override public void embedding(Tensor table, int[] ids, Tensor out) { Embeddings.gather(table, ids, out); }
    @Override public void embeddingBackward(int[] ids, Tensor dout, Tensor dtable) { Embeddings.scatterAdd(ids, dout, dtable); }
    @Override public void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) { LogSoftmax.tokenLogProbs(logits, targets, logp, lse); }
    @Override public void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) { LogSoftmax.tokenLogProbsBackward(logits, targets, lse, dlogp, dlogits); }
    @Override public double sumOfSquares(List<Tensor> xs) { return Optimizer.sumOfSquares(xs); }
    @Override public void scale(Tensor x, double factor) { Optimizer.scale(x, factor); }
    @Override public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, long step) { Optimizer.adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step); }
}
