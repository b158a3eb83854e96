package dev.laconic.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * -h/--help on every command and subcommand of {@link Laconic#commandLine()}: exit 0 and the usage text, even where
 * options are required (picocli checks those only when no help was asked for); every default is in the help; the
 * help command finds nested commands; a bad flag value is one plain line.
 */
class HelpTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Laconic.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Every command, groups ("compress", "gym", "bench") and leaves alike, the root included. */
    static List<CommandLine> all(CommandLine cl, List<CommandLine> out) {
        out.add(cl);
        for (CommandLine sub : new LinkedHashSet<>(cl.getSubcommands().values())) all(sub, out);
        return out;
    }

    /** The words after "laconic": what a user types. */
    static List<String> path(CommandLine cl) {
        List<String> words = new ArrayList<>(List.of(cl.getCommandSpec().qualifiedName().split(" ")));
        words.removeFirst();
        return words;
    }

    static String[] args(List<String> path, String flag) {
        List<String> a = new ArrayList<>(path);
        a.add(flag);
        return a.toArray(String[]::new);
    }

    @Test
    void everyCommandAnswersHelpWithItsUsage() {
        List<CommandLine> commands = all(Laconic.commandLine(), new ArrayList<>());
        assertTrue(commands.size() >= 22, commands.size() + " commands");
        List<String> failed = new ArrayList<>();
        for (CommandLine cl : commands) {
            String name = cl.getCommandSpec().qualifiedName();
            // bench jmh passes -h (and every other argument) on to JMH: only --help is its own
            for (String flag : name.equals("laconic bench jmh") ? List.of("--help") : List.of("--help", "-h")) {
                Run r = run(args(path(cl), flag));
                if (r.exit() != 0 || !r.out().startsWith("Usage: " + name + " ") || !r.err().isEmpty())
                    failed.add(name + " " + flag + ": exit " + r.exit() + ", " + (r.err().isEmpty() ? r.out() : r.err()).lines().findFirst().orElse(""));
            }
        }
        assertEquals(List.of(), failed);
    }

    @Test
    void helpFindsNestedCommands() {
        for (String[] path : new String[][]{{"gym", "data"}, {"compress", "tldr"}, {"bench", "roofline"}, {"generate"}}) {
            Run viaHelp = run(args(List.of(path), "--help")), viaCommand = run(args(List.of(path), "--help"));
            List<String> h = new ArrayList<>(List.of("help"));
            h.addAll(List.of(path));
            Run r = run(h.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            assertEquals(viaCommand.out(), r.out(), String.join(" ", path));
            assertEquals(viaHelp.out(), viaCommand.out());
        }
        Run bad = run("help", "gym", "nope");
        assertEquals(2, bad.exit());
        assertEquals("error: no command 'laconic gym nope' (laconic --help lists the commands); see laconic help --help", bad.err().strip());
    }

    @Test
    void everyOptionShowsItsDefault() {
        List<String> missing = new ArrayList<>();
        for (CommandLine cl : all(Laconic.commandLine(), new ArrayList<>())) {
            for (OptionSpec o : cl.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp() || o.hidden() || o.required() || o.arity().max() == 0) continue;
                ArgGroupSpec g = o.group();
                if (g != null && g.multiplicity().min() > 0 && g.exclusive()) continue;   // one of them must be given
                String desc = String.join(" ", o.description());
                boolean shows = desc.toLowerCase(Locale.ROOT).contains("default");
                if (o.defaultValue() != null) shows &= desc.contains(o.defaultValue()) || desc.toLowerCase(Locale.ROOT).contains("default:");
                if (!shows) missing.add(cl.getCommandSpec().qualifiedName() + " " + o.longestName() + ": " + desc);
            }
        }
        assertEquals(List.of(), missing, "options whose --help does not show the default");
    }

    @Test
    void aBadFlagValueIsOnePlainLine() {
        Run r = run("score", "--model", "m", "--in", "x.jsonl", "--threads", "0");
        assertEquals(2, r.exit());
        assertEquals("error: --threads must be ≥ 1, not 0; see laconic score --help", r.err().strip());
        r = run("generate", "--model", "m", "--prompt", "x", "--temprature", "1");
        assertEquals(2, r.exit());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: Unknown options: '--temprature'") && r.err().contains("did you mean --temperature?"), r.err());
        r = run("gym", "--nope");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("error: Unknown option: '--nope'"), r.err());
    }
}
