package dev.laconic.cli;

import dev.laconic.bench.BackendOption;
import dev.laconic.cluster.ClusterOptions;
import dev.laconic.cluster.Worker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "worker", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A cluster member that decodes chunks for eval, compress rl/tldr/tldr-data and generate --in run with --cluster.",
                "It memory-maps the base model the trainer names (same path on every machine, or --model), checks its content hash and "
                        + "the Laconic build, builds the model once and keeps it; per policy update only the LoRA tensors travel.",
                "Listens on 127.0.0.1 unless --bind or --public-address is given; no multicast, auto-detection or phone-home. Stop it with Ctrl-C."})
public final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--cluster", paramLabel = "HOST:PORT[,...]", description = "the other workers to join (default: none, a cluster of its own)")
    String cluster;
    @Option(names = "--port", description = "port to listen on (default: " + ClusterOptions.DEFAULT_PORT + ", or the next free one)") Integer port;
    @Option(names = "--bind", description = "address to listen on (default: 127.0.0.1; with --public-address: every interface)") String bind;
    @Option(names = "--public-address", paramLabel = "HOST:PORT", description = "the address other machines reach this worker at (default: the bound one)") String publicAddress;
    @Option(names = "--model", description = "this machine's copy of the base model (default: the path the trainer names); its content must match") Path model;
    @Mixin ClusterOption.Access access;
    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        if (model != null && !Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + ": not a model directory");
        List<String> members = cluster == null ? List.of() : ClusterOptions.parseMembers(cluster);
        ClusterOptions o = access.options(members, bind, publicAddress, port, null);
        Worker w = Worker.start(new Worker.Options(o, model, backend.backend(), System.err));
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        return w.await();
    }
}
