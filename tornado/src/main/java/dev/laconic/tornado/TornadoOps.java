package dev.laconic.tornado;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;
import dev.laconic.transformer.DeviceDecoder;
import dev.laconic.transformer.ModelConfig;
import dev.laconic.transformer.Weights;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;

import java.util.List;

/**
 * The TornadoVM backend ({@code --backend tornado}), chosen only through {@link TornadoBackend}.
 *
 * <p>Two things run on the device:
 * <ul>
 *   <li>decoding: {@link #decoder} gives the transformer a {@link TornadoDecoder}, which runs each
 *       token through the whole model on the device, with the weights uploaded once and the
 *       activations and the KV cache kept there between layers and tokens;</li>
 *   <li>the linear layer's GEMMs of prefill, scoring and training ({@link #matmul},
 *       {@link #matmulBackward}: y = x·Wᵀ, dx = dy·W, dW += dyᵀ·x) from {@link #MIN_ROWS} rows up,
 *       where T rows amortise the transfers ({@link DeviceGemm}).</li>
 * </ul>
 * Every other op, and products of fewer rows, are the CPU backend's (Vector API) ops: they are cheap next to
 * the GEMMs, and a round trip to the device per op would cost more than it saves.
 *
 * <p>Needs the TornadoVM runtime on the JVM ({@code java @$TORNADOVM_HOME/tornado-argfile}); without it
 * the constructor stops with {@link TornadoBackend#NO_RUNTIME}, before any TornadoVM class is touched.
 */
public final class TornadoOps implements Ops, DeviceDecoder.Source {
    /** Rows from which a product runs on the device. */
    public static final int MIN_ROWS = 32;

    private final Ops cpu = Backend.named("cpu").ops();
    private final int minRows;
    private final String device;
    private DeviceGemm gemm;           // created on the first device product

    public TornadoOps() {
        this(MIN_ROWS);
    }

    /** minRows = 1 sends every product to the device (the tests do). */
    TornadoOps(int minRows) {
        this.device = requireRuntime();
        this.minRows = minRows;
    }

    /** Checks that TornadoVM's runtime and a device are there; returns the default device's name. */
    static String requireRuntime() {
        // the SDK's argfile names the implementation classes; with only tornado-api on the class path
        // TaskGraph and TornadoExecutionPlan fail in their static initialisers
        if (System.getProperty("tornado.load.api.implementation") == null) throw new IllegalStateException(TornadoBackend.NO_RUNTIME);
        // the layer graph has ~20 tasks: more TornadoVM bytecode than its default buffer of 4096 bytes
        System.getProperties().putIfAbsent("tornado.tvm.maxbytecodesize", "65536");
        // a kernel that fails to compile must fail loudly: TornadoVM's fallback runs the graph as sequential
        // Java on host memory, which cannot see the buffers the other graphs keep on the device
        System.getProperties().putIfAbsent("tornado.recover.bailout", "false");
        try {
            return TornadoExecutionPlan.DEFAULT_DEVICE.getDeviceName();
        } catch (Throwable e) {   // ExceptionInInitializerError, UnsatisfiedLinkError, ...: no driver or device
            throw new IllegalStateException("TornadoVM started but found no usable device (" + e
                    + "); `tornado --devices` lists what the SDK sees (an OpenCL ICD such as pocl-opencl-icd, or the NVIDIA driver)");
        }
    }

    /** The default TornadoVM device's name. */
    public String device() { return device; }

    @Override
    public String toString() { return "TornadoOps(" + device + ")"; }

    @Override
    public DeviceDecoder decoder(ModelConfig cfg, Weights weights) {
        return new TornadoDecoder(cfg, weights);
    }

    // ---- the linear layer: device GEMMs from minRows rows up ---------------------------------------

    private boolean onDevice(Tensor x, Tensor w, int rows) {
        return rows >= minRows && w.rank() == 2 && x.dtype() == DType.F32 && x.numel() == (long) rows * w.dim(1)
                && DeviceGemm.fits(rows, w.dim(0), w.dim(1));
    }

    private DeviceGemm gemm() {
        if (gemm == null) gemm = new DeviceGemm();
        return gemm;
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor b, Tensor y) {
        int rows = (int) (x.numel() / Math.max(1, w.dim(-1)));
        if (!onDevice(x, w, rows) || y.dtype() != DType.F32 || y.numel() != (long) rows * w.dim(0)) {
            cpu.matmul(x, w, b, y);
            return;
        }
        gemm().forward(x.reshape(rows, w.dim(1)), w, b, y);
    }

    @Override
    public void matmulBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int rows = (int) (x.numel() / Math.max(1, w.dim(-1)));
        if (!onDevice(x, w, rows) || dy.dtype() != DType.F32 || dy.numel() != (long) rows * w.dim(0)) {
            cpu.matmulBackward(x, w, dy, dx, dw, db);
            return;
        }
        Tensor x2 = x.reshape(rows, w.dim(1)), dy2 = dy.reshape(rows, w.dim(0));
        if (dx != null) gemm().inputGrad(w, dy2, dx);
        if (dw != null) gemm().weightGrad(x2, dy2, dw);
        if (db != null) cpu.matmulBackward(x, w, dy, null, null, db);   // Σ_t dy: one pass over dy
    }

    // ---- everything else: the CPU kernels -----------------------------------------------------------

    @Override public void residual(Tensor x, Tensor y) { cpu.residual(x, y); }
    @Override public void rmsnorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd) { cpu.rmsnorm(x, weight, eps, y, rstd); }
    @Override public void rmsnormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor dweight) { cpu.rmsnormBackward(x, weight, rstd, dy, dx, dweight); }
    @Override public void rope(Tensor x, int[] pos, float[] invFreq) { cpu.rope(x, pos, invFreq); }
    @Override public void ropeBackward(Tensor dx, int[] pos, float[] invFreq) { cpu.ropeBackward(dx, pos, invFreq); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse) { cpu.attention(q, k, v, start, out, lse); }
    @Override public void attentionBackward(Tensor q, Tensor k, Tensor v, int start, Tensor out, Tensor lse, Tensor dout, Tensor dq, Tensor dk, Tensor dv) { cpu.attentionBackward(q, k, v, start, out, lse, dout, dq, dk, dv); }
    @Override public void swiglu(Tensor gate, Tensor up, Tensor h) { cpu.swiglu(gate, up, h); }
    @Override public void swigluBackward(Tensor gate, Tensor up, Tensor dh, Tensor dgate, Tensor dup) { cpu.swigluBackward(gate, up, dh, dgate, dup); }
    @Override public void embedding(Tensor table, int[] ids, Tensor out) { cpu.embedding(table, ids, out); }
    @Override public void embeddingBackward(int[] ids, Tensor dout, Tensor dtable) { cpu.embeddingBackward(ids, dout, dtable); }
    @Override public void tokenLogProbs(Tensor logits, int[] targets, Tensor logp, Tensor lse) { cpu.tokenLogProbs(logits, targets, logp, lse); }
    @Override public void tokenLogProbsBackward(Tensor logits, int[] targets, Tensor lse, Tensor dlogp, Tensor dlogits) { cpu.tokenLogProbsBackward(logits, targets, lse, dlogp, dlogits); }
    @Override public double sumOfSquares(List<Tensor> xs) { return cpu.sumOfSquares(xs); }
    @Override public void scale(Tensor x, double factor) { cpu.scale(x, factor); }
    @Override public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, long step) { cpu.adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step); }
}
