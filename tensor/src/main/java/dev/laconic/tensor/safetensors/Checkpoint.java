package dev.laconic.tensor.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.laconic.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model's tensors: one safetensors file, or a directory of shards named by
 * {@code model.safetensors.index.json} ({@code {"metadata": {...}, "weight_map": {tensor: shard file}}}).
 *
 * <p>All files are mapped into one shared arena this object owns (shared, so worker threads may read
 * the tensors); {@link #close()} unmaps them and invalidates every tensor handed out. Opening is all
 * or nothing: on any fault every file mapped so far is unmapped and a {@link SafetensorsException}
 * names the file, the tensor and the reason. A sharded checkpoint must be consistent: every shard
 * present and valid, each tensor in exactly one shard, the one the index names, and no tensor in a
 * shard that the index does not list.
 *
 * <p>A file changed in place while it is mapped ({@link SafetensorsFile#checkUnchanged}) is caught where it is cheap to
 * look: at open, at every {@link #tensor} and at every {@link #checkUnchanged} (the transformer calls it before each
 * forward). A read that faults anyway (the file shrank during the call) raises {@link InternalError} in bulk copies and
 * plain reads, which {@link #explain} turns into the one-line fault naming the file; a fault inside compiled vector
 * code cannot be intercepted and ends the JVM (README, "Reliability").
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";

    private static final JsonMapper INDEX_JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(SafetensorsFile.LIMITS).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena arena;
    private final List<SafetensorsFile> files;
    private final TreeMap<String, SafetensorsFile> owner; // tensor name -> the file holding it
    private final Map<String, String> metadata;
    private volatile boolean closed;
    /** The checkpoints open now, so that a fault with no file named ({@link #explain}) can be traced to its file. */
    private static final Set<Checkpoint> OPEN = ConcurrentHashMap.newKeySet();

    private Checkpoint(Path path, Arena arena, List<SafetensorsFile> files,
                       TreeMap<String, SafetensorsFile> owner, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.files = List.copyOf(files);
        this.owner = owner;
        this.metadata = Collections.unmodifiableMap(metadata);
        OPEN.add(this);
    }

    /**
     * Opens a {@code .safetensors} file, a {@code model.safetensors.index.json}, or a directory holding
     * either (the index wins; a directory with exactly one {@code *.safetensors} file opens that file).
     */
    public static Checkpoint open(Path path) {
        if (!Files.exists(path)) throw new SafetensorsException(path, null, "no such file or directory");
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) return openSharded(index);
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) return openSingle(single);
            List<Path> found = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(path, "*.safetensors")) {
                for (Path p : ds) found.add(p);
            } catch (IOException e) {
                throw new SafetensorsException(path, null, "cannot list directory: " + e, e);
            }
            if (found.size() == 1) return openSingle(found.getFirst());
            throw new SafetensorsException(path, null, "no " + SINGLE_FILE + " or " + INDEX_FILE + " in this directory"
                    + (found.isEmpty() ? "" : " (and " + found.size() + " other .safetensors files: which one?)"));
        }
        if (path.getFileName().toString().endsWith(".json")) return openSharded(path);
        return openSingle(path);
    }

    private static Checkpoint openSingle(Path file) {
        Arena arena = Arena.ofShared();
        try {
            SafetensorsFile f = SafetensorsFile.map(file, arena);
            TreeMap<String, SafetensorsFile> owner = new TreeMap<>();
            for (SafetensorsFile.Entry e : f.entries()) owner.put(e.name(), f);
            return new Checkpoint(file, arena, List.of(f), owner, f.metadata());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static Checkpoint openSharded(Path index) {
        Index idx = readIndex(index);
        // Every shard must exist (and stay inside the directory) before anything is mapped.
        Map<String, Path> shardPaths = new TreeMap<>();
        for (Map.Entry<String, String> e : idx.weightMap().entrySet()) {
            String shard = e.getValue();
            if (shardPaths.containsKey(shard)) continue;
            Path file = idx.dir().resolve(shard).normalize();
            if (!file.startsWith(idx.dir()))
                throw new SafetensorsException(index, e.getKey(), "shard path '" + shard + "' is outside the checkpoint directory");
            if (!Files.isRegularFile(file))
                throw new SafetensorsException(index, e.getKey(), "shard file '" + shard + "' is missing");
            shardPaths.put(shard, file);
        }
        Arena arena = Arena.ofShared();
        try {
            // Map every shard (in name order) before cross-checking, so a bad shard is reported as itself.
            Map<String, SafetensorsFile> shards = new TreeMap<>();
            for (Map.Entry<String, Path> s : shardPaths.entrySet())
                shards.put(s.getKey(), SafetensorsFile.map(s.getValue(), arena));

            TreeMap<String, SafetensorsFile> owner = new TreeMap<>();
            Map<SafetensorsFile, String> shardName = new HashMap<>();
            for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
                shardName.put(s.getValue(), s.getKey());
                for (SafetensorsFile.Entry e : s.getValue().entries()) {
                    SafetensorsFile other = owner.putIfAbsent(e.name(), s.getValue());
                    if (other != null)
                        throw new SafetensorsException(s.getValue().path(), e.name(), "tensor is in both shard '"
                                + shardName.get(other) + "' and shard '" + s.getKey() + "'");
                }
            }
            for (Map.Entry<String, String> e : idx.weightMap().entrySet()) {
                SafetensorsFile actual = owner.get(e.getKey());
                if (actual == null)
                    throw new SafetensorsException(index, e.getKey(), "listed in the index for shard '" + e.getValue()
                            + "' but not found in that shard");
                if (!shardName.get(actual).equals(e.getValue()))
                    throw new SafetensorsException(index, e.getKey(), "index says shard '" + e.getValue()
                            + "' but the tensor is in shard '" + shardName.get(actual) + "'");
            }
            for (Map.Entry<String, SafetensorsFile> e : owner.entrySet()) {
                if (!idx.weightMap().containsKey(e.getKey()))
                    throw new SafetensorsException(e.getValue().path(), e.getKey(), "tensor is in the shard but not listed in "
                            + index.getFileName() + "'s weight_map");
            }
            return new Checkpoint(index, arena, List.copyOf(shards.values()), owner, idx.metadata());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private record Index(Path dir, Map<String, String> weightMap, Map<String, String> metadata) {}

    private static Index readIndex(Path index) {
        JsonNode root;
        try {
            long size = Files.size(index);
            if (size > SafetensorsFile.MAX_HEADER_BYTES)
                throw new SafetensorsException(index, null, "index file is " + size + " bytes, over the "
                        + SafetensorsFile.MAX_HEADER_BYTES + "-byte limit");
            root = INDEX_JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(index, null, SafetensorsFile.jsonFault("index", e), e);
        } catch (IOException e) {
            throw new SafetensorsException(index, null, "cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) throw new SafetensorsException(index, null, "index is not a JSON object");
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject())
            throw new SafetensorsException(index, null, "index has no weight_map object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : wm.properties()) {
            if (!e.getValue().isTextual())
                throw new SafetensorsException(index, e.getKey(), "weight_map value must be a shard file name, found " + e.getValue());
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = root.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) throw new SafetensorsException(index, null, "index metadata must be an object, found " + md);
            // Values are usually numbers ("total_size"); kept as their JSON text.
            for (Map.Entry<String, JsonNode> e : md.properties())
                metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
        }
        Path dir = index.toAbsolutePath().normalize().getParent();
        return new Index(dir, weightMap, metadata);
    }

    // ---- access ---------------------------------------------------------------------------------

    /** The path opened: the single file or the index. */
    public Path path() { return path; }

    /** The files backing the tensors, in shard-name order (one entry for a single-file checkpoint). */
    public List<SafetensorsFile> files() { return files; }

    /** A single file's {@code __metadata__}, or the index's {@code metadata} (values as JSON text). */
    public Map<String, String> metadata() { return metadata; }

    /** All tensor names, sorted. */
    public NavigableSet<String> names() { return Collections.unmodifiableNavigableSet(owner.navigableKeySet()); }

    public int size() { return owner.size(); }

    public boolean contains(String name) { return owner.containsKey(name); }

    /** The header entry of {@code name} (dtype, shape, byte range). */
    public SafetensorsFile.Entry entry(String name) { return fileOf(name).entry(name); }

    /** The file that holds {@code name}. */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) throw new SafetensorsException(path, name, "no such tensor in this checkpoint");
        return f;
    }

    /** A zero-copy, read-only view of the mapped tensor, valid until {@link #close()}; refused when its file changed. */
    public Tensor tensor(String name) {
        if (closed) throw new IllegalStateException("checkpoint " + path + " is closed");
        SafetensorsFile f = fileOf(name);
        f.checkUnchanged();
        return f.tensor(name);
    }

    /** Throws {@link SafetensorsException} naming the first file changed on disk since it was opened. */
    public void checkUnchanged() {
        if (!closed) for (SafetensorsFile f : files) f.checkUnchanged();
    }

    /**
     * The fault behind {@code e} (the JVM's {@code InternalError} for a read of a mapped page that is gone): the
     * {@link SafetensorsException} naming the open file that changed on disk, with {@code e} as its cause; or
     * {@code e} itself when no open file changed.
     */
    public static Throwable explain(InternalError e) {
        for (Checkpoint ck : OPEN) {
            try {
                ck.checkUnchanged();
            } catch (SafetensorsException changed) {
                return new SafetensorsException(changed.file(), changed.tensor(), changed.reason(), e);
            }
        }
        return e;
    }

    /** Unmaps every file; tensors obtained from this checkpoint must not be used afterwards. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        OPEN.remove(this);
        arena.close();
    }

    @Override
    public String toString() {
        return "Checkpoint(" + path + ", " + owner.size() + " tensors in " + files.size() + " file(s))";
    }
}
