package dev.laconic.bench.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of {@code bench train}: one row per (configuration, peer), as a table or as JSON
 * <pre>
 *   {"rows": [{"name", "config", "tokens_per_s", "peer", "peer_tokens_per_s", "ratio", "gflops",
 *              "bound_ratio", "peak_rss_gb", … details …}], "machine": {…}, "notes": […]}
 * </pre>
 * Per row, all measured in the same run:
 * <pre>
 *   ratio              = tokens_per_s / peer_tokens_per_s                    (null when the peer did not run)
 *   gflops             = tokens_per_s · model FLOPs per token / 10⁹           (StepCost: 6·params·tokens + attention)
 *   bound_tokens_per_s = gemm_gflops · 10⁹ / executed FLOPs per token        (the step's GEMM mix at our GEMM rate)
 *   bound_ratio        = tokens_per_s / bound_tokens_per_s
 *   peak_ratio         = gflops / fma_peak_gflops
 * </pre>
 */
record TrainReport(List<Row> rows, Map<String, Object> machine, List<String> notes) {

    /** peer, peerTokensPerSecond, peerPeakRssBytes: null when the peer was skipped (peer then says why). */
    record Row(String name, String config, OurTraining.Result ours, StepCost cost, double gemmGflops, double fmaPeakGflops,
               String peer, TorchPeer.Result theirs) {

        double ratio() { return theirs == null ? Double.NaN : ours.tokensPerSecond() / theirs.tokensPerSecond(); }
        double gflops() { return ours.tokensPerSecond() * cost.modelFlopsPerToken() / 1e9; }
        double boundTokensPerSecond() { return gemmGflops * 1e9 / cost.executedFlopsPerToken(); }
        double boundRatio() { return ours.tokensPerSecond() / boundTokensPerSecond(); }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("config", config);
            m.put("tokens_per_s", round(ours.tokensPerSecond()));
            m.put("peer", peer);
            m.put("peer_tokens_per_s", theirs == null ? null : round(theirs.tokensPerSecond()));
            m.put("ratio", theirs == null ? null : round(ratio()));
            m.put("gflops", round(gflops()));
            m.put("bound_ratio", round(boundRatio()));
            m.put("peak_rss_gb", gb(ours.peakRssBytes()));
            m.put("peer_peak_rss_gb", theirs == null ? null : gb(theirs.peakRssBytes()));
            m.put("tokens_per_step", ours.tokensPerStep());
            m.put("steps", ours.stepSeconds().length);
            m.put("step_seconds", rounded(ours.stepSeconds()));
            m.put("peer_step_seconds", theirs == null ? null : rounded(theirs.stepSeconds()));
            m.put("loss", round(ours.loss()));
            m.put("trainable_parameters", ours.trainableParameters());
            m.put("flops_per_token", round(cost.modelFlopsPerToken()));
            m.put("executed_flops_per_token", round(cost.executedFlopsPerToken()));
            m.put("gemm_gflops", round(gemmGflops));
            m.put("bound_tokens_per_s", round(boundTokensPerSecond()));
            m.put("fma_peak_gflops", round(fmaPeakGflops));
            m.put("peak_ratio", round(gflops() / fmaPeakGflops));
            m.put("peak_rss_since_weights", ours.peakSinceWeights());
            m.put("peer_info", theirs == null ? null : theirs.info());
            return m;
        }
    }

    /** Four significant digits: a benchmark needs no more, and a tiny figure never rounds to 0. */
    static double round(double v) {
        if (v == 0 || !Double.isFinite(v)) return v;
        return new BigDecimal(v).round(new MathContext(4)).doubleValue();
    }

    private static double[] rounded(double[] v) {
        return Arrays.stream(v).map(TrainReport::round).toArray();
    }

    private static Double gb(long bytes) {
        return bytes < 0 ? null : round(bytes / 1e9);
    }

    String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Row r : rows) rs.add(r.toMap());
        root.put("rows", rs);
        root.put("machine", machine);
        root.put("notes", notes);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("machine: ").append(machine.get("summary")).append("\n\n");
        String fmt = "| %-22s | %9s | %-32s | %9s | %7s | %8s | %6s | %6s | %8s | %8s |%n";
        sb.append(String.format(Locale.ROOT, fmt, "row", "ours t/s", "peer", "peer t/s", "ratio", "GFLOP/s", "bound", "peak",
                "RSS GB", "peer GB"));
        sb.append(String.format(Locale.ROOT, fmt, "-".repeat(22), "-".repeat(9), "-".repeat(32), "-".repeat(9), "-".repeat(7),
                "-".repeat(8), "-".repeat(6), "-".repeat(6), "-".repeat(8), "-".repeat(8)));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name, f(r.ours.tokensPerSecond(), 1),
                    r.theirs == null ? "(not run, see below)" : r.peer,
                    r.theirs == null ? "-" : f(r.theirs.tokensPerSecond(), 1),
                    r.theirs == null ? "-" : f(r.ratio(), 2) + "x",
                    f(r.gflops(), 1), f(r.boundRatio(), 2), f(r.gflops() / r.fmaPeakGflops, 2),
                    r.ours.peakRssBytes() < 0 ? "-" : f(r.ours.peakRssBytes() / 1e9, 2),
                    r.theirs == null ? "-" : f(r.theirs.peakRssBytes() / 1e9, 2)));
        }
        sb.append('\n');
        String last = null;
        for (Row r : rows) {
            if (r.config.equals(last)) continue;
            last = r.config;
            sb.append(String.format(Locale.ROOT, "%s: %s%n    GEMM mix %.1f GFLOP/s -> bound %.1f t/s; model %.3g / executed %.3g FLOP per token%n",
                    r.name, r.config, r.gemmGflops, r.boundTokensPerSecond(), r.cost.modelFlopsPerToken(), r.cost.executedFlopsPerToken()));
        }
        for (Row r : rows) if (r.theirs == null) sb.append("peer of ").append(r.name).append(": ").append(r.peer).append('\n');
        sb.append('\n');
        for (String n : notes) sb.append("note: ").append(n).append('\n');
        return sb.toString();
    }

    private static String f(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
