package dev.laconic.kernels;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.ReferenceOps;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.randomIds;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Token log-probs and their backward (VectorOps) against ReferenceOps, up to the full Qwen2
 * vocabulary, with sharp distributions (logits ×30), and the in-place backward used by the LM head.
 */
class LogSoftmaxParityTest {
    private static final ReferenceOps REF = new ReferenceOps();
    private static final VectorOps FAST = new VectorOps();

    // T, V, logit scale
    @ParameterizedTest(name = "T={0} V={1} scale={2}")
    @CsvSource({
            "7, 100, 1",
            "37, 1000, 30",
            "3, 151936, 4",   // full Qwen2 vocabulary
            "1, 5003, 1",
    })
    void logProbsAndBackwardMatchReference(int t, int vocab, float scale) {
        long seed = 29L * t + vocab;
        Tensor logits = randn(seed, scale, t, vocab);
        int[] targets = randomIds(seed + 1, t, vocab);
        targets[0] = vocab - 1;                                   // the last (tail) column

        Tensor lpRef = Tensor.zeros(DType.F32, t), lseRef = Tensor.zeros(DType.F32, t);
        REF.tokenLogProbs(logits, targets, lpRef, lseRef);
        Tensor lp = poisoned(t), lse = poisoned(t);
        FAST.tokenLogProbs(logits, targets, lp, lse);
        assertClose(lseRef, lse, 1e-5, 1e-6, "lse");
        assertClose(lpRef, lp, 1e-4, 1e-5, "logp");

        Tensor dlogp = randn(seed + 2, t);
        Tensor dRef = Tensor.zeros(DType.F32, t, vocab);
        REF.tokenLogProbsBackward(logits, targets, lseRef, dlogp, dRef);
        Tensor d = poisoned(t, vocab);
        FAST.tokenLogProbsBackward(logits, targets, lseRef, dlogp, d);
        assertClose(dRef, d, 1e-7, 1e-5, "dlogits");

        // In place, as the chunked LM head does: logits become dlogits.
        Tensor inPlace = logits.to(DType.F32);
        FAST.tokenLogProbsBackward(inPlace, targets, lseRef, dlogp, inPlace);
        assertClose(dRef, inPlace, 1e-7, 1e-5, "dlogits in place");
    }

    @Test
    void outOfRangeTargetsThrow() {
        Tensor logits = randn(1, 2, 10);
        assertThrows(IndexOutOfBoundsException.class, () -> FAST.tokenLogProbs(logits, new int[]{0, 10}, poisoned(2), null));
    }
}
