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
 * The linear layer's forward y[T,N] = x[T,K]·w[N,K]ᵀ through {@link VectorOps#matmul} at the three
 * weight shapes of DeepSeek-R1-Distill-Qwen-1.5B, for T = 1 (decode: a matvec, read the {@code gbyte}
 * rate, weight bytes per second) up to T = 512 (prefill/training: read the {@code gflop} rate).
 *
 * <p>Run: {@code ./laconic bench jmh GemmBench} (filter with e.g. {@code -p t=512 -p wtype=F32}).
 * The primary score is calls per second; the two secondary scores are rates: {@code gflop} = GFLOP/s
 * and {@code gbyte} = weight GB/s. For T ≤ 16 the weights are cycled through copies totalling
 * ≥ 256 MiB, so the kernel streams them from DRAM as decoding a 28-layer model does, rather than
 * re-reading one 27 MB weight from a 32 MB L3.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:+UseParallelGC"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmBench {
    @Param({"1", "16", "128", "512"})
    public int t;

    /** A {@link GemmCase#LAYERS} name: w[N,K] = 1536×1536, 8960×1536 or 1536×8960. */
    @Param({"q/o_proj", "gate/up_proj", "down_proj"})
    public String layer;

    @Param({"F32", "BF16"})
    public String wtype;

    private GemmCase.Prepared prepared;
    private double gflopPerCall, gbytePerCall;

    /** Secondary scores, reported per second: GFLOP/s and weight GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double gflop, gbyte;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
            gbyte = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        GemmCase.Layer l = GemmCase.layer(layer);
        GemmCase c = new GemmCase("fwd", Kind.FWD, t, l.n(), l.k(), DType.valueOf(wtype));
        // BF16 weights off-heap, standing in for the memory-mapped checkpoint they come from
        prepared = c.prepare(new VectorOps(), t <= 16 ? 256L << 20 : 0, c.wtype() != DType.F32, 42);
        gflopPerCall = c.flops() * 1e-9;
        gbytePerCall = c.weightBytes() * 1e-9;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        prepared.close();
    }

    /** One pass over the weight copies; the rates count every call in it. */
    @Benchmark
    public float forward(Rates r) {
        prepared.run();
        r.gflop += gflopPerCall * prepared.calls();
        r.gbyte += gbytePerCall * prepared.calls();
        return prepared.checksum();
    }
}
