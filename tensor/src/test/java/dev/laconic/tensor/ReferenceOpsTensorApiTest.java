package dev.laconic.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

import static dev.laconic.tensor.testing.FiniteDifference.all;
import static dev.laconic.tensor.testing.FiniteDifference.assertGradient;
import static dev.laconic.tensor.testing.FiniteDifference.dot;
import static dev.laconic.tensor.testing.FiniteDifference.gradient;
import static dev.laconic.tensor.testing.FiniteDifference.pick;
import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static dev.laconic.tensor.testing.TestTensors.randn;
import static dev.laconic.tensor.testing.TestTensors.randnDoubles;
import static dev.laconic.tensor.testing.TestTensors.randomIds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The F32 {@link Tensor} face of {@link ReferenceOps}: its wrappers round the f64 math (which
 * ReferenceOpsGradientTest checks) exactly once, write every output element (outputs are poisoned
 * with NaN), accumulate parameter gradients, accept BF16/F16 weights and rank-3 activations; the
 * chunked LM-head composite and its loss agree with the unchunked math and with F32 finite
 * differences; and bad input is rejected before anything is written.
 */
class ReferenceOpsTensorApiTest {
    final Ops ops = new ReferenceOps();

    // ---- wrappers round the double math once ------------------------------------------------------

    @Test
    void matmulWrapperMatchesDoubleMathWithBf16AndF16Weights() {
        int b = 2, t = 3, k = 11, n = 5;
        Tensor x = randn(1, b, t, k), bias = randn(2, n), dy = randn(3, b * t, n);
        for (Tensor w : new Tensor[]{randn(4, n, k), randn(4, n, k).to(DType.BF16), randn(4, n, k).to(DType.F16)}) {
            Tensor y = poisoned(b, t, n);
            ops.matmul(x, w, bias, y);
            double[] expect = ReferenceOps.matmul(d(x), d(w), d(bias), b * t, k, n);
            assertClose(f32(expect), y.toFloatArray(), 0, 0, "matmul y, w " + w.dtype());
            Tensor dx = poisoned(b * t, k), dw = randn(5, n, k), db = randn(6, n);
            double[] dxe = new double[b * t * k], dwe = d(dw), dbe = d(db);
            ops.matmulBackward(x, w, dy, dx, dw, db);
            ReferenceOps.matmulBackward(d(x), d(w), d(dy), b * t, k, n, dxe, dwe, dbe);
            assertClose(f32(dxe), dx.toFloatArray(), 0, 0, "matmul dx, w " + w.dtype());
            assertClose(f32(dwe), dw.toFloatArray(), 0, 0, "matmul dw += , w " + w.dtype());
            assertClose(f32(dbe), db.toFloatArray(), 0, 0, "matmul db +=, w " + w.dtype());
        }
    }

    @Test
    void rmsnormWrapperMatchesDoubleMath() {
        int t = 3, c = 13;
        Tensor x = randn(10, 1, t, c), w = randn(11, c).to(DType.BF16), dy = randn(12, t, c);
        Tensor y = poisoned(t, c), rstd = poisoned(t);
        ops.rmsnorm(x, w, 1e-5f, y, rstd);
        double[] ye = new double[t * c], re = new double[t];
        ReferenceOps.rmsnorm(d(x), d(w), 1e-5f, t, c, ye, re);
        assertClose(f32(ye), y.toFloatArray(), 0, 0, "rmsnorm y");
        assertClose(f32(re), rstd.toFloatArray(), 0, 0, "rmsnorm rstd");
        Tensor dx = poisoned(t, c), dwt = randn(13, c);
        double[] dxe = new double[t * c], dwe = d(dwt);
        ops.rmsnormBackward(x, w, rstd, dy, dx, dwt);
        ReferenceOps.rmsnormBackward(d(x), d(w), d(rstd), d(dy), t, c, dxe, dwe);
        assertClose(f32(dxe), dx.toFloatArray(), 0, 0, "rmsnorm dx");
        assertClose(f32(dwe), dwt.toFloatArray(), 0, 0, "rmsnorm dweight +=");
    }

