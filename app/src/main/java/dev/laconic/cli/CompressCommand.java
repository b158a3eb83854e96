package dev.laconic.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./laconic compress ...}: the two reasoning-compression methods (../shared/methods.md).
 * Method A (TL;DR re-weighting): {@code tldr} trains, {@code tldr-data} builds its two data sets.
 * Method B (RL with a length-penalised correctness reward): {@code rl}.
 */
@Command(name = "compress", mixinStandardHelpOptions = true, description = "Fine-tune a long reasoner to think in fewer tokens: tldr (dynamic System-1/System-2 re-weighting), its data builder, and rl (length-penalised reward).",
        subcommands = {
                CompressTldrCommand.class,
                CompressTldrDataCommand.class,
                CompressRlCommand.class,
        })
public final class CompressCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
