package dev.laconic.cli;

import dev.laconic.tensor.safetensors.SafetensorsException;
import dev.laconic.training.Jsonl;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@code ./laconic} command line (the app module, which builds laconic.jar). Each subcommand is a
 * small class in this package (bench decode and bench train: in the bench module, beside the runs they
 * drive); this is the only place that lists them. Faults in the user's input (files, flags, data) end as one
 * line on stderr and exit code 1; anything else is a bug and keeps its stack trace.
 */
@Command(name = "laconic", mixinStandardHelpOptions = true, version = "laconic 0.1.0",
        description = "Pure-Java reasoning models that think in fewer tokens.",
        subcommands = {InspectCommand.class, TokenizeCommand.class, DetokenizeCommand.class, ScoreCommand.class,
                GenerateCommand.class, TrainSftCommand.class, ExportCommand.class, EvalCommand.class, GradeCommand.class, GymCommand.class, CompressCommand.class, DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Laconic implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also used by tests). */
    public static CommandLine commandLine() {
        return new CommandLine(new Laconic()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (isUserFault(e)) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
    }

    static boolean isUserFault(Throwable e) {
        return e instanceof Jsonl.BadInput || e instanceof SafetensorsException || e instanceof IOException
                || e instanceof UncheckedIOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException;
    }
}
