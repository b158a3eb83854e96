package dev.laconic.training;

import dev.laconic.tensor.Tensor;

/**
 * A trainable tensor and its gradient, under the name it is saved with (the Hugging Face parameter
 * name for full fine-tuning, the PEFT name for LoRA). Both are F32 heap tensors of the same shape;
 * backward passes accumulate into {@code grad}, the optimizer reads it and the trainer zeroes it.
 */
public record Param(String name, Tensor value, Tensor grad) {
    public Param {
        if (!java.util.Arrays.equals(value.shape(), grad.shape()))
            throw new IllegalArgumentException(name + ": gradient shape differs from the parameter's");
    }

    public static Param of(String name, Tensor value) {
        return new Param(name, value, Tensor.zeros(dev.laconic.tensor.DType.F32, value.shape()));
    }
}
