package dev.laconic.bench.decode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The decode benchmark's result, as a llama-bench-style table or as JSON
 * <pre>
 *   {"rows": [{"test": "pp512"|"tg128"|…, "tokens_per_s", "weight_gb_per_s", "bandwidth_gb_per_s",
 *              "ratio_to_bound", "engine", "bound", "bound_tokens_per_s", "tokens_per_s_mean", "reps"}…],
 *    "model": {…}, "machine": {…}, "memory": {…}, "jlama": {…} (with --jlama)}
 * </pre>
 * Bounds, both measured in the same run:
 * <pre>
 *   tg (decode):  bound_tokens_per_s = bandwidth / matrix bytes per token;
 *                 ratio_to_bound = weight_gb_per_s / bandwidth_gb_per_s
 *   pp (prefill): bound_tokens_per_s = F32 GEMM FLOP/s / FLOPs per token (ModelCost);
 *                 ratio_to_bound = tokens_per_s / bound_tokens_per_s
 * </pre>
 * weight_gb_per_s is the matrix bytes actually streamed per second: once per token when decoding,
 * once per forward (of all the prompt's tokens) when prefilling.
 */
record DecodeReport(List<Row> rows, Map<String, Object> model, Map<String, Object> machine,
                    Map<String, Object> memory, Map<String, Object> jlama) {

    /** One row: an engine's measurement against its bound. */
    record Row(String engine, String test, double tokensPerSecond, double tokensPerSecondMean, int reps,
               double weightGbPerSecond, double bandwidthGbPerSecond, String bound, double boundTokensPerSecond,
               double ratioToBound) {

        static Row of(String engine, DecodeRuns.Result r, ModelCost cost, double bandwidthGbs, double gemmGflops) {
            double tps = r.bestTokensPerSecond();
            if (r.kind().equals("tg")) {
                double gbs = cost.matrixBytesPerToken() * tps / 1e9;
                return new Row(engine, r.test(), tps, r.meanTokensPerSecond(), r.seconds().length, gbs, bandwidthGbs,
                        "read_bandwidth", bandwidthGbs * 1e9 / cost.matrixBytesPerToken(), gbs / bandwidthGbs);
            }
            double bound = gemmGflops * 1e9 / cost.prefillFlopsPerToken(r.tokens());
            return new Row(engine, r.test(), tps, r.meanTokensPerSecond(), r.seconds().length,
                    cost.matrixBytesPerToken() * tps / r.tokens() / 1e9, bandwidthGbs, "f32_gemm", bound, tps / bound);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("test", test);
            m.put("tokens_per_s", round(tokensPerSecond));
            m.put("weight_gb_per_s", round(weightGbPerSecond));
            m.put("bandwidth_gb_per_s", round(bandwidthGbPerSecond));
            m.put("ratio_to_bound", round(ratioToBound));
            m.put("engine", engine);
            m.put("bound", bound);
            m.put("bound_tokens_per_s", round(boundTokensPerSecond));
            m.put("tokens_per_s_mean", round(tokensPerSecondMean));
            m.put("reps", reps);
            return m;
        }
    }

    /** Four significant digits (as the roofline report): a benchmark needs no more, a tiny ratio never rounds to 0. */
    static double round(double v) {
        if (v == 0 || !Double.isFinite(v)) return v;
        return new BigDecimal(v).round(new MathContext(4)).doubleValue();
    }

    String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Row r : rows) rs.add(r.toMap());
        root.put("rows", rs);
        root.put("model", model);
        root.put("machine", machine);
        root.put("memory", memory);
        if (jlama != null) root.put("jlama", jlama);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("model:   ").append(model.get("summary")).append('\n');
        sb.append("machine: ").append(machine.get("summary")).append('\n');
        sb.append('\n');
        String fmt = "| %-38s | %-14s | %10s | %10s | %11s | %-14s | %10s | %6s |%n";
        sb.append(String.format(Locale.ROOT, fmt, "engine", "test", "t/s", "t/s mean", "weight GB/s", "bound", "bound t/s", "ratio"));
        sb.append(String.format(Locale.ROOT, fmt, "-".repeat(38), "-".repeat(14), "-".repeat(10), "-".repeat(10), "-".repeat(11),
                "-".repeat(14), "-".repeat(10), "-".repeat(6)));
        for (Row r : rows)
            sb.append(String.format(Locale.ROOT, fmt, r.engine, r.test, f2(r.tokensPerSecond), f2(r.tokensPerSecondMean),
                    f2(r.weightGbPerSecond), r.bound, f2(r.boundTokensPerSecond), String.format(Locale.ROOT, "%.3f", r.ratioToBound)));
        if (jlama != null) sb.append('\n').append("jlama:   ").append(jlama.get("summary")).append('\n');
        sb.append('\n').append("memory:  ").append(memory.get("summary")).append('\n');
        return sb.toString();
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
