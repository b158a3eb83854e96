package dev.laconic.compression.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * RUN_DIR/samples.jsonl: graded samples, appended one finished batch at a time (write + fsync), so a killed
 * run loses at most the batch in flight.
 * <p>Resuming reads it back and keeps the problems whose n samples are all there. What a kill can leave
 * behind is dropped: a last line without its newline (cut mid-write) and the lines of a problem whose
 * batch was cut short. If anything was dropped, the file is rewritten (atomically) without it, so new
 * batches append after whole lines only.
 */
public final class SamplesFile {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    public SamplesFile(Path file) {
        this.file = file;
    }

    public Path path() { return file; }

    /** The complete problems already on disk: dataset index → its samples in sample order. */
    public Map<Integer, List<Sample>> resume(List<Problem> problems, int n) throws IOException {
        Map<Integer, Problem> byIndex = new LinkedHashMap<>();
        for (Problem p : problems) byIndex.put(p.index(), p);
        Map<Integer, Sample[]> found = new TreeMap<>();
        List<String> lines = new ArrayList<>();
        List<Integer> lineProblem = new ArrayList<>();
        boolean dropped = false;
        if (Files.exists(file)) {
            // split on the byte '\n' (never part of a multi-byte UTF-8 sequence), so a line cut mid-character
            // is dropped before anything tries to decode it
            byte[] all = Files.readAllBytes(file);
            int start = 0, number = 0;
            while (start < all.length) {
                int end = start;
                while (end < all.length && all[end] != '\n') end++;
                number++;
                if (end == all.length) {     // no newline: the write of this line was cut off
                    dropped = true;
                    break;
                }
                String line = new String(all, start, end - start, StandardCharsets.UTF_8);
                start = end + 1;
                if (line.isBlank()) continue;
                Sample s = parse(line, number);
                Problem p = byIndex.get(s.index());
                if (p != null && !p.id().equals(s.id()))
                    throw new Jsonl.BadInput(file + ":" + number + ": problem " + s.index() + " has id \"" + s.id()
                            + "\" here but \"" + p.id() + "\" in the data: this run evaluated other data (use a fresh run directory)");
                if (s.sample() < 0 || s.sample() >= n) throw new Jsonl.BadInput(file + ":" + number + ": sample " + s.sample()
                        + " of problem " + s.index() + ", but this run takes " + n + " samples per problem");
                Sample[] slots = found.computeIfAbsent(s.index(), k -> new Sample[n]);
                if (slots[s.sample()] != null) throw new Jsonl.BadInput(file + ":" + number + ": sample " + s.sample()
                        + " of problem " + s.index() + " appears twice");
                slots[s.sample()] = s;
                lines.add(line);
                lineProblem.add(s.index());
            }
        }
        Map<Integer, List<Sample>> complete = new TreeMap<>();
        for (var e : found.entrySet()) {
            boolean whole = true;
            for (Sample s : e.getValue()) whole &= s != null;
            if (whole) complete.put(e.getKey(), List.of(e.getValue()));
            else dropped = true;
        }
        if (dropped) {
            StringBuilder kept = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) if (complete.containsKey(lineProblem.get(i))) kept.append(lines.get(i)).append('\n');
            RunDir.writeAtomically(file, kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        return complete;
    }

    private Sample parse(String line, int number) {
        try {
            JsonNode node = JSON.readTree(line);
            if (node == null || !node.isObject()) throw new Jsonl.BadInput(file + ":" + number + ": expected a JSON object");
            return Sample.fromJson(node);
        } catch (JsonProcessingException e) {
            throw new Jsonl.BadInput(file + ":" + number + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new Jsonl.BadInput(file + ":" + number + ": " + e.getMessage());
        }
    }

    /** Appends whole lines and forces them to disk before returning. */
    public void append(List<Sample> samples) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Sample s : samples) sb.append(Jsonl.line(s.toJson())).append('\n');
        ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (b.hasRemaining()) ch.write(b);
            ch.force(false);
        }
    }
}
