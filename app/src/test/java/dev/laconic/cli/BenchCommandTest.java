package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI wiring: `bench roofline --json` prints parseable rows, `bench jmh` hands its arguments to JMH. */
class BenchCommandTest {

    private static String run(String... args) {
        PrintStream saved = System.out;
        var buf = new ByteArrayOutputStream();
        try (var out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            int rc = new CommandLine(new BenchCommand()).execute(args);
            assertEquals(0, rc, "exit code of bench " + String.join(" ", args));
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rooflineJsonHasEveryKernelRowWithFinitePositiveRatios() throws Exception {
        JsonNode root = new ObjectMapper().readTree(run("roofline", "--quick", "--json", "--no-openblas"));
        JsonNode rows = root.get("rows");
        assertTrue(rows.isArray() && !rows.isEmpty(), "rows: " + rows);
        Set<String> names = new HashSet<>();
        for (JsonNode r : rows) {
            for (String f : new String[]{"name", "shape", "unit", "limit_name"})
                assertTrue(r.path(f).isTextual() && !r.get(f).asText().isEmpty(), f + " in " + r);
            for (String f : new String[]{"achieved", "limit", "ratio"}) {
                double v = r.path(f).asDouble(Double.NaN);
                assertTrue(r.path(f).isNumber() && Double.isFinite(v) && v > 0, f + " finite and > 0 in " + r);
            }
            // the ratio is achieved / limit (four significant digits each)
            double want = r.get("achieved").asDouble() / r.get("limit").asDouble();
            assertEquals(want, r.get("ratio").asDouble(), 2e-3 * want, "ratio of " + r);
            assertTrue(names.add(r.get("name").asText()), "duplicate row " + r);
            assertTrue(Set.of("GFLOP/s", "GB/s").contains(r.get("unit").asText()), "unit of " + r);
            assertTrue(r.get("vs_openblas") == null, "peer disabled, yet " + r);
        }
        for (String layer : new String[]{"q/o_proj", "gate/up_proj", "down_proj"}) {
            for (String kind : new String[]{"fwd ", "fwd-bf16w ", "dx ", "dw "})
                assertTrue(names.contains(kind + layer), "row " + kind + layer + " in " + names);
        }
        assertTrue(names.containsAll(Set.of("gemm", "matvec gate/up_proj", "matvec down_proj")), names.toString());
        // a backward GEMM's limit is the forward GEMM of the same layer, as measured in this run
        for (JsonNode r : rows) {
            String name = r.get("name").asText();
            if (name.startsWith("dx ") || name.startsWith("dw ")) {
                String fwd = "fwd " + name.substring(3);
                assertEquals(fwd, r.get("limit_name").asText());
                for (JsonNode f : rows)
                    if (f.get("name").asText().equals(fwd)) assertEquals(f.get("achieved").asDouble(), r.get("limit").asDouble());
            }
        }

        JsonNode m = root.get("machine");
        assertTrue(m.get("threads").asInt() >= 1);
        assertTrue(m.get("read_bandwidth_gbs").asDouble() > 0 && m.get("fma_peak_gflops").asDouble() > 0, m.toString());
        assertTrue(m.get("vector_species").asText().contains("float"), m.toString());
        assertTrue(m.get("openblas_skipped").asText().contains("skipped"), m.toString());
    }

    @Test
    void jmhArgumentsReachJmhAndItListsOurBenchmarks() {
        String list = run("jmh", "-l");
        assertTrue(list.contains("dev.laconic.bench.GemmBench.forward"), list);
        assertTrue(list.contains("dev.laconic.bench.GemmBackwardBench.backward"), list);
    }
}
