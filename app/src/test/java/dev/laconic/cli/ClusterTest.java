package dev.laconic.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.gym.ShippedModels;
import dev.laconic.compression.rl.TinyPolicy;
import dev.laconic.tensor.Parallel;
import dev.laconic.training.RunDir;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Generation on a cluster of two worker JVMs started here (127.0.0.1, free ports): eval and RL rollouts give the same
 * bytes as in process, also when a worker is killed in the middle; a worker with another model is refused. Every
 * child process is stopped by its own handle.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterTest {
    @TempDir static Path tmp;
    static Path tiny, other, reasoner, train, dev, gymTest;
    static final List<Worker> workers = new ArrayList<>();
    static Worker a, b;

    /** A worker JVM and its log (stdout and stderr together). */
    record Worker(Process process, Path log, int port) {
        String text() throws IOException { return Files.readString(log); }

        String address() { return "127.0.0.1:" + port; }

        /** Waits until the log holds {@code s} (or the process ended). */
        void await(String s) throws Exception {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!text().contains(s)) {
                if (!process.isAlive()) fail("worker on " + port + " ended (" + process.exitValue() + ") before '" + s + "':\n" + text());
                if (System.nanoTime() > deadline) fail("no '" + s + "' from worker on " + port + " within 60 s:\n" + text());
                Thread.sleep(20);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Worker start(String name, String join, int port, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        for (String f : System.getProperty("laconic.hazelcast.flags", "").split("\\s+")) if (!f.isBlank()) cmd.add(f);
        cmd.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), Laconic.class.getName(), "worker",
                "--port", Integer.toString(port), "--cluster", join, "--threads", Integer.toString(Parallel.threads())));
        cmd.addAll(List.of(more));
        Path log = tmp.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Worker w = new Worker(p, log, port);
        workers.add(w);
        w.await("waiting for chunks");
        return w;
    }

    @BeforeAll
    static void cluster() throws Exception {
        tiny = tmp.resolve("tiny");
        TinyPolicy.writeHf(tiny, 0.5, 3);
        other = tmp.resolve("other");
        TinyPolicy.writeHf(other, 0.5, 4);
        reasoner = ShippedModels.extract(ShippedModels.LONG, tmp.resolve("long-reasoner"));
        Run g = laconic("gym", "data", "--out", tmp.resolve("gym").toString(), "--train", "40", "--dev-per-level", "2", "--test-per-level", "9");
        assertEquals(0, g.exit(), g.err());
        train = tmp.resolve("gym/train.jsonl");
        dev = tmp.resolve("gym/dev.jsonl");
        gymTest = tmp.resolve("gym/test.jsonl");
        int pa = freePort(), pb = freePort();
        String both = "127.0.0.1:" + pa + ",127.0.0.1:" + pb;
        a = start("a", both, pa);
        b = start("b", both, pb);
        a.await(b.address() + " joined");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (Worker w : workers) {
            w.process().destroy();
            if (!w.process().waitFor(10, TimeUnit.SECONDS)) w.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    record Run(int exit, String err) {}

    /** Runs a command as ./laconic does, in this JVM, with its stderr captured. */
    static synchronized Run laconic(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            return new Run(Laconic.commandLine().execute(args), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    static String[] eval(Path model, Path data, Path out, String... more) {
        return Stream.concat(Stream.of("eval", "--model", model.toString(), "--data", data.toString(), "--format", "gym", "--out", out.toString(),
                "--max-tokens", "300"), Stream.of(more)).toArray(String[]::new);
    }

    static void sameBytes(Path expected, Path actual) throws IOException {
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(actual), actual + " differs from " + expected);
    }

    @Test
    void evalOnTwoWorkersEqualsTheInProcessRunAndSurvivesAKilledWorker() throws Exception {
        Path local = tmp.resolve("eval-local"), clustered = tmp.resolve("eval-cluster"), killed = tmp.resolve("eval-killed");
        Run l = laconic(eval(reasoner, gymTest, local, "--batch", "4"));
        assertEquals(0, l.exit(), l.err());
        assertFalse(l.err().contains("cluster:"), "no cluster without --cluster: " + l.err());
        Run c = laconic(eval(reasoner, gymTest, clustered, "--batch", "4", "--cluster", a.address() + "," + b.address()));
        assertEquals(0, c.exit(), c.err());
        assertTrue(c.err().contains("cluster: connected to 2 worker(s)"), c.err());
        assertTrue(c.err().contains("done by " + a.address()) && c.err().contains("done by " + b.address()), "both workers took chunks: " + c.err());
        sameBytes(local.resolve("samples.jsonl"), clustered.resolve("samples.jsonl"));
        sameBytes(local.resolve("summary.json"), clustered.resolve("summary.json"));

        // a third worker joins, takes chunks, and is killed in the middle of one: its chunks run again elsewhere
        int pc = freePort();
        Worker w = start("c", a.address() + "," + b.address(), pc);
        a.await(w.address() + " joined");
        CompletableFuture<Run> run = CompletableFuture.supplyAsync(() ->
                laconic(eval(reasoner, gymTest, killed, "--batch", "4", "--cluster", a.address() + "," + b.address() + "," + w.address())));
        w.await(" done in ");
        w.process().destroyForcibly();
        Run k = run.get(120, TimeUnit.SECONDS);
        assertEquals(0, k.exit(), k.err());
        assertTrue(k.err().contains("cluster: worker " + w.address() + " left"), k.err());
        assertTrue(k.err().contains("runs again on another worker"), "the killed worker's chunk ran again: " + k.err());
        sameBytes(local.resolve("samples.jsonl"), killed.resolve("samples.jsonl"));
    }

    static String[] rl(Path out, String... more) {
        return Stream.concat(Stream.of("compress", "rl", "--model", reasoner.toString(), "--data", train.toString(), "--format", "gym",
                "--alpha", "0.4", "--out", out.toString(), "--prompts-per-rollout", "2", "--samples", "2", "--max-tokens", "400",
                "--lr", "1e-3", "--minibatch", "4", "--rollouts", "2", "--gen-batch", "2", "--eval", dev.toString(), "--eval-every", "1",
                "--eval-limit", "2"), Stream.of(more)).toArray(String[]::new);
    }

    /** A JSON Lines file without its wall-clock field, which no two runs share. */
    static List<String> withoutTime(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            ObjectNode n = (ObjectNode) RunDir.JSON.readTree(line);
            n.remove("time");
            out.add(n.toString());
        }
        return out;
    }

    @Test
    void rlRolloutsOnTwoWorkersEqualTheInProcessRun() throws Exception {
        for (String mode : List.of("--lora-rank=2", "--full")) {
            Path local = tmp.resolve("rl-local" + mode), clustered = tmp.resolve("rl-cluster" + mode);
            Run l = laconic(rl(local, mode));
            assertEquals(0, l.exit(), l.err());
            Run c = laconic(rl(clustered, mode, "--cluster", a.address() + "," + b.address()));
            assertEquals(0, c.exit(), c.err());
            assertTrue(c.err().contains("done by " + a.address()) && c.err().contains("done by " + b.address()), c.err());
            List<String> m = withoutTime(local.resolve("metrics.jsonl"));
            assertEquals(2, m.size());
            assertNotEquals(m.get(0).replace("\"step\":1", ""), m.get(1).replace("\"step\":2", ""), "the policy moved between the rollouts");
            assertEquals(m, withoutTime(clustered.resolve("metrics.jsonl")), mode);
            assertEquals(withoutTime(local.resolve("eval.jsonl")), withoutTime(clustered.resolve("eval.jsonl")), mode);
            String weights = mode.equals("--full") ? "final/model.safetensors" : "final/adapter_model.safetensors";
            sameBytes(local.resolve(weights), clustered.resolve(weights));
        }
    }

    @Test
    void aWorkerWithAnotherModelIsRefused() throws Exception {
        int pd = freePort();
        Worker d = start("d", a.address() + "," + b.address(), pd, "--model", other.toString());
        a.await(d.address() + " joined");
        try {
            refused(d);
        } finally {   // never left in the cluster for the other tests, whatever failed here
            d.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    void refused(Worker d) throws Exception {
        Path local = tmp.resolve("refused-local"), clustered = tmp.resolve("refused-cluster");
        String[] args = {"--limit", "4", "--batch", "1"};
        Run l = laconic(eval(tiny, dev, local, args));
        assertEquals(0, l.exit(), l.err());
        Run c = laconic(Stream.concat(Stream.of(eval(tiny, dev, clustered, args)), Stream.of("--cluster", d.address())).toArray(String[]::new));
        assertEquals(0, c.exit(), c.err());
        assertTrue(c.err().contains("cluster: refused worker " + d.address() + ": this worker's model " + other), c.err());
        assertTrue(d.process().waitFor(30, TimeUnit.SECONDS), "the refused worker leaves");
        assertEquals(1, d.process().exitValue());
        assertTrue(d.text().contains("error: refused: this worker's model " + other + " has content hash"), d.text());
        sameBytes(local.resolve("samples.jsonl"), clustered.resolve("samples.jsonl"));
    }
}