    @Test
    void ropeOnQueryAndKvHeadsWithOffsetsIsInvertible() {
        int t = 4, d = 6;
        int[] pos = {17, 18, 19, 3000};
        float[] invFreq = {1f, 0.1f, 0.001f};
        for (int heads : new int[]{4, 2}) {
            Tensor x = randn(20 + heads, t, heads, d);
            float[] x0 = x.toFloatArray();
            double[] expect = d(x);
            ReferenceOps.rotate(expect, pos, invFreq, heads, 1);
            ops.rope(x, pos, invFreq);
            assertClose(f32(expect), x.toFloatArray(), 0, 0, "rope H=" + heads);
            ops.ropeBackward(x, pos, invFreq);
            assertClose(x0, x.toFloatArray(), 1e-6, 1e-6, "rope then ropeBackward H=" + heads);
        }
        // [T, H·D] as it comes out of a matmul is the same memory as [T,H,D].
        Tensor flat = randn(30, t, 2 * d), shaped = randn(30, t, 2, d);
        ops.rope(flat, pos, invFreq);
        ops.rope(shaped, pos, invFreq);
        assertArrayEquals(shaped.toFloatArray(), flat.toFloatArray());
    }

    @Test
    void attentionWrapperMatchesDoubleMath() {
        int t = 3, h = 4, kvh = 2, dim = 5, s = 10, start = 5;
        Tensor q = randn(40, t, h, dim), k = randn(41, s, kvh, dim).to(DType.BF16), v = randn(42, s, kvh, dim);
        Tensor out = poisoned(t, h, dim), lse = poisoned(t, h), dout = randn(43, t, h, dim);
        ops.attention(q, k, v, start, out, lse);
        ReferenceOps.Dims m = new ReferenceOps.Dims(t, h, kvh, dim, s);
        double[] oe = new double[t * h * dim], le = new double[t * h];
        ReferenceOps.attention(d(q), d(k), d(v), m, start, oe, le);
        assertClose(f32(oe), out.toFloatArray(), 0, 0, "attention out");
        assertClose(f32(le), lse.toFloatArray(), 0, 0, "attention lse");
        Tensor dq = poisoned(t, h, dim), dk = randn(44, s, kvh, dim), dv = randn(45, s, kvh, dim);
        double[] dqe = new double[t * h * dim], dke = d(dk), dve = d(dv);
        ops.attentionBackward(q, k, v, start, out, lse, dout, dq, dk, dv);
        ReferenceOps.attentionBackward(d(q), d(k), d(v), m, start, d(out), d(lse), d(dout), dqe, dke, dve);
        assertClose(f32(dqe), dq.toFloatArray(), 0, 0, "attention dq");
        assertClose(f32(dke), dk.toFloatArray(), 0, 0, "attention dk +=");
        assertClose(f32(dve), dv.toFloatArray(), 0, 0, "attention dv +=");
    }

    /** The one F32 end-to-end finite-difference check of a backward: loose, as F32 forwards are. */
    @Test
    void attentionBackwardMatchesF32FiniteDifferences() {
        int t = 3, h = 4, kvh = 2, dim = 4, s = 7, start = 3;
        Tensor q = randn(50, t, h, dim), k = randn(51, s, kvh, dim), v = randn(52, s, kvh, dim);
        double[] r = randnDoubles(53, t * h * dim);
        Tensor out = poisoned(t, h, dim), lse = poisoned(t, h);
        DoubleSupplier loss = () -> {
            ops.attention(q, k, v, start, out, lse);
            return dot(r, out);
        };
        loss.getAsDouble();
        Tensor dq = poisoned(t, h, dim), dk = Tensor.zeros(DType.F32, s, kvh, dim), dv = Tensor.zeros(DType.F32, s, kvh, dim);
        ops.attentionBackward(q, k, v, start, out, lse, Tensor.of(f32(r), t, h, dim), dq, dk, dv);
        int[] qAll = all(q.numel());
        assertGradient(gradient(q, qAll, loss, 1e-2), d(dq), 1e-2, 1e-3, "attention dq (F32)");
        int[] kvAll = all(k.numel());
        assertGradient(gradient(k, kvAll, loss, 1e-2), d(dk), 1e-2, 1e-3, "attention dk (F32)");
        assertGradient(gradient(v, kvAll, loss, 1e-2), d(dv), 1e-2, 1e-3, "attention dv (F32)");
    }

