package dev.laconic.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./laconic} command line. Each subcommand is a small class next to the code it drives;
 * this is the only place that lists them.
 */
@Command(name = "laconic", mixinStandardHelpOptions = true, version = "laconic 0.1.0",
        description = "Pure-Java reasoning models that think in fewer tokens.",
        subcommands = {InspectCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Laconic implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Laconic()).execute(args));
    }
}
