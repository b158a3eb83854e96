package dev.laconic.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.map.IMap;
import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.GenerationBackend;
import dev.laconic.compression.generation.Policy;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Parallel;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The trainer's side: a Hazelcast client that hands chunks to the workers and gives their completions back in chunk
 * order. Each worker holds at most {@link #IN_FLIGHT} chunks (one decoding, one waiting), so a worker that joins late
 * gets the next free chunk, and a chunk whose worker leaves (killed, network lost) is handed to another one with the
 * same prompts and random streams: the result is the same bits. Per policy version only the trained tensors travel,
 * once: LoRA adapters through the cluster's map, full fine-tuning weights as a file on shared storage.
 */
public final class ClusterBackend implements GenerationBackend, AutoCloseable {
    static final int IN_FLIGHT = 2;

    private final ClusterOptions options;
    private final HazelcastInstance client;
    private final PrintStream log;
    private final String session = UUID.randomUUID().toString().substring(0, 8);
    private final BlockingQueue<Runnable> events = new LinkedBlockingQueue<>();   // run on the caller's thread
    private final Set<UUID> refused = new HashSet<>();            // other model or build: never given chunks
    private final Set<UUID> lost = new HashSet<>();               // a call to it failed as gone: no more chunks, even before it leaves
    private final Map<String, Runnable> published = new LinkedHashMap<>();   // version key → how to remove its weights, oldest first
    private final Map<TrainableModel, Integer> owners = new IdentityHashMap<>();

    private ClusterBackend(ClusterOptions options, HazelcastInstance client, PrintStream log) {
        this.options = options;
        this.client = client;
        this.log = log;
    }

    /** Connects to the workers at {@code options.members()} (fails after 30 s when none answers). */
    public static ClusterBackend connect(ClusterOptions options, PrintStream log) {
        HazelcastInstance client;
        try {
            client = HazelcastClient.newHazelcastClient(Hazel.client(options));
        } catch (IllegalStateException e) {
            throw new IllegalStateException("cluster: no Laconic worker of cluster '" + options.name() + "' answered at "
                    + String.join(",", options.members()) + " (start one with ./laconic worker --cluster " + String.join(",", options.members())
                    + "; the cluster name and secret must match)", e);
        }
        ClusterBackend b = new ClusterBackend(options, client, log);
        client.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                b.events.add(() -> b.joined(e.getMember(), e.getMembers().size()));
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                b.events.add(() -> log.printf("cluster: worker %s left (%d workers)%n", address(e.getMember()), e.getMembers().size()));
            }
        });
        Set<Member> members = client.getCluster().getMembers();
        log.printf("cluster: connected to %d worker(s) of '%s': %s%n", members.size(), options.name(),
                String.join(", ", members.stream().map(ClusterBackend::address).toList()));
        for (Member m : members) b.checkBuild(m);
        return b;
    }

    private void joined(Member m, int size) {
        log.printf("cluster: worker %s joined (%d workers)%n", address(m), size);
        checkBuild(m);
    }

    /** A worker of another build is refused at once (the worker hears it with its first chunk). */
    private void checkBuild(Member m) {
        String build = m.getAttribute(Hazel.BUILD);
        if (!Digests.build().equals(build) && refused.add(m.getUuid()))
            log.printf("cluster: refused worker %s: it runs Laconic build %s, this trainer %s%n", address(m), build, Digests.build());
    }

    static String address(Member m) {
        return m.getAddress().getHost() + ":" + m.getAddress().getPort();
    }

    /** One chunk's fate, reported by a Hazelcast thread and handled on the caller's. */
    private record Outcome(int chunk, Member member, Wire.Result result, Throwable failure) {}

    @Override
    public void generate(Policy policy, List<Chunk> chunks, GenerationConfig gc, Generator.Listener tokens, Done done) throws IOException {
        Wire.PolicySpec spec = publish(policy);
        Wire.Sampling sampling = Wire.Sampling.of(gc);
        IExecutorService exec = client.getExecutorService(Hazel.CHUNKS);
        ArrayDeque<Integer> todo = new ArrayDeque<>();
        for (int i = 0; i < chunks.size(); i++) todo.add(i);
        Map<UUID, Set<Integer>> busy = new HashMap<>();
        Map<Integer, UUID> assigned = new HashMap<>();                // chunk → the worker running it now
        @SuppressWarnings("unchecked") List<Completion>[] results = new List[chunks.size()];
        BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
        int delivered = 0, finished = 0, reruns = 0;
        boolean waitingSaid = false;
        while (delivered < chunks.size()) {
            for (Runnable r; (r = events.poll()) != null; ) r.run();
            // hand out chunks: every accepted worker up to IN_FLIGHT
            List<Member> members = new ArrayList<>();
            for (Member m : client.getCluster().getMembers()) if (!refused.contains(m.getUuid()) && !lost.contains(m.getUuid())) members.add(m);
            Set<UUID> present = new HashSet<>();
            for (Member m : members) present.add(m.getUuid());
            for (var it = busy.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (present.contains(e.getKey())) continue;
                for (int c : e.getValue())
                    if (results[c] == null && e.getKey().equals(assigned.get(c))) reruns += rerun(c, todo, assigned);
                it.remove();
            }
            boolean gave = true;
            while (gave && !todo.isEmpty()) {
                gave = false;
                for (Member m : members) {
                    Set<Integer> mine = busy.computeIfAbsent(m.getUuid(), k -> new LinkedHashSet<>());
                    if (mine.size() >= IN_FLIGHT || todo.isEmpty()) continue;
                    int c = todo.poll();
                    mine.add(c);
                    assigned.put(c, m.getUuid());
                    Chunk ch = chunks.get(c);
                    ChunkTask task = new ChunkTask(spec, sampling, ch.prompts().toArray(new int[0][]), ch.streams(), c + 1);
                    exec.submitToMember(task, m, new ExecutionCallback<Wire.Result>() {
                        @Override public void onResponse(Wire.Result r) { outcomes.add(new Outcome(c, m, r, null)); }
                        @Override public void onFailure(Throwable t) { outcomes.add(new Outcome(c, m, null, t)); }
                    });
                    gave = true;
                }
            }
            if (members.isEmpty() && !waitingSaid) {
                log.printf("cluster: no worker can take chunks; waiting (start one with ./laconic worker --cluster %s)%n", String.join(",", options.members()));
                waitingSaid = true;
            }
            if (!members.isEmpty()) waitingSaid = false;
            Outcome o;
            try {
                o = outcomes.poll(500, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the cluster generates", e);
            }
            if (o == null) continue;
            Set<Integer> mine = busy.get(o.member().getUuid());
            if (mine != null) mine.remove(o.chunk());
            if (results[o.chunk()] != null) continue;                 // a re-run finished first
            boolean current = o.member().getUuid().equals(assigned.get(o.chunk()));
            if (o.failure() != null) {
                if (!gone(o.failure()))
                    throw new IllegalStateException("cluster: chunk " + (o.chunk() + 1) + " failed on worker " + address(o.member()) + ": "
                            + o.failure().getMessage(), o.failure());
                lost.add(o.member().getUuid());
                if (current) reruns += rerun(o.chunk(), todo, assigned);
                continue;
            }
            if (o.result().refused() != null) {
                if (refused.add(o.member().getUuid())) log.printf("cluster: refused worker %s: %s%n", address(o.member()), o.result().refused());
                if (current) {
                    assigned.remove(o.chunk());
                    todo.addFirst(o.chunk());
                }
                continue;
            }
            List<Completion> cs = new ArrayList<>(o.result().completions().size());
            for (Wire.Done d : o.result().completions()) cs.add(d.completion());
            results[o.chunk()] = cs;
            finished++;
            log.printf(Locale.ROOT, "cluster: chunk %d/%d done by %s in %.1f s; %d/%d chunks, %d workers%s%n", o.chunk() + 1, chunks.size(),
                    address(o.member()), o.result().seconds(), finished, chunks.size(), members.size(),
                    reruns == 0 ? "" : ", " + reruns + " re-run");
            // completions go back in chunk order
            while (delivered < chunks.size() && results[delivered] != null) {
                List<Completion> r = results[delivered];
                if (tokens != null)
                    for (Completion c : r) for (int id : c.ids()) tokens.token(c.promptIndex(), c.sample(), id);
                done.chunk(delivered, r);
                results[delivered] = List.of();                          // delivered: free the memory, keep the slot non-null
                delivered++;
            }
        }
    }

    /** Puts a chunk whose worker is gone back at the head of the queue; returns 1 (one re-run). */
    private int rerun(int chunk, ArrayDeque<Integer> todo, Map<Integer, UUID> assigned) {
        assigned.remove(chunk);
        todo.addFirst(chunk);
        log.printf("cluster: chunk %d runs again on another worker (same prompts and seeds)%n", chunk + 1);
        return 1;
    }

    /** The worker is gone or unreachable (not a fault of the chunk): run it elsewhere. */
    static boolean gone(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof com.hazelcast.core.MemberLeftException || c instanceof com.hazelcast.spi.exception.TargetDisconnectedException
                    || c instanceof com.hazelcast.spi.exception.TargetNotMemberException
                    || c instanceof com.hazelcast.core.HazelcastInstanceNotActiveException
                    || c instanceof com.hazelcast.core.OperationTimeoutException || c instanceof java.io.IOException
                    || c instanceof java.util.concurrent.RejectedExecutionException) return true;
        }
        return false;
    }

    /** The policy as the workers find it; a new version's trained tensors go out first (once). */
    private Wire.PolicySpec publish(Policy p) throws IOException {
        if (p.base() == null)
            throw new IllegalArgumentException("cluster: this model was built in memory; workers need a model directory to load it from");
        Path base = p.base().toAbsolutePath().normalize();
        String hash = Digests.model(base);
        var tm = p.trained();
        Wire.Kind kind = tm == null ? Wire.Kind.BASE : tm.loraConfig() != null ? Wire.Kind.LORA : Wire.Kind.FULL;
        LoraConfig lc = tm == null ? null : tm.loraConfig();
        List<String> names = new ArrayList<>();
        String file = null, owner = session;
        if (kind != Wire.Kind.BASE) {
            // each trained model of this trainer has its own versions (a TL;DR run's references and its training share none)
            owner = session + "-" + owners.computeIfAbsent(tm, k -> owners.size());
            Map<String, Tensor> weights = tm.exportWeights(false);
            names.addAll(weights.keySet());
            String key = owner + "/" + p.version(), o = owner;
            Path dir = sharedDir().resolve(owner);
            if (kind == Wire.Kind.FULL) file = dir.resolve("policy-" + p.version() + ".safetensors").toString();
            if (!published.containsKey(key)) {
                Runnable forget;
                if (kind == Wire.Kind.LORA) {
                    IMap<String, float[]> map = client.getMap(Hazel.ADAPTERS);
                    Map<String, float[]> batch = new HashMap<>();
                    weights.forEach((n, t) -> batch.put(Wire.PolicySpec.adapterKey(o, p.version(), n), t.toFloatArray()));
                    map.putAll(batch);
                    forget = () -> { for (String k : batch.keySet()) map.delete(k); };
                } else {
                    Files.createDirectories(dir);
                    Path f = Path.of(file), tmp = dir.resolve(f.getFileName() + ".tmp");
                    SafetensorsWriter.write(tmp, weights, Map.of());
                    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    forget = () -> {
                        try {
                            Files.deleteIfExists(f);
                        } catch (IOException e) {
                            log.printf("cluster: could not delete %s: %s%n", f, e.getMessage());
                        }
                    };
                }
                published.put(key, forget);
                // the workers fetch a version while its chunks run: older ones are no longer needed
                while (published.size() > 2) {
                    var oldest = published.entrySet().iterator().next();
                    published.remove(oldest.getKey());
                    oldest.getValue().run();
                }
            }
        }
        return new Wire.PolicySpec(Digests.build(), base.toString(), hash, p.dtype() == DType.BF16, kind, owner, p.version(),
                lc == null ? 0 : lc.rank(), lc == null ? 0 : lc.alpha(), lc == null ? Set.of() : new LinkedHashSet<>(lc.targets()), names, file,
                Parallel.threads());
    }

    /** Where full fine-tuning's policy files go: the shared directory, else the temporary one (workers on this machine only). */
    private Path sharedDir() {
        return (options.shared() != null ? options.shared() : Path.of(System.getProperty("java.io.tmpdir")).resolve("laconic-cluster"))
                .toAbsolutePath().normalize();
    }

    /** Removes what this trainer published (adapter entries, policy files) and disconnects; the workers stay, idle. */
    @Override
    public void close() {
        try {
            for (Runnable forget : published.values()) forget.run();
        } catch (RuntimeException e) {
            log.printf("cluster: could not remove the published weights: %s%n", e.getMessage());
        }
        published.clear();
        client.shutdown();
    }
}
