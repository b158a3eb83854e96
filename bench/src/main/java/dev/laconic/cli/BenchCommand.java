package dev.laconic.cli;

import picocli.CommandLine.Command;

@Command(name = "bench", description = "Benchmarks: roofline (kernels against this machine's limits).")
public final class BenchCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("bench: not yet implemented");
    }
}