    @Test
    void swigluAndEmbeddingWrappersMatchDoubleMath() {
        Tensor g = randn(60, 3, 9), u = randn(61, 3, 9), dh = randn(62, 3, 9);
        Tensor hh = poisoned(3, 9), dg = poisoned(3, 9), du = poisoned(3, 9);
        double[] he = new double[27], dge = new double[27], due = new double[27];
        ops.swiglu(g, u, hh);
        ops.swigluBackward(g, u, dh, dg, du);
        ReferenceOps.swiglu(d(g), d(u), he);
        ReferenceOps.swigluBackward(d(g), d(u), d(dh), dge, due);
        assertClose(f32(he), hh.toFloatArray(), 0, 0, "swiglu h");
        assertClose(f32(dge), dg.toFloatArray(), 0, 0, "swiglu dgate");
        assertClose(f32(due), du.toFloatArray(), 0, 0, "swiglu dup");

        int vocab = 7, c = 3;
        int[] ids = {6, 0, 6, 6, 2};
        Tensor table = randn(70, vocab, c).to(DType.BF16), out = poisoned(ids.length, c);
        ops.embedding(table, ids, out);
        double[] oe = new double[ids.length * c];
        ReferenceOps.embedding(d(table), c, ids, oe);
        assertClose(f32(oe), out.toFloatArray(), 0, 0, "embedding out (BF16 table)");
        Tensor dout = randn(71, ids.length, c), dtable = randn(72, vocab, c);
        double[] dte = d(dtable);
        ops.embeddingBackward(ids, dout, dtable);
        ReferenceOps.embeddingBackward(ids, d(dout), c, dte);
        assertClose(f32(dte), dtable.toFloatArray(), 0, 0, "embedding dtable += (repeated ids summed in double)");
    }

    @Test
    void tokenLogProbsBackwardMayOverwriteItsLogits() {
        int t = 4, vocab = 10;
        int[] targets = {9, 0, 4, 4};
        Tensor logits = randn(80, t, vocab), dlogp = randn(81, t), logp = poisoned(t), lse = poisoned(t);
        ops.tokenLogProbs(logits, targets, logp, lse);
        double[] lpe = new double[t], le = new double[t], dle = new double[t * vocab];
        ReferenceOps.tokenLogProbs(d(logits), targets, vocab, lpe, le);
        assertClose(f32(lpe), logp.toFloatArray(), 0, 0, "logp");
        assertClose(f32(le), lse.toFloatArray(), 0, 0, "lse");
        ReferenceOps.tokenLogProbsBackward(d(logits), targets, vocab, d(lse), d(dlogp), dle);
        ops.tokenLogProbsBackward(logits, targets, lse, dlogp, logits);      // in place
        assertClose(f32(dle), logits.toFloatArray(), 0, 0, "dlogits written over logits");
    }

    // ---- chunked LM head and cross-entropy ---------------------------------------------------------

    /** T = 64 + 37 positions: two chunks, the second partial. */
    static final int LM_T = Ops.LM_HEAD_CHUNK + 37, LM_C = 6, LM_V = 19;

    @Test
    void lmHeadLogProbsChunksAgreeWithUnchunkedMath() {
        Tensor h = randn(90, LM_T, LM_C), w = randn(91, 0.5f, LM_V, LM_C), dlogp = randn(92, LM_T);
        int[] targets = randomIds(93, LM_T, LM_V);
        Tensor logp = poisoned(LM_T), dh = poisoned(LM_T, LM_C), dw = randn(94, LM_V, LM_C);
        double[] dw0 = d(dw);
        ops.lmHeadLogProbs(h, w, targets, logp, dlogp, dh, dw);
        // Unchunked, all in double: logits = h·wᵀ, logp, then the chained backward.
        double[] logits = ReferenceOps.matmul(d(h), d(w), null, LM_T, LM_C, LM_V);
        double[] lpe = new double[LM_T], lse = new double[LM_T], dlogits = new double[LM_T * LM_V];
        ReferenceOps.tokenLogProbs(logits, targets, LM_V, lpe, lse);
        ReferenceOps.tokenLogProbsBackward(logits, targets, LM_V, lse, d(dlogp), dlogits);
        double[] dhe = new double[LM_T * LM_C], dwe = new double[LM_V * LM_C];
        ReferenceOps.matmulBackward(d(h), d(w), dlogits, LM_T, LM_C, LM_V, dhe, dwe, null);
        // The chunked F32 path rounds logits and dlogits to F32 between ops: agreement to ~1e-6.
        assertClose(lpe, d(logp), 1e-6, 1e-6, "lm head logp");
        assertClose(dhe, d(dh), 1e-6, 1e-5, "lm head dh");
        double[] dwDelta = new double[dwe.length];
        for (int i = 0; i < dwe.length; i++) dwDelta[i] = dw.getFloat(i) - dw0[i];
        assertClose(dwe, dwDelta, 1e-5, 1e-5, "lm head dwOut (accumulated)");
    }

