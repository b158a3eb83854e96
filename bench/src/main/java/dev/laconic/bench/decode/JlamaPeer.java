package dev.laconic.bench.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.bench.ChildJvm;
import dev.laconic.bench.Peers;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs Jlama's engine ({@code JlamaEngine#main}, in bench/peers) in a child JVM ({@link ChildJvm}) on the
 * peers' class path ({@link Peers}) on a model directory and reads back its results.
 *
 * <p>A child, not this process: Jlama's ForkJoin pool would compete with our worker pool for the same
 * cores, its static initialiser switches off the Vector API's bounds checks JVM-wide, and its memory
 * would blur our peak RSS.
 *
 * <p>Jlama's kernels: jlama-native's FFM bindings live under META-INF/versions/22 of its multi-release
 * jar, which the peers' class path holds as it is, so they load and Jlama runs its native C SIMD kernels
 * (on linux-x86_64; elsewhere it falls back to its Panama (Vector API) kernels). The engine name in
 * every Jlama row says which ran.
 */
final class JlamaPeer {
    /** What the child measured. */
    record Outcome(String engine, List<DecodeRuns.Result> results, long peakRssBytes) {}

    private JlamaPeer() {}

    static Outcome run(Path dir, int threads, int vocab, DecodeRuns.Settings s, PrintStream log) throws IOException {
        List<String> args = List.of("--dir", dir.toAbsolutePath().toString(), "--threads", "" + threads, "--vocab", "" + vocab,
                "--prompt-tokens", "" + s.promptTokens(), "--gen-tokens", "" + s.genTokens(), "--reps", "" + s.reps(),
                "--context", "" + s.context(), "--seed", "" + s.seed());
        log.println("bench decode: starting Jlama in a child JVM on " + dir);
        String json = ChildJvm.lastJsonLine(ChildJvm.run(ChildJvm.command(Peers.JLAMA_MAIN, Peers.classPath(), null, args), "Jlama"), "Jlama");

        JsonNode root = new ObjectMapper().readTree(json);
        List<DecodeRuns.Result> results = new ArrayList<>();
        for (JsonNode r : root.get("results")) {
            double[] sec = new double[r.get("seconds").size()];
            for (int i = 0; i < sec.length; i++) sec[i] = r.get("seconds").get(i).asDouble();
            int[] greedy = null;
            if (r.hasNonNull("greedy")) {
                greedy = new int[r.get("greedy").size()];
                for (int i = 0; i < greedy.length; i++) greedy[i] = r.get("greedy").get(i).asInt();
            }
            results.add(new DecodeRuns.Result(r.get("test").asText(), r.get("kind").asText(), r.get("tokens").asInt(), sec, greedy));
        }
        return new Outcome(root.get("engine").asText(), results, root.get("peak_rss_bytes").asLong());
    }
}
