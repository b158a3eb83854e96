package dev.laconic.cli;

import dev.laconic.bench.BackendOption;
import dev.laconic.bench.Peers;
import dev.laconic.bench.Roofline;
import dev.laconic.bench.RooflineReport;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ./laconic bench roofline} (kernels against this machine's limits, with OpenBLAS side by
 * side) and {@code ./laconic bench jmh [JMH args]} (the JMH kernel benchmarks).
 */
@Command(name = "bench", description = "Benchmarks: roofline (kernels against this machine's limits) and jmh.",
        mixinStandardHelpOptions = true,
        subcommands = {BenchCommand.RooflineCommand.class, dev.laconic.bench.decode.DecodeBenchCommand.class,
                dev.laconic.bench.train.TrainBenchCommand.class, BenchCommand.JmhCommand.class})
public final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return 0;
    }

    @Command(name = "roofline", mixinStandardHelpOptions = true,
            description = {"Measures read bandwidth and FMA peak from Java, runs the GEMM and matvec kernels at",
                    "DeepSeek-R1-Distill-Qwen-1.5B shapes, and prints achieved / limit per kernel; when a Python",
                    "with numpy is found, also numpy/OpenBLAS sgemm on the same shapes (ours / OpenBLAS)."})
    static final class RooflineCommand implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--json", description = "Print {\"rows\": [...], \"machine\": {...}} instead of the table.")
        boolean json;

        @Option(names = "--python", paramLabel = "PATH",
                description = "Python with numpy for the OpenBLAS peer (default: python3, then ./tools/.venv, ./.venv, ./venv).")
        String python;

        @Option(names = "--no-openblas", description = "Skip the OpenBLAS peer.")
        boolean noPeer;

        @Option(names = "--quick", description = "Small shapes and few reps (seconds; for tests, not for numbers).")
        boolean quick;

        @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
        Integer threads;

        @Mixin BackendOption backend;   // the kernels measured; the limits are this CPU's

        @Override
        public Integer call() {
            Backend chosen = backend.backend();   // first: a missing backend is reported before any measuring
            if (threads != null) {
                if (threads < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be ≥ 1, not " + threads);
                // Parallel reads this once, when it is first used; nothing has used it yet in this process.
                System.setProperty("laconic.threads", Integer.toString(threads));
                if (Parallel.threads() != threads) {
                    System.err.println("bench roofline: the worker pool already runs " + Parallel.threads()
                            + " threads; cannot change to " + threads + " in this process");
                    return 2;
                }
            }
            RooflineReport report = Roofline.run(new Roofline.Options(quick, python, !noPeer, chosen.ops()), System.err);
            System.out.println(json ? report.toJson() : report.toTable());
            return 0;
        }
    }

    /**
     * Everything after {@code jmh} goes to JMH unchanged (so -h, -l, -p t=512, -f 1 are JMH's). JMH and the
     * benchmarks are in bench/peers, not in laconic.jar: they run in a child JVM on the peers' class path.
     */
    @Command(name = "jmh", description = {"Runs the JMH benchmarks (GemmBench, GemmBackwardBench; built by bench/peers) in a child JVM; arguments go to JMH.",
            "Examples: bench jmh -l;  bench jmh GemmBench -p t=1 -p wtype=BF16;  bench jmh -h"})
    static final class JmhCommand implements Callable<Integer> {
        @CommandLine.Unmatched
        List<String> args = new ArrayList<>();

        @Option(names = "--help", usageHelp = true, description = "Show this help message and exit (-h and every other argument go to JMH: bench jmh -h is JMH's help).")
        boolean help;

        @Override
        public Integer call() throws Exception {
            return Peers.jmh(args, System.out);
        }
    }
}
