package dev.laconic.cluster;

import com.hazelcast.client.Client;
import com.hazelcast.client.ClientListener;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.Transformer;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.Generator;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A worker: an embedded Hazelcast member that decodes chunks for whichever trainer connects. It memory-maps the base
 * model named by the trainer (or its own {@code --model}), checks the content hash and build, builds the model once,
 * and keeps it; a trained policy's weights are fetched once per version (LoRA tensors from the cluster's map, full
 * fine-tuning from the shared file). Chunks run one at a time on one thread (Hazelcast's chunk executor), so the
 * model state below is only touched by that thread.
 */
public final class Worker implements AutoCloseable {
    /**
     * @param model   this machine's copy of the base model, or null: the path the trainer names
     * @param backend the backend every model here is loaded on
     */
    public record Options(ClusterOptions cluster, Path model, Backend backend, PrintStream log) {}

    private static volatile Worker current;

    private final Options o;
    private final HazelcastInstance hz;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile int exitCode;

    // the chunk thread's state
    private Model model;                 // the base, as loaded
    private String modelKey = "";        // dir + dtype of `model`
    private TrainableModel trained;      // on `model`, or null
    private String trainedKey = "", versionKey = "";
    private long chunks;

    private Worker(Options o, HazelcastInstance hz) {
        this.o = o;
        this.hz = hz;
    }

    static Worker current() { return current; }

    /** Starts the member and returns once it has joined (or formed) the cluster. */
    public static Worker start(Options o) {
        if (current != null) throw new IllegalStateException("one worker per JVM");
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(Hazel.member(o.cluster()));
        Worker w = new Worker(o, hz);
        current = w;
        hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.SHUTDOWN) w.stopped.countDown();
        });
        var local = hz.getCluster().getLocalMember();
        o.log().printf(Locale.ROOT, "worker %s: cluster '%s', %d member(s), build %s, %d threads, backend %s; waiting for chunks%n",
                address(local.getAddress()), o.cluster().name(), hz.getCluster().getMembers().size(), Digests.build(), Parallel.threads(),
                o.backend().name());
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                o.log().printf("worker %s: %s joined (%d members)%n", address(local.getAddress()), address(e.getMember().getAddress()), e.getMembers().size());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                o.log().printf("worker %s: %s left (%d members)%n", address(local.getAddress()), address(e.getMember().getAddress()), e.getMembers().size());
            }
        });
        hz.getClientService().addClientListener(new ClientListener() {
            @Override
            public void clientConnected(Client c) {
                o.log().printf("worker %s: trainer %s connected%n", address(local.getAddress()), c.getSocketAddress());
            }

            @Override
            public void clientDisconnected(Client c) {
                o.log().printf("worker %s: trainer %s disconnected%n", address(local.getAddress()), c.getSocketAddress());
            }
        });
        return w;
    }

    /** The member's own address, HOST:PORT. */
    public String address() {
        return address(hz.getCluster().getLocalMember().getAddress());
    }

    /** How many members the cluster has, as this worker sees it. */
    public int members() {
        return hz.getCluster().getMembers().size();
    }

    static String address(com.hazelcast.cluster.Address a) {
        return a.getHost() + ":" + a.getPort();
    }

    /** Blocks until the member shuts down (close, or a refusal); returns the process exit code to use. */
    public int await() throws InterruptedException {
        stopped.await();
        return exitCode;
    }

    @Override
    public void close() {
        hz.shutdown();
        if (model != null) model.close();
        current = null;
    }

    /** Runs one chunk (on the chunk thread). */
    Wire.Result run(ChunkTask t) throws IOException {
        long t0 = System.nanoTime();
        String refused = prepare(t.policy());
        if (refused != null) {
            o.log().println("error: refused: " + refused);
            exitCode = 1;
            // answer the trainer first, then leave
            Thread.ofPlatform().daemon().start(() -> {
                try { Thread.sleep(500); } catch (InterruptedException ignored) { }
                hz.shutdown();
            });
            return new Wire.Result(List.of(), refused, 0);
        }
        Transformer policy = trained != null ? trained.transformer() : model.transformer();
        List<int[]> prompts = List.of(t.prompts());
        List<Completion> cs = Generator.of(policy, model.tokenizer()).generate(prompts, t.streams(), t.sampling().config(), null);
        List<Wire.Done> out = new ArrayList<>(cs.size());
        long tokens = 0;
        for (Completion c : cs) {
            out.add(Wire.Done.of(c));
            tokens += c.tokens();
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        chunks++;
        o.log().printf(Locale.ROOT, "worker %s: chunk %d (%d prompts × %d) done in %.2f s, %d tokens (%d chunks so far)%n", address(),
                t.index(), prompts.size(), t.sampling().samples(), sec, tokens, chunks);
        return new Wire.Result(out, null, sec);
    }

    /** The progress line for a policy version's weights, fetched once per worker and version. */
    private void fetched(Wire.PolicySpec p, Map<String, Tensor> values) {
        long n = 0;
        for (Tensor t : values.values()) n += t.numel();
        o.log().printf(Locale.ROOT, "worker %s: policy version %s fetched (%s, %d tensors, %.1f MB)%n", address(), p.versionKey(),
                p.kind() == Wire.Kind.LORA ? "LoRA adapters from the cluster" : "full weights from " + p.weightsFile(), values.size(), n * 4 / 1e6);
    }

    /** Loads what the chunk's policy needs, unless already loaded; returns why not, or null. */
    private String prepare(Wire.PolicySpec p) throws IOException {
        if (!p.build().equals(Digests.build()))
            return "the trainer runs Laconic build " + p.build() + ", this worker " + Digests.build() + " (run the same laconic.jar on every machine)";
        Path dir = o.model() != null ? o.model() : Path.of(p.base());
        String key = dir.toAbsolutePath().normalize() + "|" + p.dtype();
        if (!key.equals(modelKey)) {
            String hash = Digests.model(dir);
            if (!hash.equals(p.baseHash()))
                return "this worker's model " + dir.toAbsolutePath().normalize() + " has content hash " + hash + ", the trainer's model "
                        + p.base() + " has " + p.baseHash() + " (another model, or other files: every machine needs the same one)";
            if (p.threads() != Parallel.threads())
                o.log().printf("note: the trainer decodes with %d threads, this worker with %d: long attention sums split by thread count, "
                        + "so samples may differ in the last bits from the trainer's in-process run (start the worker with --threads %d)%n",
                        p.threads(), Parallel.threads(), p.threads());
            if (model != null) model.close();
            trained = null;
            trainedKey = versionKey = "";
            model = null;
            modelKey = "";
            model = Model.load(dir, p.dtype(), o.backend());
            modelKey = key;
            o.log().printf("worker %s: loaded %s (%s, %s)%n", address(), dir, p.dtype(), hash);
        }
        switch (p.kind()) {
            case BASE -> trained = null;
            case LORA -> {
                String k = "lora|" + p.loraRank() + "|" + p.loraAlpha() + "|" + new java.util.TreeSet<>(p.loraTargets());
                if (trained == null || !k.equals(trainedKey)) {
                    trained = TrainableModel.lora(model, new LoraConfig(p.loraRank(), p.loraAlpha(), new LinkedHashSet<>(p.loraTargets())), 0);
                    trainedKey = k;
                    versionKey = "";
                }
                if (!p.versionKey().equals(versionKey)) {
                    IMap<String, float[]> map = hz.getMap(Hazel.ADAPTERS);
                    Map<String, Tensor> values = new HashMap<>();
                    Map<String, Tensor> shapes = new HashMap<>();
                    trained.parameters().forEach(q -> shapes.put(q.name(), q.value()));
                    for (String name : p.tensors()) {
                        float[] v = map.get(Wire.PolicySpec.adapterKey(p.session(), p.version(), name));
                        Tensor like = shapes.get(name);
                        if (v == null || like == null) throw new IllegalStateException("adapter tensor " + name + " of version " + p.version() + " is not in the cluster");
                        values.put(name, Tensor.of(v, like.shape()));
                    }
                    trained.loadParameters(values);
                    versionKey = p.versionKey();
                    fetched(p, values);
                }
            }
            case FULL -> {
                if (p.dtype() != DType.F32) throw new IllegalStateException("full fine-tuning policies are F32");
                if (trained == null || !"full".equals(trainedKey)) {
                    trained = TrainableModel.full(model);
                    trainedKey = "full";
                    versionKey = "";
                }
                if (!p.versionKey().equals(versionKey)) {
                    try (Checkpoint ck = Checkpoint.open(Path.of(p.weightsFile()))) {
                        Map<String, Tensor> values = new HashMap<>();
                        for (String name : ck.names()) values.put(name, ck.tensor(name));
                        trained.loadParameters(values);
                        fetched(p, values);
                    }
                    versionKey = p.versionKey();
                }
            }
        }
        return null;
    }
}
