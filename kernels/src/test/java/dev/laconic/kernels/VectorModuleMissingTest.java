package dev.laconic.kernels;

import dev.laconic.tensor.Backend;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A JVM without {@code --add-modules jdk.incubator.vector} is told so, in one line, when the cpu backend loads. */
class VectorModuleMissingTest {
    /** The child: loads the cpu backend's ops and prints what happened. */
    public static void main(String[] args) {
        try {
            Backend.named("cpu").ops();
            System.out.println("loaded");
        } catch (IllegalStateException e) {
            System.out.println(e.getMessage());
            System.exit(3);
        }
    }

    static Result child(boolean withModule) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (withModule) cmd.add("--add-modules=jdk.incubator.vector");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), VectorModuleMissingTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM finished");
        return new Result(p.exitValue(), out);
    }

    record Result(int exit, String out) {}

    @Test
    void withoutTheModuleTheCpuBackendSaysWhichFlagToAdd() throws Exception {
        Result without = child(false);
        assertEquals(3, without.exit(), without.out());
        List<String> lines = without.out().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(List.of(VectorOps.NO_VECTOR_MODULE), lines, "one line naming the flag");
        assertTrue(VectorOps.NO_VECTOR_MODULE.contains("--add-modules jdk.incubator.vector"));

        Result with = child(true);
        assertEquals(0, with.exit(), with.out());
        assertTrue(with.out().contains("loaded"), with.out());
    }
}
