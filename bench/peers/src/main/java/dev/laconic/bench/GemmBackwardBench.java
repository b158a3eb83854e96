package dev.laconic.bench;

import dev.laconic.bench.GemmCase.Kind;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The linear layer's backward GEMMs through {@link VectorOps#matmulBackward}, at the same shapes as
 * {@link GemmBench}:
 * <pre>
 *   dx        dx[T,K] = dy[T,N] · w[N,K]       (w F32: full fine-tuning)
 *   dx-bf16w  the same with w BF16             (frozen base weights under LoRA)
 *   dw        dw[N,K] += dy[T,N]ᵀ · x[T,K]
 * </pre>
 * each 2·T·N·K flops; the {@code gflop} secondary score is GFLOP/s. Target (issue 3): ≥ 0.75 × the
 * forward GEMM's GFLOP/s at the same shape. Run: {@code ./laconic bench jmh GemmBackwardBench -p t=512}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:+UseParallelGC"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmBackwardBench {
    @Param({"16", "128", "512"})
    public int t;

    @Param({"q/o_proj", "gate/up_proj", "down_proj"})
    public String layer;

    @Param({"dx", "dx-bf16w", "dw"})
    public String op;

    private GemmCase.Prepared prepared;
    private double gflopPerCall;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        GemmCase.Layer l = GemmCase.layer(layer);
        Kind kind = op.equals("dw") ? Kind.DW : Kind.DX;
        DType wtype = op.equals("dx-bf16w") ? DType.BF16 : DType.F32;
        GemmCase c = new GemmCase(op, kind, t, l.n(), l.k(), wtype);
        prepared = c.prepare(new VectorOps(), 0, wtype != DType.F32, 42);
        gflopPerCall = c.flops() * 1e-9;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        prepared.close();
    }

    @Benchmark
    public float backward(Rates r) {
        prepared.run();
        r.gflop += gflopPerCall * prepared.calls();
        return prepared.checksum();
    }
}
