package dev.laconic.bench;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Ops;
import dev.laconic.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One linear-layer product to time, with the weight w[N,K] of a real layer:
 * <pre>
 *   FWD  y[T,N]  = x[T,K] · w[N,K]ᵀ        Ops.matmul
 *   DX   dx[T,K] = dy[T,N] · w[N,K]         Ops.matmulBackward (dx only)
 *   DW   dw[N,K] += dy[T,N]ᵀ · x[T,K]       Ops.matmulBackward (dw only)
 * </pre>
 * All three cost 2·T·N·K flops. At T = 1 the forward is a matvec, bound by streaming the weight, so
 * its figure of merit is weight bytes per second instead of flops.
 */
public record GemmCase(String name, Kind kind, int t, int n, int k, DType wtype) {

    public enum Kind { FWD, DX, DW }

    /** DeepSeek-R1-Distill-Qwen-1.5B: model dim C and MLP dim F. */
    public static final int C = 1536, F = 8960;

    /** The three weight shapes w[N,K] of one Qwen2-1.5B layer (k/v projections are smaller than q/o). */
    public record Layer(String name, int n, int k) {}

    /** The layers of a model with model dim c and MLP dim f (the roofline's quick mode shrinks them). */
    public static List<Layer> layers(int c, int f) {
        return List.of(new Layer("q/o_proj", c, c), new Layer("gate/up_proj", f, c), new Layer("down_proj", c, f));
    }

    public static final List<Layer> LAYERS = layers(C, F);

    public static Layer layer(String name) {
        for (Layer l : LAYERS) if (l.name.equals(name)) return l;
        throw new IllegalArgumentException("unknown layer " + name + "; known: " + LAYERS);
    }

    public double flops() {
        return 2.0 * t * n * k;
    }

    public long weightBytes() {
        return (long) n * k * wtype.bytes;
    }

    /** ASCII, so the table survives any terminal encoding. */
    public String shape() {
        String s = switch (kind) {
            case FWD -> t + "x" + k + " * (" + n + "x" + k + ")^T";
            case DX -> t + "x" + n + " * " + n + "x" + k;
            case DW -> "(" + t + "x" + n + ")^T * " + t + "x" + k;
        };
        return wtype == DType.F32 ? s : s + " " + wtype.name().toLowerCase();
    }

    /** The case's operands, ready to run: {@link #run()} does {@link #calls()} kernel calls. */
    public static final class Prepared implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final GemmCase c;
        private final Ops ops;
        private final Tensor[] w;           // copies of w[N,K], cycled so a matvec never finds its weight in cache
        private final Tensor x, y, dy, dx, dw; // x[T,K], y[T,N], dy[T,N], dx[T,K], dw[N,K]

        private Prepared(GemmCase c, Ops ops, long minWeightBytes, boolean offHeapWeights, long seed) {
            this.c = c;
            this.ops = ops;
            var rnd = new SplittableRandom(seed);
            int copies = (int) Math.max(1, (minWeightBytes + c.weightBytes() - 1) / c.weightBytes());
            w = new Tensor[copies];
            w[0] = offHeapWeights ? Tensor.wrap(arena.allocate(c.weightBytes(), 64), c.wtype, c.n, c.k)
                                  : Tensor.zeros(c.wtype, c.n, c.k);
            fill(w[0], rnd);
            for (int i = 1; i < copies; i++) {
                w[i] = offHeapWeights ? Tensor.wrap(arena.allocate(c.weightBytes(), 64), c.wtype, c.n, c.k)
                                      : Tensor.zeros(c.wtype, c.n, c.k);
                MemorySegment.copy(w[0].segment(), 0, w[i].segment(), 0, c.weightBytes());
            }
            boolean fwd = c.kind == Kind.FWD;
            x = random(rnd, c.t, c.k);          // DX does not read x, but the contract takes T from it
            y = fwd ? Tensor.zeros(DType.F32, c.t, c.n) : null;
            dy = fwd ? null : random(rnd, c.t, c.n);
            dx = c.kind == Kind.DX ? Tensor.zeros(DType.F32, c.t, c.k) : null;
            dw = c.kind == Kind.DW ? Tensor.zeros(DType.F32, c.n, c.k) : null;
        }

        public int calls() {
            return w.length;
        }

        public void run() {
            for (Tensor wi : w) {
                switch (c.kind) {
                    case FWD -> ops.matmul(x, wi, null, y);
                    case DX -> ops.matmulBackward(x, wi, dy, dx, null, null);
                    case DW -> ops.matmulBackward(x, wi, dy, null, dw, null);
                }
            }
        }

        /** A value that depends on the outputs, so no run is dead code. */
        public float checksum() {
            Tensor out = y != null ? y : dx != null ? dx : dw;
            return out.getFloat(0) + out.getFloat(out.numel() - 1);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * Allocates and fills this case's operands. minWeightBytes &gt; 0 makes enough weight copies to
     * total at least that many bytes (a matvec over one 27 MB weight would otherwise run from a 32 MB
     * L3 and report cache bandwidth, which decoding 28 layers never sees). Off-heap weights stand in
     * for a memory-mapped checkpoint.
     */
    public Prepared prepare(Ops ops, long minWeightBytes, boolean offHeapWeights, long seed) {
        return new Prepared(this, ops, minWeightBytes, offHeapWeights, seed);
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        fill(t, rnd);
        return t;
    }

    private static void fill(Tensor t, SplittableRandom rnd) {
        float[] a = t.floatArray();
        if (a != null) {
            for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        } else {
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (rnd.nextDouble() * 2 - 1));
        }
    }
}
