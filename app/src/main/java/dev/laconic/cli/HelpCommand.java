package dev.laconic.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

/**
 * {@code laconic help [COMMAND [SUBCOMMAND...]]}: the usage of the named command, however deep ({@code help gym data}
 * is gym data's; picocli's own help command looks at the first name only).
 */
@Command(name = "help", helpCommand = true, description = "Shows the help of a command: help COMMAND [SUBCOMMAND...] (the same as COMMAND ... --help).")
final class HelpCommand implements Runnable, CommandLine.IHelpCommandInitializable2 {
    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "the command (and subcommands) to show the help of") String[] commands = {};

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.") boolean help;

    private CommandLine self;
    private Help.ColorScheme colors;
    private PrintWriter out;

    @Override
    public void init(CommandLine helpCommandLine, Help.ColorScheme colorScheme, PrintWriter out, PrintWriter err) {
        this.self = helpCommandLine;
        this.colors = colorScheme;
        this.out = out;
    }

    @Override
    public void run() {
        CommandLine c = self.getParent();
        if (c == null) return;
        StringBuilder path = new StringBuilder(c.getCommandName());
        for (String name : commands) {
            CommandLine sub = c.getSubcommands().get(name);
            path.append(' ').append(name);
            if (sub == null) throw new CommandLine.ParameterException(self, "no command '" + path + "' (laconic --help lists the commands)");
            c = sub;
        }
        c.usage(out, colors);
    }
}
