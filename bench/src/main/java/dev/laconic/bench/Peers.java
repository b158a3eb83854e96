package dev.laconic.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The peers: Jlama (the decode benchmark's {@code --jlama}) and the JMH benchmarks ({@code bench jmh}).
 * They are built by the bench/peers module and never linked into this one or into laconic.jar: they run
 * in a child JVM ({@link ChildJvm}) on a class path of their own, which the peers build writes to a
 * file (bench/peers/target/peers.classpath) and the system property {@value #PROPERTY} names
 * (./laconic and the test runs set it).
 */
public final class Peers {
    /** System property: the file holding the peers' class path. */
    public static final String PROPERTY = "laconic.peers";
    /** How to get them. */
    public static final String HOW_TO_BUILD = "build the peers: ./mvnw -pl bench/peers -am package";
    /** The child JVM's main for Jlama (in bench/peers). */
    public static final String JLAMA_MAIN = "dev.laconic.bench.decode.JlamaEngine";
    /** JMH's own main, which lists and runs the benchmarks of the peers' class path. */
    public static final String JMH_MAIN = "org.openjdk.jmh.Main";

    private Peers() {}

    /** The peers' class path, from the file named by {@value #PROPERTY}; a missing one is one clear line. */
    public static String classPath() {
        return classPath(System.getProperty(PROPERTY));
    }

    static String classPath(String file) {
        if (file == null || file.isBlank())
            throw new IllegalStateException("the peers (Jlama, JMH) are not on this run's class path (-D" + PROPERTY + "=FILE is not set); " + HOW_TO_BUILD);
        Path p = Path.of(file);
        if (!Files.isRegularFile(p)) throw new IllegalStateException("the peers (Jlama, JMH) are not built (no " + p + "); " + HOW_TO_BUILD);
        try {
            String cp = Files.readString(p).strip();
            if (cp.isEmpty()) throw new IllegalStateException(p + " is empty; " + HOW_TO_BUILD);
            return cp;
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** JMH with {@code args} (so -l, -h, -p t=512 are JMH's) in a child JVM; its output goes to {@code out}. Returns its exit code. */
    public static int jmh(List<String> args, PrintStream out) throws IOException {
        return ChildJvm.stream(ChildJvm.command(JMH_MAIN, classPath(), null, args), "JMH", out);
    }
}
