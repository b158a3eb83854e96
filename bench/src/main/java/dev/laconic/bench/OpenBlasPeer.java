package dev.laconic.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
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
 * The side-by-side peer: numpy's float32 matmul (OpenBLAS sgemm in the standard wheels) on the
 * roofline's shapes, run by the bundled {@code numpy_sgemm.py} in a Python subprocess right after
 * our kernels, with the same thread count.
 *
 * <p>{@code OPENBLAS_CORETYPE} is removed from that subprocess's environment: a setting such as
 * {@code Haswell} forces OpenBLAS's AVX2 kernel and has been seen to halve sgemm on AVX-512
 * machines. The kernel OpenBLAS then picks for itself is reported with the results.
 */
public final class OpenBlasPeer {
    static final String SCRIPT = "numpy_sgemm.py";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the peer ran and measured: GFLOP/s per case name. */
    public record Result(String python, String numpy, Map<String, Object> blas, Map<String, Double> gflops,
                         String coretypeRemoved) {}

    private OpenBlasPeer() {}

    /**
     * A Python that imports numpy: {@code requested} if given (null when it lacks numpy), else
     * {@code python3} on PATH, else a virtual environment in the usual places (./tools/.venv,
     * ./.venv, ./venv, and tools/.venv of the checkout this jar was built in).
     */
    public static String findPython(String requested, List<String> tried) {
        Set<String> candidates = new LinkedHashSet<>();
        if (requested != null) {
            candidates.add(requested);
        } else {
            candidates.add("python3");
            for (String venv : List.of("tools/.venv", ".venv", "venv")) candidates.add(venv + "/bin/python");
            Path root = checkoutRoot();
            if (root != null) candidates.add(root.resolve("tools/.venv/bin/python").toString());
        }
        for (String py : candidates) {
            tried.add(py);
            if (hasNumpy(py)) return py;
        }
        return null;
    }

    private static boolean hasNumpy(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import numpy")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no such executable
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** app/target/laconic.jar, bench/target/classes or bench/target/laconic-bench-*.jar → the checkout's root; null if unknown. */
    private static Path checkoutRoot() {
        try {
            var src = OpenBlasPeer.class.getProtectionDomain().getCodeSource();
            if (src == null) return null;
            Path p = Path.of(src.getLocation().toURI()).toAbsolutePath();
            for (int up = 0; up < 3 && p != null; up++) p = p.getParent(); // .../{app,bench}/target/x → ...
            return p;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** Runs the peer on {@code cases} (all F32) with {@code threads} BLAS threads. */
    public static Result run(String python, List<GemmCase> cases, int threads, Timing.Budget budget)
            throws IOException, InterruptedException {
        Path script = Files.createTempFile("laconic-numpy-sgemm", ".py");
        Path err = Files.createTempFile("laconic-numpy-sgemm", ".err");
        try (InputStream in = OpenBlasPeer.class.getResourceAsStream(SCRIPT)) {
            if (in == null) throw new IOException("resource " + SCRIPT + " missing from the jar");
            Files.write(script, in.readAllBytes());
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(python, script.toString()).redirectError(err.toFile());
            Map<String, String> env = pb.environment();
            String coretype = env.remove("OPENBLAS_CORETYPE");
            for (String v : List.of("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"))
                env.put(v, Integer.toString(threads));

            Map<String, Object> request = new LinkedHashMap<>();
            request.put("threads", threads);
            request.put("warmup", budget.warmup());
            request.put("min_reps", budget.minReps());
            request.put("min_seconds", budget.minSeconds());
            List<Map<String, Object>> cs = new ArrayList<>();
            for (GemmCase c : cases)
                cs.add(Map.of("name", c.name(), "kind", c.kind().name().toLowerCase(), "t", c.t(), "n", c.n(), "k", c.k()));
            request.put("cases", cs);

            Process p = pb.start();
            try (var stdin = p.getOutputStream()) {
                stdin.write(JSON.writeValueAsBytes(request));
            }
            byte[] out = p.getInputStream().readAllBytes(); // returns when the script exits
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
            if (p.exitValue() != 0) {
                String msg = Files.readString(err, StandardCharsets.UTF_8).strip();
                throw new IOException(python + " " + SCRIPT + " exited " + p.exitValue()
                        + (msg.isEmpty() ? "" : ": " + msg.lines().reduce((a, b) -> b).orElse("")));
            }
            JsonNode root = JSON.readTree(out);
            Map<String, Double> gflops = new LinkedHashMap<>();
            root.get("gflops").properties().forEach(e -> gflops.put(e.getKey(), e.getValue().asDouble()));
            @SuppressWarnings("unchecked")
            Map<String, Object> blas = JSON.convertValue(root.get("blas"), LinkedHashMap.class);
            return new Result(python, root.path("numpy").asText("?"), blas, gflops, coretype);
        } finally {
            Files.deleteIfExists(script);
            Files.deleteIfExists(err);
        }
    }
}