    @Test
    void crossEntropyGradientMatchesF32FiniteDifferences() {
        Tensor h = randn(100, LM_T, LM_C), w = randn(101, 0.5f, LM_V, LM_C);
        int[] targets = randomIds(102, LM_T, LM_V);
        float[] weight = new float[LM_T];
        for (int t = 0; t < LM_T; t++) weight[t] = t < 20 ? 0f : 0.5f + (t % 3);   // prompt tokens masked
        Tensor dh = poisoned(LM_T, LM_C), dw = Tensor.zeros(DType.F32, LM_V, LM_C);
        double loss = CrossEntropy.of(ops, h, w, targets, weight, dh, dw);
        // Expected loss from double math.
        double[] lp = new double[LM_T];
        ReferenceOps.tokenLogProbs(ReferenceOps.matmul(d(h), d(w), null, LM_T, LM_C, LM_V), targets, LM_V, lp, null);
        double num = 0, den = 0;
        for (int t = 0; t < LM_T; t++) { num -= weight[t] * lp[t]; den += weight[t]; }
        assertEquals(num / den, loss, 1e-6 * Math.abs(loss), "cross-entropy loss");
        DoubleSupplier objective = () -> CrossEntropy.of(ops, h, w, targets, weight, null, null);
        // Positions in both chunks, including masked ones (zero gradient) and the last.
        int[] hIdx = {0, 5, 20 * LM_C + 1, 63 * LM_C + 5, 64 * LM_C, 80 * LM_C + 3, LM_T * LM_C - 1};
        assertGradient(gradient(h, hIdx, objective, 1e-2), pick(d(dh), hIdx), 2e-2, 2e-3, "cross-entropy dh (F32)");
        int[] wIdx = all(w.numel());
        assertGradient(gradient(w, wIdx, objective, 1e-2), d(dw), 2e-2, 2e-3, "cross-entropy dwOut (F32)");
        for (int j = 0; j < LM_C; j++) assertEquals(0f, dh.getFloat(3L * LM_C + j), "masked position");
    }

    // ---- bad input ---------------------------------------------------------------------------------

    @Test
    void outOfRangeTokenIdsThrowWithIdAndPosition() {
        Tensor table = randn(110, 5, 3);
        assertBadId(() -> ops.embedding(table, new int[]{0, 4, 5, 1}, poisoned(4, 3)), "token id 5 at position 2");
        assertBadId(() -> ops.embedding(table, new int[]{-1}, poisoned(1, 3)), "token id -1 at position 0");
        Tensor dtable = randn(111, 5, 3);
        float[] before = dtable.toFloatArray();
        assertBadId(() -> ops.embeddingBackward(new int[]{1, 2, 7}, randn(112, 3, 3), dtable), "token id 7 at position 2");
        assertArrayEquals(before, dtable.toFloatArray(), "no partial scatter-add before the bad id");
        Tensor logits = randn(113, 3, 5), lse = Tensor.zeros(DType.F32, 3);
        assertBadId(() -> ops.tokenLogProbs(logits, new int[]{0, 5, 1}, poisoned(3), lse), "token id 5 at position 1");
        assertBadId(() -> ops.tokenLogProbsBackward(logits, new int[]{0, 1, -3}, lse, randn(114, 3), poisoned(3, 5)),
                "token id -3 at position 2");
        Tensor h = randn(115, 70, 4), w = randn(116, 5, 4);
        int[] targets = new int[70];
        targets[66] = 9;
        float[] weight = new float[70];
        Arrays.fill(weight, 1f);
        // Through the chunked LM head the position is the sequence's (66), not the chunk's (2).
        assertBadId(() -> ops.lmHeadLogProbs(h, w, targets, poisoned(70), null, null, null), "token id 9 at position 66");
        assertBadId(() -> CrossEntropy.of(ops, h, w, targets, weight, null, null), "token id 9 at position 66");
    }

