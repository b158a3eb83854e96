package dev.laconic.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --threads N}: the worker pool's size, set before the pool starts (a run reproduces exactly at the same count). */
public final class ThreadsOption {
    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores; results are reproducible at the same count)")
    void threads(int n) {
        // a ParameterException is a fault in the flags: one plain line (an IllegalArgumentException here would come out
        // wrapped in picocli's "Could not invoke ... with 0" reflection message)
        if (n < 1) throw new CommandLine.ParameterException(mixee.commandLine(), "--threads must be ≥ 1, not " + n);
        System.setProperty("laconic.threads", Integer.toString(n));   // read when the pool starts
    }
}
