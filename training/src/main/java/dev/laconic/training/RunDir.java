package dev.laconic.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A training run on disk:
 * <pre>
 *   RUN_DIR/config.json                       the run's options (what --resume must match)
 *   RUN_DIR/metrics.jsonl                     one line per optimizer step (or evaluation): "step", "split"
 *                                             ("train" or "eval"), "time" (seconds since the run started), the rest
 *   RUN_DIR/checkpoints/step-000010/          trainable.safetensors  parameters (F32, their own names)
 *                                             optimizer.safetensors  AdamW m, v (exp_avg.NAME, exp_avg_sq.NAME)
 *                                             state.json             step, AdamW step, data cursor, RNG
 *   RUN_DIR/final/                            the result (HF model directory or PEFT adapter)
 * </pre>
 * Directories are published atomically: written under a {@code .tmp-*} name, every file fsynced,
 * then renamed into place and the parent fsynced. A run killed mid-write leaves only a temp
 * directory, which resuming ignores and deletes: it continues from the previous checkpoint.
 */
public final class RunDir {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String PARAMS = "trainable.safetensors", OPTIMIZER = "optimizer.safetensors", STATE = "state.json";

    /** The {@code split} of a metrics row: an optimizer step's, or an evaluation's. */
    public static final String TRAIN = "train", EVAL = "eval";

    private final Path dir;
    private final long opened = System.nanoTime();
    private volatile double resumedAt;        // the "time" of the last row kept by truncateMetrics (a resumed run)

