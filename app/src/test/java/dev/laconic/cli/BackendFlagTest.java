package dev.laconic.cli;

import dev.laconic.tensor.Backend;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --backend: every command that computes lists it in its --help, with the default in effect; cpu runs
 * as before; tornado in a build without the TornadoVM module (the default build) fails with exit 1 and
 * one "error:" line that says how to get it, never a stack trace.
 */
class BackendFlagTest {
    /** The commands that compute nothing with a model or kernels: the only ones without --backend. */
    static final Set<String> NOT_COMPUTING = Set.of("laconic inspect", "laconic tokenize", "laconic detokenize", "laconic grade",
            "laconic gym data", "laconic bench jmh", "laconic help");

    /** Every command that runs (a leaf of the tree: "compress", "gym" and "bench" only group others), by its full name. */
    static List<CommandLine> leaves(CommandLine cl, List<CommandLine> out) {
        if (cl.getSubcommands().isEmpty()) out.add(cl);
        // a command's aliases map to the same CommandLine: visit each once
        for (CommandLine sub : new java.util.LinkedHashSet<>(cl.getSubcommands().values())) leaves(sub, out);
        return out;
    }

    static String name(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName();
    }

    @Test
    void everyCommandThatComputesListsBackendWithItsDefault() {
        List<String> computing = new ArrayList<>(), plain = new ArrayList<>();
        for (CommandLine cl : leaves(Laconic.commandLine(), new ArrayList<>())) {
            String help = cl.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");   // descriptions wrap
            boolean lists = help.contains("--backend=cpu|tornado");
            if (NOT_COMPUTING.contains(name(cl))) {
                plain.add(name(cl));
                assertFalse(lists, name(cl) + " computes nothing, yet lists --backend:\n" + help);
            } else {
                computing.add(name(cl));
                assertTrue(lists, name(cl) + " computes, so its --help must list --backend:\n" + help);
                assertTrue(help.contains("(now: " + System.getProperty(Backend.PROPERTY, "cpu") + ")"), name(cl) + ": the default in effect\n" + help);
            }
        }
        assertEquals(NOT_COMPUTING, Set.copyOf(plain), "every command listed as computing nothing exists");
        assertTrue(computing.containsAll(List.of("laconic generate", "laconic score", "laconic eval", "laconic train-sft", "laconic export",
                "laconic compress tldr", "laconic compress tldr-data", "laconic compress rl", "laconic gym pretrain", "laconic demo",
                "laconic bench decode", "laconic bench train", "laconic bench roofline")), computing.toString());
    }

    @Test
    void theDefaultIsTheLaconicBackendProperty() {
        String before = System.getProperty(Backend.PROPERTY);
        System.setProperty(Backend.PROPERTY, "tornado");
        try {
            CommandLine generate = Laconic.commandLine().getSubcommands().get("generate");
            String help = generate.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
            assertTrue(help.contains("(now: tornado)"), help);
        } finally {
            if (before == null) System.clearProperty(Backend.PROPERTY);
            else System.setProperty(Backend.PROPERTY, before);
        }
    }

    @Test
    void cpuGeneratesAsBefore() throws Exception {
        ModelCommandsTest.Run r = ModelCommandsTest.run("generate", "--model", ModelCommandsTest.MODEL.toString(), "--backend", "cpu",
                "--prompt", "Hello", "--max-tokens", "2", "--temperature", "0");
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void tornadoWithoutTheModuleIsOneClearLine() {
        ModelCommandsTest.Run r = ModelCommandsTest.run("generate", "--model", ModelCommandsTest.MODEL.toString(), "--backend", "tornado",
                "--prompt", "Hello", "--max-tokens", "2");
        assertEquals(1, r.exit());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("error: the tornado backend is not in this build") && err.contains("TORNADOVM_HOME"), err);
    }
}
