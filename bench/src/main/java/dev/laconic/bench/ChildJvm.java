package dev.laconic.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A helper JVM started by a benchmark: the same java, this JVM's flags (Vector API module, GC; debug
 * agents dropped; the heap limit replaced when the caller sets one) and this JVM's class path or the
 * peers' ({@link Peers}). Its stdout comes back as a string (or is copied as it comes), its stderr goes
 * to ours (progress), and it dies with us: a shutdown hook destroys it when we exit, and
 * {@link #exitWithParent()} makes it exit when we are killed.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** The command line for {@code main} on this JVM's class path; {@code xmx} (e.g. "-Xmx8g") or null to keep ours. */
    public static List<String> command(Class<?> main, String xmx, List<String> args) {
        return command(main.getName(), System.getProperty("java.class.path"), xmx, args);
    }

    /** The command line for the class named {@code main} on {@code classPath}, e.g. a peer on {@link Peers#classPath()}. */
    public static List<String> command(String main, String classPath, String xmx, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        boolean vectorModule = false;
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-agentlib") || arg.startsWith("-javaagent") || arg.startsWith("-Xrunjdwp") || arg.startsWith("-Xdebug")) continue;
            if (xmx != null && (arg.startsWith("-Xmx") || arg.startsWith("-XX:MaxHeapSize"))) continue;
            vectorModule |= arg.contains("jdk.incubator.vector");
            cmd.add(arg);
        }
        if (!vectorModule) cmd.add("--add-modules=jdk.incubator.vector");
        if (xmx != null) cmd.add(xmx);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(main);
        cmd.addAll(args);
        return cmd;
    }

    /** Runs the command to completion and returns its stdout; a non-zero exit is an IOException. */
    public static String run(List<String> cmd, String what) throws IOException {
        var stdout = new ByteArrayOutputStream();
        int rc = run(cmd, what, stdout);
        if (rc != 0) throw new IOException(what + " failed in a child JVM (exit " + rc + "; its stderr is above): " + String.join(" ", cmd));
        return stdout.toString(StandardCharsets.UTF_8);
    }

    /** Runs the command to completion, copying its stdout to {@code out} as it comes; returns its exit code. */
    public static int stream(List<String> cmd, String what, PrintStream out) throws IOException {
        int rc = run(cmd, what, out);
        out.flush();
        return rc;
    }

    private static int run(List<String> cmd, String what, OutputStream stdout) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread reaper = new Thread(p::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            p.getOutputStream().close();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(stdout);
            }
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        } finally {
            p.destroyForcibly();
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    /** In a child: exit as soon as the parent is gone (killed, e.g. by the OOM killer, which runs no hooks). */
    public static void exitWithParent() {
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
    }

    /** The last line of a child's stdout that looks like a JSON object (libraries may print before it). */
    public static String lastJsonLine(String stdout, String what) throws IOException {
        String json = null;
        for (String line : stdout.split("\n")) if (line.startsWith("{")) json = line;
        if (json == null) throw new IOException(what + ": the child JVM printed no result");
        return json;
    }
}
