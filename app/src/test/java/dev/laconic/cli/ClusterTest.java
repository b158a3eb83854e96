package dev.laconic.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.cluster.ClusterBackend;
import dev.laconic.cluster.ClusterOptions;
import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.compression.gym.ShippedModels;
import dev.laconic.compression.rl.TinyPolicy;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Sampler;
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
 * bytes as in process, also when a worker is killed in the middle; a trainer killed mid-run leaves the workers usable;
 * a worker that joins during a run gets chunks; a worker with another model is refused. Every child process is
 * stopped by its own handle. The two workers serve every case (each JVM start and model warm-up costs seconds).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
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

    /** The command line of a JVM that runs {@code ./laconic args} as ./laconic does (its JVM flags, this class path). */
    static List<String> laconicJvm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        for (String f : System.getProperty("laconic.hazelcast.flags", "").split("\\s+")) if (!f.isBlank()) cmd.add(f);
        cmd.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), Laconic.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts a worker JVM; {@link Worker#await} its "waiting for chunks" before using it. */
    static Worker launch(String name, String join, int port, String... more) throws Exception {
        List<String> cmd = laconicJvm("worker", "--port", Integer.toString(port), "--cluster", join, "--threads", Integer.toString(Parallel.threads()));
        cmd.addAll(List.of(more));
        Path log = tmp.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Worker w = new Worker(p, log, port);
        workers.add(w);
        return w;
    }

    static Worker start(String name, String join, int port, String... more) throws Exception {
        Worker w = launch(name, join, port, more);
        w.await("waiting for chunks");
        return w;
    }

    @BeforeAll
    static void cluster() throws Exception {
        int pa = freePort(), pb = freePort();
        String both = "127.0.0.1:" + pa + ",127.0.0.1:" + pb;
        a = launch("a", both, pa);                                     // both JVMs start while the files are written
        b = launch("b", both, pb);
        tiny = tmp.resolve("tiny");
        TinyPolicy.writeHf(tiny, 0.5, 3);
        other = tmp.resolve("other");
        TinyPolicy.writeHf(other, 0.5, 4);
        reasoner = ShippedModels.extract(ShippedModels.LONG, tmp.resolve("long-reasoner"));
        Run g = laconic("gym", "data", "--out", tmp.resolve("gym").toString(), "--train", "8", "--dev-per-level", "1", "--test-per-level", "4");
        assertEquals(0, g.exit(), g.err());
        train = tmp.resolve("gym/train.jsonl");
        dev = tmp.resolve("gym/dev.jsonl");
        gymTest = tmp.resolve("gym/test.jsonl");
        a.await("waiting for chunks");
        b.await("waiting for chunks");
        b.await("2 member");                                         // "2 member(s)" at its start, or "a joined (2 members)"
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
                "--max-tokens", "150"), Stream.of(more)).toArray(String[]::new);
    }

    static void sameBytes(Path expected, Path actual) throws IOException {
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(actual), actual + " differs from " + expected);
    }

    @Test
    void evalOnTheWorkersEqualsTheInProcessRunAlsoWithAWorkerKilledMidEval() throws Exception {
        Path local = tmp.resolve("eval-local"), killed = tmp.resolve("eval-killed");
        // a third worker, killed in the middle of the eval below, starts while the in-process run decodes
        int pc = freePort();
        Worker w = launch("c", a.address() + "," + b.address(), pc);
        Run l = laconic(eval(reasoner, gymTest, local, "--batch", "2"));
        assertEquals(0, l.exit(), l.err());
        assertFalse(l.err().contains("cluster:"), "no cluster without --cluster: " + l.err());
        w.await("waiting for chunks");
        a.await(w.address() + " joined");
        CompletableFuture<Run> run = CompletableFuture.supplyAsync(() ->
                laconic(eval(reasoner, gymTest, killed, "--batch", "2", "--cluster", a.address() + "," + b.address() + "," + w.address())));
        w.await(" done in ");                                          // it holds a second chunk now: that one is cut off
        w.process().destroyForcibly();
        Run k = run.get(120, TimeUnit.SECONDS);
        assertEquals(0, k.exit(), k.err());
        sameBytes(local.resolve("samples.jsonl"), killed.resolve("samples.jsonl"));
        sameBytes(local.resolve("summary.json"), killed.resolve("summary.json"));
        assertTrue(k.err().contains("cluster: connected to 3 worker(s)"), k.err());
        // the third worker's own log said it finished a chunk (its answer may not have left before the kill)
        for (Worker x : List.of(a, b)) assertTrue(k.err().contains("done by " + x.address()), "both others took chunks: " + k.err());
        // the membership event ("worker ... left") may come after the eval has ended: the re-run is what counts
        assertTrue(k.err().contains("runs again on another worker"), "the killed worker's chunk ran again: " + k.err());
    }

    /**
     * A trainer killed (kill -9) while the workers decode its chunks leaves them idle, not broken: the next trainer's
     * chunks come back as in process. That one holds back its first chunk's delivery until a worker started meanwhile
     * has joined, so the late joiner is in the cluster while chunks are still to be handed out, and gets some.
     */
    @Test
    void aKilledTrainerLeavesTheWorkersIdleAndALateJoinerGetsWork() throws Exception {
        List<String> cmd = laconicJvm(eval(reasoner, gymTest, tmp.resolve("eval-dead-trainer"), "--batch", "2", "--cluster", a.address() + "," + b.address()));
        Path trainerLog = tmp.resolve("dead-trainer.log");
        long before = chunksDone(a) + chunksDone(b);
        Process trainer = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(trainerLog.toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (chunksDone(a) + chunksDone(b) == before) {
                assertTrue(trainer.isAlive(), "the trainer ended before a worker finished a chunk:\n" + Files.readString(trainerLog));
                assertTrue(System.nanoTime() < deadline, "no chunk done within 60 s:\n" + Files.readString(trainerLog));
                Thread.sleep(20);
            }
        } finally {
            trainer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(a.process().isAlive() && b.process().isAlive(), "the workers outlive their trainer");

        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 12; i++) prompts.add(TinyPolicy.TOK.encode("What is " + i + " + " + (7 * i + 2) + "?", false));
        int[] streams = new int[prompts.size()];
        for (int i = 0; i < streams.length; i++) streams[i] = 3 * i + 1;
        List<Chunk> chunks = Chunk.split(prompts, streams, 1);
        GenerationConfig gc = new GenerationConfig(40, new Sampler(1f, 1f, 0), 2, 5, false, List.of(), -1);
        Worker[] late = new Worker[1];
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Model m = Model.load(tiny, DType.F32, Backend.named("cpu"));
             ClusterBackend cluster = ClusterBackend.connect(new ClusterOptions(List.of(a.address(), b.address()), ClusterOptions.DEFAULT_NAME,
                     null, null, null, null, null), new PrintStream(log, true, StandardCharsets.UTF_8))) {
            Policy p = Policy.of(m);
            List<Completion> expected = new ArrayList<>(), warm = new ArrayList<>(), actual = new ArrayList<>();
            GenerationBackend.IN_PROCESS.generate(p, chunks, gc, null, (i, cs) -> expected.addAll(cs));
            // both workers load the model and finish what the killed trainer left in their queues (a worker runs its
            // chunks in order, so once each has answered here both are free); then the first chunk below comes back
            // before most others are done
            for (int tries = 0; ; tries++) {
                warm.clear();
                int from = log.size();
                cluster.generate(p, chunks, gc, null, (i, cs) -> warm.addAll(cs));
                String since = log.toString(StandardCharsets.UTF_8).substring(from);
                if (since.contains("done by " + a.address()) && since.contains("done by " + b.address())) break;
                assertTrue(tries < 20, "both workers answer again after the trainer died: " + log);
                Thread.sleep(200);
            }
            cluster.generate(p, chunks, gc, null, (i, cs) -> {
                if (i == 0) {
                    try {
                        late[0] = start("e", a.address() + "," + b.address(), freePort());
                        a.await(late[0].address() + " joined");
                        b.await(late[0].address() + " joined");
                        Thread.sleep(500);                             // the trainer's client hears of it too
                    } catch (Exception e) {
                        throw new IOException(e);
                    }
                }
                actual.addAll(cs);
            });
            for (List<Completion> got : List.of(warm, actual)) {
                assertEquals(expected.size(), got.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i).ids(), got.get(i).ids(), "completion " + i);
                    assertArrayEquals(expected.get(i).logprobs(), got.get(i).logprobs(), "completion " + i);
                }
            }
            String out = log.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("done by " + late[0].address()), "the late joiner took chunks: " + out);
        } finally {
            if (late[0] != null) late[0].process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** How many chunks a worker's log says it finished. */
    static long chunksDone(Worker w) throws IOException {
        return w.text().lines().filter(l -> l.contains(" done in ")).count();
    }

    static String[] rl(Path out, String... more) {
        return Stream.concat(Stream.of("compress", "rl", "--model", reasoner.toString(), "--data", train.toString(), "--format", "gym",
                "--alpha", "0.4", "--out", out.toString(), "--prompts-per-rollout", "2", "--samples", "2", "--max-tokens", "250",
                "--lr", "1e-2", "--warmup-steps", "0", "--minibatch", "4", "--rollouts", "2", "--gen-batch", "2", "--eval", dev.toString(), "--eval-every", "2",
                "--eval-limit", "1"), Stream.of(more)).toArray(String[]::new);
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
        // two rollouts: the second one decodes with the weights of the first update (a worker that kept version 0
        // would give other samples, so other metrics)
        for (String mode : List.of("--lora-rank=2", "--full")) {
            Path local = tmp.resolve("rl-local" + mode), clustered = tmp.resolve("rl-cluster" + mode);
            Run l = laconic(rl(local, mode));
            assertEquals(0, l.exit(), l.err());
            Run c = laconic(rl(clustered, mode, "--cluster", a.address() + "," + b.address()));
            assertEquals(0, c.exit(), c.err());
            assertTrue(c.err().contains("done by " + a.address()) && c.err().contains("done by " + b.address()), c.err());
            List<String> m = withoutTime(local.resolve("metrics.jsonl"));
            assertEquals(2, m.size());
            assertNotEquals(0.0, RunDir.JSON.readTree(m.get(1)).get("kl").asDouble(), "the policy moved from the reference by rollout 2: " + m);
            assertEquals(m, withoutTime(clustered.resolve("metrics.jsonl")), mode);
            assertEquals(withoutTime(local.resolve("eval.jsonl")), withoutTime(clustered.resolve("eval.jsonl")), mode);
            String weights = mode.equals("--full") ? "final/model.safetensors" : "final/adapter_model.safetensors";
            sameBytes(local.resolve(weights), clustered.resolve(weights));
        }
    }

    @Test
    void aWorkerWithAnotherModelIsRefused() throws Exception {
        int pd = freePort();
        Worker d = launch("d", a.address() + "," + b.address(), pd, "--model", other.toString());
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
        d.await("waiting for chunks");
        a.await(d.address() + " joined");
        Run c = laconic(Stream.concat(Stream.of(eval(tiny, dev, clustered, args)), Stream.of("--cluster", d.address())).toArray(String[]::new));
        assertEquals(0, c.exit(), c.err());
        assertTrue(c.err().contains("cluster: refused worker " + d.address() + ": this worker's model " + other), c.err());
        assertTrue(d.process().waitFor(30, TimeUnit.SECONDS), "the refused worker leaves");
        assertEquals(1, d.process().exitValue());
        assertTrue(d.text().contains("error: refused: this worker's model " + other + " has content hash"), d.text());
        sameBytes(local.resolve("samples.jsonl"), clustered.resolve("samples.jsonl"));
    }
}
