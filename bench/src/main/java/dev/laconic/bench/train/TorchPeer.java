package dev.laconic.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The side-by-side peer: PyTorch (transformers' model of the same config, torch.optim.AdamW, peft for
 * LoRA) running the bundled {@code torch_train.py} in a Python subprocess with the same thread count
 * and sequence length. {@code OPENBLAS_CORETYPE} is removed from its environment (a forced core type
 * such as Haswell halves float32 GEMMs on AVX-512 machines); OMP/MKL/OpenBLAS threads are set to N.
 * Its progress lines (stderr) go to our log as they come; its stdout is one JSON object.
 */
final class TorchPeer {
    static final String SCRIPT = "torch_train.py";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A Python with torch and transformers installed; peft tells whether the LoRA peers can run. */
    record Python(String path, boolean peft) {}

    /** What the peer measured: tokens/s over its timed steps, its peak RSS, and what it ran (versions, settings). */
    record Result(double tokensPerSecond, double[] stepSeconds, long peakRssBytes, Map<String, Object> info) {}

    private TorchPeer() {}

    /**
     * {@code requested} if given, else ./tools/.venv/bin/python, tools/.venv of the checkout this jar was
     * built in, then python3: the first that has torch and transformers; null if none has.
     */
    static Python find(String requested, List<String> tried) {
        Set<String> candidates = new LinkedHashSet<>();
        if (requested != null) {
            candidates.add(requested);
        } else {
            candidates.add("tools/.venv/bin/python");
            Path root = checkoutRoot();
            if (root != null) candidates.add(root.resolve("tools/.venv/bin/python").toString());
            candidates.add("python3");
        }
        for (String py : candidates) {
            tried.add(py);
            String out = probe(py);
            if (out != null) return new Python(py, out.strip().endsWith("True"));
        }
        return null;
    }

    /**
     * stdout of a check that torch and transformers are installed (ending in whether peft is), or null.
     * find_spec locates a package without importing it: milliseconds instead of torch's import time
     * (a broken install still shows, as the peer's own error, when it runs).
     */
    private static String probe(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import importlib.util as u, sys\n"
                    + "if u.find_spec('torch') is None or u.find_spec('transformers') is None: sys.exit(1)\n"
                    + "print(u.find_spec('peft') is not None)")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;   // no such executable
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** app/target/laconic.jar, bench/target/classes or bench/target/laconic-bench-*.jar → the checkout's root; null if unknown. */
    private static Path checkoutRoot() {
        try {
            var src = TorchPeer.class.getProtectionDomain().getCodeSource();
            if (src == null) return null;
            Path p = Path.of(src.getLocation().toURI()).toAbsolutePath();
            for (int up = 0; up < 3 && p != null; up++) p = p.getParent();
            return p;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Runs the script with {@code request} (its fields are documented at the top of the script).
     * Throws IOException with the script's last error line when it fails.
     */
    static Result run(String python, Map<String, Object> request, int threads, PrintStream log)
            throws IOException, InterruptedException {
        Path script = Files.createTempFile("laconic-torch-train", ".py");
        try (InputStream in = TorchPeer.class.getResourceAsStream(SCRIPT)) {
            if (in == null) throw new IOException("resource " + SCRIPT + " missing from the jar");
            Files.write(script, in.readAllBytes());
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(python, script.toString());
            Map<String, String> env = pb.environment();
            env.remove("OPENBLAS_CORETYPE");
            for (String v : List.of("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
                env.put(v, Integer.toString(threads));
            Process p = pb.start();
            // its stderr, as it comes: progress lines to our log, the rest kept for the error message
            List<String> errLines = new ArrayList<>();
            Thread errReader = Thread.ofPlatform().daemon().start(() -> {
                try (var r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.startsWith("torch peer: ")) log.println("bench train: " + line);
                        else synchronized (errLines) { errLines.add(line); }
                    }
                } catch (IOException e) {
                    // the process went away
                }
            });
            try (var stdin = p.getOutputStream()) {
                stdin.write(JSON.writeValueAsBytes(request));
            }
            byte[] out = p.getInputStream().readAllBytes();   // returns when the script exits
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
            errReader.join(10_000);
            if (p.exitValue() != 0) {
                String last;
                synchronized (errLines) { last = errLines.isEmpty() ? "" : errLines.getLast().strip(); }
                String why = p.exitValue() == 137 ? " (SIGKILL: the kernel's OOM killer, if memory ran out)" : "";
                throw new IOException(SCRIPT + " exited " + p.exitValue() + why + (last.isEmpty() ? "" : ": " + last));
            }
            JsonNode root = JSON.readTree(out);
            List<Double> sec = new ArrayList<>();
            root.get("step_seconds").forEach(n -> sec.add(n.asDouble()));
            @SuppressWarnings("unchecked")
            Map<String, Object> info = JSON.convertValue(root.get("info"), LinkedHashMap.class);
            info.put("loss", root.path("loss").asDouble());
            info.put("coretype_env_removed", System.getenv("OPENBLAS_CORETYPE"));
            return new Result(root.get("tokens_per_s").asDouble(), sec.stream().mapToDouble(Double::doubleValue).toArray(),
                    root.get("peak_rss_bytes").asLong(), info);
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
