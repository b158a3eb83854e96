package dev.laconic.cli;

import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.tensor.safetensors.SafetensorsException;
import dev.laconic.training.Jsonl;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@code ./laconic} command line (the app module, which builds laconic.jar). Each subcommand is a
 * small class in this package (bench decode and bench train: in the bench module, beside the runs they
 * drive); this is the only place that lists them. Faults in the user's input end as one {@code error:} line on
 * stderr: files and data with exit code 1, flags (unknown, missing, malformed) with exit code 2; anything else is a
 * bug and keeps its stack trace. Every command and subcommand answers {@code -h}/{@code --help} (exit 0).
 */
@Command(name = "laconic", mixinStandardHelpOptions = true, version = "laconic 0.1.0",
        description = "Pure-Java reasoning models that think in fewer tokens.",
        subcommands = {ServeCommand.class, ChatCommand.class,
                InspectCommand.class, TokenizeCommand.class, DetokenizeCommand.class, ScoreCommand.class,
                GenerateCommand.class, TrainSftCommand.class, ExportCommand.class, EvalCommand.class, GradeCommand.class, GymCommand.class, CompressCommand.class, DemoCommand.class, WorkerCommand.class, BenchCommand.class, HelpCommand.class})
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
        }).setParameterExceptionHandler(Laconic::badFlags).setExecutionStrategy(Laconic::runMappingFaults);
    }

    /**
     * Runs the command; the JVM's InternalError for a read of a memory-mapped page that is gone (a safetensors file
     * truncated or overwritten while in use) ends as the one line naming the file, like any bad input.
     */
    static int runMappingFaults(CommandLine.ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (InternalError e) {
            if (!(Checkpoint.explain(e) instanceof SafetensorsException s)) throw e;
            CommandLine cmd = parsed.commandSpec().commandLine();
            cmd.getErr().println("error: " + s.getMessage());
            cmd.getErr().flush();
            return 1;
        }
    }

    /**
     * A fault in the flags themselves (unknown, missing, malformed or out of range): one line, with picocli's
     * suggestion for a misspelt option and where the usage is, and exit code 2 (picocli's for invalid input).
     */
    static int badFlags(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String hint = "";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty())
            hint = " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        String m = e.getMessage() == null ? e.toString() : e.getMessage().replaceFirst("^Error: ", "");
        cmd.getErr().println("error: " + m + hint + "; see " + cmd.getCommandSpec().qualifiedName() + " --help");
        cmd.getErr().flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    static boolean isUserFault(Throwable e) {
        return e instanceof Jsonl.BadInput || e instanceof SafetensorsException || e instanceof IOException
                || e instanceof UncheckedIOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException;
    }
}