    private static void assertBadId(Executable call, String expected) {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, call);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }

    @Test
    void shapeMismatchesThrowIllegalArgument() {
        Tensor x = randn(120, 3, 4), w = randn(121, 5, 4);
        assertIae(() -> ops.matmul(randn(122, 3, 5), w, null, poisoned(3, 5)));       // K mismatch
        assertIae(() -> ops.matmul(x, w, null, poisoned(3, 4)));                      // y size
        assertIae(() -> ops.matmul(x, w, randn(123, 4), poisoned(3, 5)));             // bias size
        assertIae(() -> ops.matmul(x, randn(124, 20), null, poisoned(3, 5)));         // w not a matrix
        assertIae(() -> ops.matmul(x, w, null, Tensor.zeros(DType.BF16, 3, 5)));      // output not F32
        assertIae(() -> ops.matmulBackward(x, w, randn(125, 3, 4), poisoned(3, 4), null, null)); // dy size
        assertIae(() -> ops.matmulBackward(x, w, randn(125, 3, 5), null, poisoned(5, 5), null)); // dw size
        assertIae(() -> ops.rmsnorm(x, randn(126, 5), 1e-6f, poisoned(3, 4), null));  // weight ≠ C
        assertIae(() -> ops.rmsnorm(x, randn(126, 4), 1e-6f, poisoned(3, 4), poisoned(2)));  // rstd size
        assertIae(() -> ops.rmsnormBackward(x, randn(126, 4), poisoned(3), randn(127, 3, 5), poisoned(3, 4), null));
        assertIae(() -> ops.rope(randn(128, 3, 2, 6), new int[]{0, 1, 2}, new float[]{1f, 0.5f}));  // D ≠ 2·|invFreq|
        assertIae(() -> ops.rope(randn(128, 3, 2, 4), new int[]{0, 1}, new float[]{1f, 0.5f}));     // T ≠ |pos|
        Tensor q = randn(129, 2, 4, 3), k = randn(130, 6, 2, 3);
        assertIae(() -> ops.attention(q, k, randn(131, 6, 2, 4), 0, poisoned(2, 4, 3), null));    // v ≠ k shape
        assertIae(() -> ops.attention(q, randn(132, 6, 3, 3), randn(132, 6, 3, 3), 0, poisoned(2, 4, 3), null)); // H % KVH
        assertIae(() -> ops.attention(q, k, k, 5, poisoned(2, 4, 3), null));                        // start + T > S
        assertIae(() -> ops.attention(q, k, k, -1, poisoned(2, 4, 3), null));
        assertIae(() -> ops.attention(q, k, k, 0, poisoned(2, 4, 2), null));                        // out size
        assertIae(() -> ops.attention(q, k, k, 0, poisoned(2, 4, 3), poisoned(2, 3)));              // lse size
        assertIae(() -> ops.attentionBackward(q, k, k, 0, poisoned(2, 4, 3), poisoned(2, 4),
                randn(133, 2, 4, 3), poisoned(2, 4, 3), poisoned(6, 2, 2), null));                   // dk size
        assertIae(() -> ops.swiglu(randn(134, 6), randn(135, 5), poisoned(6)));
        assertIae(() -> ops.swigluBackward(randn(134, 6), randn(135, 6), randn(136, 6), poisoned(5), null));
        assertIae(() -> ops.embedding(randn(137, 5, 3), new int[]{1, 2}, poisoned(2, 4)));
        assertIae(() -> ops.embeddingBackward(new int[]{1, 2}, randn(138, 3, 3), poisoned(5, 3)));
        assertIae(() -> ops.tokenLogProbs(randn(139, 3, 5), new int[]{0, 1}, poisoned(2), null));  // T mismatch
        assertIae(() -> ops.tokenLogProbs(randn(139, 3, 5), new int[]{0, 1, 2}, poisoned(4), null));
        assertIae(() -> ops.tokenLogProbsBackward(randn(139, 3, 5), new int[]{0, 1, 2}, poisoned(3), randn(140, 3),
                poisoned(3, 4)));
        assertIae(() -> CrossEntropy.of(ops, x, w, new int[]{0, 1, 2}, new float[3], null, null));     // weights sum to 0
        assertIae(() -> CrossEntropy.of(ops, x, w, new int[]{0, 1, 2}, new float[]{1, 1}, null, null)); // weights ≠ T
        assertIae(() -> ops.lmHeadLogProbs(x, w, new int[]{0, 1}, poisoned(3), null, null, null));  // targets ≠ T
    }

    private static void assertIae(Executable call) {
        assertThrows(IllegalArgumentException.class, call);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    static double[] d(Tensor t) {
        return ReferenceOps.d(t);
    }

    static float[] f32(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }
}
