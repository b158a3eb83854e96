package dev.laconic.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static dev.laconic.tensor.testing.TestTensors.assertClose;
import static dev.laconic.tensor.testing.TestTensors.poisoned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ReferenceOps} against an independent implementation: torch and Hugging Face's own functions
 * (Qwen2RMSNorm, apply_rotary_pos_emb with a llama3-scaled table, SDPA with repeat_kv, log_softmax)
 * and torch autograd for the gradients, on the small seeded inputs that
 * {@code tools/make_op_goldens.py} saved in {@code resources/ops/op_goldens.json}.
 *
 * <p>Goldens are float64 results of float32 inputs (HF forces float32 only inside RMSNorm and the
 * RoPE cos/sin table), so the F32 outputs here agree to a few ulps: tolerances are ~1e-6.
 */
class ReferenceOpsGoldenTest {
    static final double ATOL = 1e-6, RTOL = 1e-6;
    static JsonNode goldens;
    final Ops ops = new ReferenceOps();

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = ReferenceOpsGoldenTest.class.getResourceAsStream("/ops/op_goldens.json")) {
            assertNotNull(in, "ops/op_goldens.json missing: run tools/make_op_goldens.py");
            goldens = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void matmulWithBiasAndBackward() {
        JsonNode g = goldens.get("matmul");
        Tensor x = tensor(g.get("x")), w = tensor(g.get("w")), b = tensor(g.get("b")), dy = tensor(g.get("dy"));
        int t = x.dim(0), k = x.dim(1), n = w.dim(0);
        Tensor y = poisoned(1, t, n);                        // [B,T,N] read as [T,N]
        ops.matmul(x.reshape(1, t, k), w, b, y);
        assertClose(tensor(g.get("y")), y, ATOL, RTOL, "matmul y");
        Tensor dx = poisoned(t, k), dw = Tensor.zeros(DType.F32, n, k), db = Tensor.zeros(DType.F32, n);
        ops.matmulBackward(x, w, dy, dx, dw, db);
        assertClose(tensor(g.get("dx")), dx, ATOL, RTOL, "matmul dx");
        assertClose(tensor(g.get("dw")), dw, ATOL, RTOL, "matmul dw");
        assertClose(tensor(g.get("db")), db, ATOL, RTOL, "matmul db");
    }

    @Test
    void matmulWithBf16Weight() {
        JsonNode g = goldens.get("matmul");
        Tensor x = tensor(g.get("x")), b = tensor(g.get("b")), dy = tensor(g.get("dy"));
        Tensor w = tensor(g.get("w_bf16")).to(DType.BF16);   // the golden weight is BF16-representable
        Tensor y = poisoned(x.dim(0), w.dim(0));
        ops.matmul(x, w, b, y);
        assertClose(tensor(g.get("y_bf16")), y, ATOL, RTOL, "matmul y (BF16 w)");
        Tensor dx = poisoned(x.shape()), dw = Tensor.zeros(DType.F32, w.shape());
        ops.matmulBackward(x, w, dy, dx, dw, null);
        assertClose(tensor(g.get("dx_bf16")), dx, ATOL, RTOL, "matmul dx (BF16 w)");
        assertClose(tensor(g.get("dw_bf16")), dw, ATOL, RTOL, "matmul dw (BF16 w)");
    }

    @Test
    void rmsnormAsQwen2RMSNorm() {
        JsonNode g = goldens.get("rmsnorm");
        Tensor x = tensor(g.get("x")), weight = tensor(g.get("weight")), dy = tensor(g.get("dy"));
        float eps = (float) g.get("eps").asDouble();
        int t = x.dim(0), c = x.dim(1);
        Tensor y = poisoned(t, c), rstd = poisoned(t);
        ops.rmsnorm(x, weight, eps, y, rstd);
        // HF computes mean(x²) and x·rsqrt in float32: a few float32 ulps of difference.
        assertClose(tensor(g.get("y")), y, ATOL, RTOL, "rmsnorm y");
        Tensor dx = poisoned(t, c), dweight = Tensor.zeros(DType.F32, c);
        ops.rmsnormBackward(x, weight, rstd, dy, dx, dweight);
        assertClose(tensor(g.get("dx")), dx, ATOL, RTOL, "rmsnorm dx");
        assertClose(tensor(g.get("dweight")), dweight, ATOL, RTOL, "rmsnorm dweight");
    }

    @Test
    void ropeWithLlama3ScaledTable() {
        rope("rope_llama3");
    }

    @Test
    void ropeWithQwen2Table() {
        rope("rope_qwen2");
    }

    private void rope(String name) {
        JsonNode g = goldens.get(name);
        assertEquals(1.0, g.get("attention_scaling").asDouble(), "the op has no cos/sin scaling");
        float[] invFreq = tensor(g.get("inv_freq")).toFloatArray();
        int[] pos = ints(g.get("pos"));
        Tensor x = tensor(g.get("x"));
        ops.rope(x, pos, invFreq);
        // cos/sin of the f32 angle: HF rounds them to f32, we keep double.
        assertClose(tensor(g.get("y")), x, ATOL, RTOL, name + " y");
        Tensor dx = tensor(g.get("dy"));
        ops.ropeBackward(dx, pos, invFreq);
        assertClose(tensor(g.get("dx")), dx, ATOL, RTOL, name + " dx");
    }

    @Test
    void attentionWithCacheLongerThanQueries() {
        attention("attention_cache");
    }

    @Test
    void attentionPrefill() {
        attention("attention_prefill");
    }

    private void attention(String name) {
        JsonNode g = goldens.get(name);
        Tensor q = tensor(g.get("q")), k = tensor(g.get("k")), v = tensor(g.get("v")), dout = tensor(g.get("dout"));
        int start = g.get("start").asInt();
        Tensor out = poisoned(q.shape()), lse = poisoned(q.dim(0), q.dim(1));
        ops.attention(q, k, v, start, out, lse);
        assertClose(tensor(g.get("out")), out, ATOL, RTOL, name + " out");
        assertClose(tensor(g.get("lse")), lse, ATOL, RTOL, name + " lse");
        Tensor dq = poisoned(q.shape()), dk = Tensor.zeros(DType.F32, k.shape()), dv = Tensor.zeros(DType.F32, v.shape());
        ops.attentionBackward(q, k, v, start, out, lse, dout, dq, dk, dv);
        assertClose(tensor(g.get("dq")), dq, ATOL, RTOL, name + " dq");
        assertClose(tensor(g.get("dk")), dk, ATOL, RTOL, name + " dk");
        assertClose(tensor(g.get("dv")), dv, ATOL, RTOL, name + " dv");
    }

    @Test
    void swiglu() {
        JsonNode g = goldens.get("swiglu");
        Tensor gate = tensor(g.get("gate")), up = tensor(g.get("up")), dh = tensor(g.get("dh"));
        Tensor h = poisoned(gate.shape());
        ops.swiglu(gate, up, h);
        assertClose(tensor(g.get("h")), h, ATOL, RTOL, "swiglu h");
        Tensor dgate = poisoned(gate.shape()), dup = poisoned(gate.shape());
        ops.swigluBackward(gate, up, dh, dgate, dup);
        assertClose(tensor(g.get("dgate")), dgate, ATOL, RTOL, "swiglu dgate");
        assertClose(tensor(g.get("dup")), dup, ATOL, RTOL, "swiglu dup");
    }

    @Test
    void embeddingGatherAndScatterAdd() {
        JsonNode g = goldens.get("embedding");
        Tensor table = tensor(g.get("table")), dout = tensor(g.get("dout"));
        int[] ids = ints(g.get("ids"));
        Tensor out = poisoned(ids.length, table.dim(1));
        ops.embedding(table, ids, out);
        assertClose(tensor(g.get("out")), out, 0, 0, "embedding out");
        Tensor dtable = Tensor.zeros(DType.F32, table.shape());
        ops.embeddingBackward(ids, dout, dtable);
        assertClose(tensor(g.get("dtable")), dtable, ATOL, RTOL, "embedding dtable");
    }

    @Test
    void tokenLogProbsAsLogSoftmax() {
        JsonNode g = goldens.get("token_logprobs");
        Tensor logits = tensor(g.get("logits")), dlogp = tensor(g.get("dlogp"));
        int[] targets = ints(g.get("targets"));
        Tensor logp = poisoned(targets.length), lse = poisoned(targets.length);
        ops.tokenLogProbs(logits, targets, logp, lse);
        assertClose(tensor(g.get("logp")), logp, ATOL, RTOL, "logp");
        assertClose(tensor(g.get("lse")), lse, ATOL, RTOL, "lse");
        Tensor dlogits = poisoned(logits.shape());
        ops.tokenLogProbsBackward(logits, targets, lse, dlogp, dlogits);
        assertClose(tensor(g.get("dlogits")), dlogits, ATOL, RTOL, "dlogits");
    }

    @Test
    void chunkedCrossEntropy() {
        JsonNode g = goldens.get("cross_entropy");
        Tensor h = tensor(g.get("h")), wOut = tensor(g.get("w_out"));
        int[] targets = ints(g.get("targets"));
        float[] weight = tensor(g.get("weight")).toFloatArray();
        assertEquals(true, h.dim(0) > Ops.LM_HEAD_CHUNK && h.dim(0) % Ops.LM_HEAD_CHUNK != 0, "the case spans chunks");
        Tensor logp = poisoned(targets.length);
        ops.lmHeadLogProbs(h, wOut, targets, logp, null, null, null);
        assertClose(tensor(g.get("logp")), logp, ATOL, RTOL, "lm head logp");
        Tensor dh = poisoned(h.shape()), dw = Tensor.zeros(DType.F32, wOut.shape());
        double loss = CrossEntropy.of(ops, h, wOut, targets, weight, dh, dw);
        assertEquals(g.get("loss").asDouble(), loss, 1e-6 * Math.abs(loss), "cross-entropy loss");
        assertClose(tensor(g.get("dh")), dh, 1e-7, RTOL, "cross-entropy dh");
        assertClose(tensor(g.get("dw_out")), dw, 1e-7, RTOL, "cross-entropy dwOut");
    }

    // ---- JSON ----------------------------------------------------------------------------------

    /** {"shape": [...], "data": [...]} as an F32 tensor (rounding the float64 goldens). */
    static Tensor tensor(JsonNode node) {
        int[] shape = ints(node.get("shape"));
        JsonNode data = node.get("data");
        float[] a = new float[data.size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) data.get(i).asDouble();
        return Tensor.of(a, shape);
    }

    static int[] ints(JsonNode node) {
        int[] a = new int[node.size()];
        for (int i = 0; i < a.length; i++) a[i] = node.get(i).asInt();
        return a;
    }
}
