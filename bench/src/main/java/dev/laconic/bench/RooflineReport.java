package dev.laconic.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The roofline's result: one row per kernel (achieved / limit) plus the machine it ran on, as a
 * text table or as JSON {@code {"rows": [...], "machine": {...}}}.
 */
public record RooflineReport(List<Row> rows, Map<String, Object> machine) {

    /**
     * One kernel: {@code ratio = achieved / limit}, where the limit is named by {@code limitName}
     * (fma_peak, read_bandwidth, or the forward GEMM of the same layer for a backward GEMM).
     * {@code openblas} is the peer's figure for the same case and {@code vsOpenblas = achieved /
     * openblas}; both null when not measured.
     */
    public record Row(String name, String shape, double achieved, String unit, double limit, String limitName,
                      double ratio, Double openblas, Double vsOpenblas) {

        public Row(String name, String shape, double achieved, String unit, double limit, String limitName) {
            this(name, shape, achieved, unit, limit, limitName, achieved / limit, null, null);
        }

        public Row withOpenblas(double peer) {
            return new Row(name, shape, achieved, unit, limit, limitName, ratio, peer, achieved / peer);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("shape", shape);
            m.put("achieved", round(achieved));
            m.put("unit", unit);
            m.put("limit", round(limit));
            m.put("limit_name", limitName);
            m.put("ratio", round(ratio));
            if (vsOpenblas != null) {
                m.put("openblas", round(openblas));
                m.put("vs_openblas", round(vsOpenblas));
            }
            return m;
        }
    }

    /** Four significant digits: enough for a benchmark, and a tiny ratio never rounds to 0. */
    private static double round(double v) {
        if (v == 0 || !Double.isFinite(v)) return v;
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue();
    }

    public String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Row r : rows) rs.add(r.toMap());
        root.put("rows", rs);
        root.put("machine", machine);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The table, preceded by the machine line and the two measured roofs. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("machine: ").append(machine.get("cpu")).append(", ").append(machine.get("threads"))
                .append(" threads, JDK ").append(machine.get("jdk")).append(", ").append(machine.get("vector_species"))
                .append(String.format(Locale.ROOT, ", load average %.1f -> %.1f%n",
                        (Double) machine.get("load_average_start"), (Double) machine.get("load_average_end")));
        sb.append(String.format(Locale.ROOT, "limits:  read bandwidth %.1f GB/s, FMA peak %.1f GFLOP/s%n",
                (Double) machine.get("read_bandwidth_gbs"), (Double) machine.get("fma_peak_gflops")));
        if (machine.get("openblas") instanceof Map<?, ?> ob)
            sb.append("peer:    ").append(ob.get("summary")).append('\n');
        else
            sb.append("peer:    ").append(machine.getOrDefault("openblas_skipped", "not run")).append('\n');
        sb.append('\n');

        String fmt = "%-24s %-30s %9s %-8s %9s %-18s %6s %9s %11s%n";
        sb.append(String.format(Locale.ROOT, fmt, "name", "shape", "achieved", "unit", "limit", "limit of",
                "ratio", "openblas", "vs_openblas"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name, r.shape, f1(r.achieved), r.unit, f1(r.limit),
                    r.limitName, String.format(Locale.ROOT, "%.2f", r.ratio),
                    r.openblas == null ? "-" : f1(r.openblas),
                    r.vsOpenblas == null ? "-" : String.format(Locale.ROOT, "%.2f", r.vsOpenblas)));
        }
        return sb.toString();
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
