package dev.laconic.cli;

import picocli.CommandLine.Option;

/** {@code --threads N}: the worker pool's size, set before the pool starts (a run reproduces exactly at the same count). */
public final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores; results are reproducible at the same count)")
    void threads(int n) {
        if (n < 1) throw new IllegalArgumentException("--threads must be ≥ 1");
        System.setProperty("laconic.threads", Integer.toString(n));   // read when the pool starts
    }
}