    public RunDir(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() { return dir; }
    public Path config() { return dir.resolve("config.json"); }
    public Path metrics() { return dir.resolve("metrics.jsonl"); }
    public Path checkpoints() { return dir.resolve("checkpoints"); }
    public Path finalDir() { return dir.resolve("final"); }

    public Path checkpoint(long step) {
        return checkpoints().resolve(String.format("step-%06d", step));
    }

    /**
     * A fresh run: the directory must not exist, be empty, or hold only what a creation cut short left (see
     * {@link #holdsRun}). Writes config.json, an empty metrics file and checkpoints/ in a temporary sibling and
     * renames it into place, so a kill leaves either no run or a whole one.
     */
    public void create(ObjectNode config) throws IOException {
        if (holdsRun()) throw new IllegalArgumentException(dir + ": already holds a run (resume it, or use another directory)");
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": exists and is not a directory");
        cleanTemp();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent())
                    throw new IllegalArgumentException(dir + ": is not empty and holds no run (no config.json): use another directory");
            }
        }
        byte[] json = JSON.writeValueAsBytes(config);
        publish(dir, tmp -> {
            Files.createDirectory(tmp.resolve("checkpoints"));
            Files.write(tmp.resolve("config.json"), json);
            Files.write(tmp.resolve("metrics.jsonl"), new byte[0]);
        });
    }

    /** Whether this directory holds a run (its config.json, the last file a creation publishes, is there). */
    public boolean holdsRun() {
        return Files.isRegularFile(config());
    }

    public ObjectNode readConfig() throws IOException {
        if (!Files.isRegularFile(config())) throw new IllegalArgumentException(dir + ": not a run directory (no config.json)");
        JsonNode n = JSON.readTree(config().toFile());
        if (!(n instanceof ObjectNode o)) throw new IllegalArgumentException(config() + ": expected a JSON object");
        return o;
    }

    // ---- metrics ---------------------------------------------------------------------------------

    /**
     * Seconds since the run started, in ms: since this object was made (the command's start), plus for a resumed
     * run the {@code time} of the last metrics row it kept, so a run's time goes on across stops and resumes
     * (the time between a stop and its resume is not counted).
     */
    public double seconds() {
        return Math.round((resumedAt + (System.nanoTime() - opened) / 1e9) * 1000) / 1000.0;
    }

    /**
     * Appends one row to metrics.jsonl and flushes it: {@code "step"} (when the row has one), then {@code "split"}
     * ({@link #TRAIN} or {@link #EVAL}) and {@code "time"} ({@link #seconds}), then the row's other fields.
     */
    public void appendMetrics(String split, ObjectNode row) {
        appendRow(metrics(), split, row);
    }

    /** The same for another JSONL file of the run (e.g. an evaluation log). */
    public void appendRow(Path file, String split, ObjectNode row) {
        if (!TRAIN.equals(split) && !EVAL.equals(split)) throw new IllegalArgumentException("split must be train or eval, got " + split);
        ObjectNode line = JSON.createObjectNode();
        if (row.has("step")) line.set("step", row.get("step"));
        line.put("split", split);
        line.put("time", seconds());
        line.setAll(row);
        appendLine(file, Jsonl.line(line));
    }

    /** Appends one line to any JSONL file of the run and flushes it. */
    public static void appendLine(Path file, String jsonLine) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(jsonLine);
            w.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Drops metrics lines of steps after {@code step} (written by a run killed before its next checkpoint);
     * {@link #seconds} goes on from the last kept line's {@code time}.
     */
    public void truncateMetrics(long step) throws IOException {
        truncateLines(metrics(), step);
        double last = 0;
        for (String line : Files.readAllLines(metrics(), StandardCharsets.UTF_8))
            if (!line.isBlank()) last = Math.max(last, JSON.readTree(line).path("time").asDouble(0));
        resumedAt = last;
    }

    /**
     * The same for any JSONL file of the run whose lines carry a "step" field (e.g. an evaluation log). Only a torn
     * last line (a write cut off by a kill) is dropped; any other line that is not a JSON object is an error naming
     * {@code file:N}, and nothing is rewritten.
     */
    public static void truncateLines(Path file, long step) throws IOException {
        if (!Files.exists(file)) {
            writeAtomically(file, new byte[0]);
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        StringBuilder keep = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = Jsonl.JSON.readTree(line);
            } catch (JsonProcessingException e) {
                if (i == lines.size() - 1) continue;        // a torn last line of a killed run
                throw new Jsonl.BadInput(file + ":" + (i + 1) + ": " + Jsonl.invalid(e)
                        + " (only a torn last line is repaired on resume; fix or delete this line)");
            }
            if (!n.isObject())
                throw new Jsonl.BadInput(file + ":" + (i + 1) + ": expected a JSON object (only a torn last line is repaired on resume)");
            if (n.path("step").asLong(Long.MAX_VALUE) <= step) keep.append(line).append('\n');
        }
        writeAtomically(file, keep.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ---- checkpoints -------------------------------------------------------------------------------

    /** What a checkpoint holds besides tensors. */
    public record State(long step, long optimizerStep, long dataCursor, long dataSeed, long dataEpoch) {}

    /**
     * Writes checkpoint {@code state.step()} atomically, with a trainer's own state ({@code extra}, e.g. the
     * TL;DR mixture weights and domain cursors; may be null) stored under "extra" in state.json, read back
     * by {@link #readExtra}.
     */
    public Path saveCheckpoint(State state, Map<String, Tensor> params, Map<String, Tensor> optimizer, JsonNode extra) throws IOException {
        Path target = checkpoint(state.step());
        publish(target, tmp -> {
            SafetensorsWriter.write(tmp.resolve(PARAMS), params, Map.of("format", "pt"));
            SafetensorsWriter.write(tmp.resolve(OPTIMIZER), optimizer, Map.of("format", "pt"));
            ObjectNode s = JSON.createObjectNode();
            s.put("step", state.step());
            s.put("optimizer_step", state.optimizerStep());
            s.put("data_cursor", state.dataCursor());
            s.putObject("rng").put("data_seed", state.dataSeed()).put("data_epoch", state.dataEpoch());
            if (extra != null) s.set("extra", extra);
            writeAtomically(tmp.resolve(STATE), JSON.writeValueAsBytes(s));
        });
        return target;
    }

    /** Deletes every checkpoint but the newest {@code keep} (0: keeps all) and the {@code pinned} steps. */
    public void prune(int keep, Set<Long> pinned) throws IOException {
        if (keep == 0) return;
        List<Long> steps = checkpointSteps();
        for (int i = 0; i < steps.size() - keep; i++)
            if (!pinned.contains(steps.get(i))) deleteTree(checkpoint(steps.get(i)));
    }

    public State readState(Path checkpoint) throws IOException {
        JsonNode s = JSON.readTree(checkpoint.resolve(STATE).toFile());
        return new State(s.path("step").asLong(), s.path("optimizer_step").asLong(), s.path("data_cursor").asLong(),
                s.path("rng").path("data_seed").asLong(), s.path("rng").path("data_epoch").asLong());
    }

    /** The trainer's own state saved with a checkpoint ("extra" in state.json), or a missing node. */
    public JsonNode readExtra(Path checkpoint) throws IOException {
        return JSON.readTree(checkpoint.resolve(STATE).toFile()).path("extra");
    }

    /** Completed checkpoints, oldest first (a temp directory of an interrupted write is not one). */
    public List<Long> checkpointSteps() throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.isDirectory(checkpoints())) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpoints(), "step-*")) {
            for (Path p : ds) {
                try {
                    long s = Long.parseLong(p.getFileName().toString().substring(5));
                    if (Files.isRegularFile(p.resolve(STATE))) out.add(s);
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** Deletes temp files and directories left by interrupted writes (a run's own and its creation's sibling). */
    public void cleanTemp() throws IOException {
        for (Path parent : List.of(dir, checkpoints())) {
            if (!Files.isDirectory(parent)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, ".tmp-*")) {
                for (Path p : ds) deleteTree(p);
            }
        }
        Path parent = dir.getParent();
        if (parent != null && Files.isDirectory(parent)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p -> isTempOf(p.getFileName().toString()))) {
                for (Path p : ds) deleteTree(p);
            }
        }
    }

    /** {@code .tmp-NAME-TAG} or {@code .tmp-old-NAME-TAG}: {@link #publish}'s temporaries for this directory. */
    private boolean isTempOf(String file) {
        String name = dir.getFileName().toString();
        for (String prefix : List.of(".tmp-" + name + "-", ".tmp-old-" + name + "-")) {
            if (file.startsWith(prefix) && file.length() > prefix.length()
                    && file.substring(prefix.length()).chars().allMatch(c -> Character.digit(c, 16) >= 0)) return true;
        }
        return false;
    }

    // ---- atomic files and directories ------------------------------------------------------------

    @FunctionalInterface
    public interface Filler {
        void fill(Path tmp) throws IOException;
    }

    /**
     * Builds a directory under a temp name beside {@code target}, fsyncs it, then renames it to
     * {@code target} (replacing an existing one) and fsyncs the parent.
     */
    public static void publish(Path target, Filler filler) throws IOException {
        target = target.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        String tag = Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path tmp = parent.resolve(".tmp-" + target.getFileName() + "-" + tag);
        Files.createDirectory(tmp);
        try {
            filler.fill(tmp);
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.toList()) if (Files.isRegularFile(f)) fsync(f, false);
            }
            fsync(tmp, true);
            Path old = null;
            if (Files.exists(target)) {
                old = parent.resolve(".tmp-old-" + target.getFileName() + "-" + tag);
                move(target, old);
            }
            move(tmp, target);
            fsync(parent, true);
            if (old != null) deleteTree(old);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Replaces a small file atomically: temp file in the same directory, fsync, rename. */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(".tmp-" + file.getFileName() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        try {
            move(tmp, file);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
        }
    }

    private static void fsync(Path p, boolean directory) {
        try (FileChannel ch = FileChannel.open(p, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // directories cannot be opened for fsync on some platforms: best effort there
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
