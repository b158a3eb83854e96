package dev.laconic.transformer;

import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;

/**
 * A trainable correction δ(x) added to a projection y = x·Wᵀ (+b) whose weight W stays frozen —
 * LoRA (Hu et al. 2021): δ(x) = scale·(x·Aᵀ)·Bᵀ. The transformer only sees this interface, so
 * transformer/ does not depend on training/, and a null adapter is the plain projection.
 *
 * <p>Both methods run over the rows of a whole batch at once; the ops are the transformer's, so an
 * adapter computes on the same backend as the layer it sits in.
 */
public interface Adapter {

    /** y[T,N] += δ(x[T,K]). */
    void forward(Ops ops, Tensor x, Tensor y);

    /**
     * Backward of {@link #forward} given dy[T,N] = dLoss/dy: dx[T,K] += (∂δ/∂x)ᵀ·dy (added, because dx
     * already holds the frozen projection's dy·W), and the adapter's own parameter gradients +=.
     */
    void backward(Ops ops, Tensor x, Tensor dy, Tensor dx);

    /** The adapters of one decoder layer, one per projection; any may be null (not adapted). */
    record Layer(Adapter q, Adapter k, Adapter v, Adapter o, Adapter gate, Adapter up, Adapter down) {}
}
