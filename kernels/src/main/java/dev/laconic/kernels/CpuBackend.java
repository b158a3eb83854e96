package dev.laconic.kernels;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.Ops;

/**
 * The {@code cpu} backend: the Vector API kernels ({@link VectorOps}). Registered with
 * {@link java.util.ServiceLoader} (META-INF/services/dev.laconic.tensor.Backend); users reach it
 * through {@link Backend#named}.
 */
public final class CpuBackend implements Backend {
    private VectorOps ops;

    @Override
    public String name() { return "cpu"; }

    @Override
    public synchronized Ops ops() {
        if (ops == null) ops = new VectorOps();
        return ops;
    }

    @Override
    public String toString() { return "cpu (Vector API)"; }
}
