package dev.laconic.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.compression.rl.TinyPolicy;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.Param;
import dev.laconic.training.TrainableModel;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One worker (an embedded member in this JVM) and the trainer's client on 127.0.0.1: a trained policy's weights reach
 * the worker once per version (LoRA through the cluster's map, full fine-tuning as a file), and the worker's
 * completions are the in-process ones, token ids and log-probabilities bit for bit; each new version changes them, so a
 * worker that kept an old version would fail here. A member with another secret does not join.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterBackendTest {
    @TempDir static Path tmp;
    static Path dir;
    static ClusterOptions options;
    static Worker worker;
    static ClusterBackend backend;
    static final ByteArrayOutputStream workerLog = new ByteArrayOutputStream(), trainerLog = new ByteArrayOutputStream();

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        dir = tmp.resolve("tiny");
        TinyPolicy.writeHf(dir, 0.5, 3);
        int port = freePort();
        options = new ClusterOptions(List.of("127.0.0.1:" + port), "test-" + UUID.randomUUID(), "s3cret", null, null, port, tmp.resolve("shared"));
        worker = Worker.start(new Worker.Options(options, null, Backend.named("cpu"), new PrintStream(workerLog, true, StandardCharsets.UTF_8)));
        backend = ClusterBackend.connect(options, new PrintStream(trainerLog, true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        if (backend != null) backend.close();
        if (worker != null) worker.close();
    }

    static final GenerationConfig GC = new GenerationConfig(24, new Sampler(1f, 1f, 0), 2, 7, false, List.of(), -1);

    /** Six prompts in three chunks. */
    static List<Chunk> chunks() {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) prompts.add(TinyPolicy.TOK.encode("What is " + i + " + " + (3 * i + 1) + "?", false));
        return Chunk.split(prompts, new int[]{5, 1, 4, 2, 0, 3}, 2);
    }

    static List<Completion> run(GenerationBackend b, Policy p) throws IOException {
        List<Completion> out = new ArrayList<>();
        int[] next = {0};
        b.generate(p, chunks(), GC, null, (index, cs) -> {
            assertEquals(next[0]++, index, "chunks come back in order");
            out.addAll(cs);
        });
        assertEquals(3, next[0]);
        return out;
    }

    static void assertSameBits(List<Completion> expected, List<Completion> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            Completion e = expected.get(i), a = actual.get(i);
            assertEquals(e.promptIndex(), a.promptIndex());
            assertEquals(e.sample(), a.sample());
            assertArrayEquals(e.ids(), a.ids(), "completion " + i);
            assertArrayEquals(e.logprobs(), a.logprobs(), "completion " + i);   // Float.floatToIntBits equality
            assertEquals(e.text(), a.text());
            assertEquals(e.finish(), a.finish());
        }
    }

    static boolean sameLogprobs(List<Completion> x, List<Completion> y) {
        for (int i = 0; i < x.size(); i++) if (!java.util.Arrays.equals(x.get(i).logprobs(), y.get(i).logprobs())) return false;
        return true;
    }

    /** Adds noise of scale {@code s} to every trainable tensor: a new policy version. */
    static void step(TrainableModel tm, SplittableRandom rng, double s) {
        for (Param p : tm.parameters()) {
            Tensor v = p.value();
            for (long j = 0; j < v.numel(); j++) v.setFloat(j, v.getFloat(j) + (float) (s * rng.nextGaussian()));
        }
    }

    /** The fetch lines of the worker log for this run's versions. */
    static List<String> fetches() {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("policy version (\\S+) fetched \\(([^,]+)").matcher(workerLog.toString(StandardCharsets.UTF_8));
        while (m.find()) out.add(m.group(1) + " " + m.group(2));
        return out;
    }

    @Test
    void baseModelDecodesAsInProcess() throws Exception {
        try (Model m = Model.load(dir, DType.F32, Backend.named("cpu"))) {
            Policy p = Policy.of(m);
            assertSameBits(run(GenerationBackend.IN_PROCESS, p), run(backend, p));
        }
    }

    @Test
    void loraVersionsAreFetchedOnceEachAndDecodeAsInProcess() throws Exception {
        try (Model m = Model.load(dir, DType.F32, Backend.named("cpu"))) {
            TrainableModel tm = TrainableModel.lora(m, new LoraConfig(2, 4, new LinkedHashSet<>(LoraConfig.TARGETS)), 1);
            SplittableRandom rng = new SplittableRandom(11);
            int before = fetches().size();
            List<Completion> previous = null;
            for (long version = 1; version <= 2; version++) {
                step(tm, rng, 0.3);
                Policy p = Policy.trained(tm, TinyPolicy.TOK, dir, version);
                List<Completion> local = run(GenerationBackend.IN_PROCESS, p), clustered = run(backend, p);
                assertSameBits(local, clustered);
                assertSameBits(local, run(backend, p));                 // the same version again: nothing fetched
                if (previous != null) assertFalse(sameLogprobs(previous, local), "each version decodes differently");
                previous = local;
            }
            List<String> f = fetches().subList(before, fetches().size());
            assertEquals(2, f.size(), "one fetch per version, for 3 chunks × 2 runs each: " + f);
            assertTrue(f.get(0).endsWith("/1 LoRA adapters from the cluster") && f.get(1).endsWith("/2 LoRA adapters from the cluster"), f.toString());
        }
    }

    @Test
    void fullFineTuningWeightsTravelAsAFileOnSharedStorage() throws Exception {
        try (Model m = Model.load(dir, DType.F32, Backend.named("cpu"))) {
            TrainableModel tm = TrainableModel.full(m);
            SplittableRandom rng = new SplittableRandom(12);
            int before = fetches().size();
            Policy base = Policy.trained(tm, TinyPolicy.TOK, dir, 0);
            List<Completion> start = run(GenerationBackend.IN_PROCESS, base);
            step(tm, rng, 0.05);
            Policy p = Policy.trained(tm, TinyPolicy.TOK, dir, 1);
            List<Completion> local = run(GenerationBackend.IN_PROCESS, p);
            assertFalse(sameLogprobs(start, local), "the step changes the policy");
            assertSameBits(local, run(backend, p));
            List<String> f = fetches().subList(before, fetches().size());
            assertEquals(1, f.size(), f.toString());
            assertTrue(f.getFirst().contains("full weights from " + options.shared().toAbsolutePath().normalize()), f.toString());
            try (var files = Files.walk(options.shared())) {
                assertTrue(files.anyMatch(x -> x.getFileName().toString().equals("policy-1.safetensors")), "the version's file is on the shared path");
            }
        }
    }

    @Test
    void aMemberWithAnotherSecretDoesNotJoin() {
        ClusterOptions stray = new ClusterOptions(options.members(), options.name(), "guess", null, null, null, null);
        assertNotEquals(options.hazelcastName(), stray.hazelcastName());
        HazelcastInstance h = Hazelcast.newHazelcastInstance(Hazel.member(stray));
        try {
            assertEquals(1, h.getCluster().getMembers().size(), "the stray member is alone");
            assertEquals(1, worker.members(), "the worker's cluster is unchanged");
        } finally {
            h.shutdown();
        }
    }

    @Test
    void safeByDefault() {
        var c = Hazel.member(new ClusterOptions(List.of(), "laconic", null, null, null, null, null));
        var net = c.getNetworkConfig();
        assertFalse(net.getJoin().getMulticastConfig().isEnabled(), "multicast");
        assertFalse(net.getJoin().getAutoDetectionConfig().isEnabled(), "cloud auto-detection");
        assertEquals("false", c.getProperty("hazelcast.phone.home.enabled"));
        assertEquals(List.of("127.0.0.1"), List.copyOf(net.getInterfaces().getInterfaces()));
        assertEquals("false", c.getProperty("hazelcast.socket.bind.any"));
        assertFalse(net.getRestApiConfig().isEnabled());
        assertFalse(Hazel.client(options).getNetworkConfig().getAutoDetectionConfig().isEnabled());
        assertEquals("127.0.0.1", worker.address().substring(0, worker.address().indexOf(':')));
    }
}
