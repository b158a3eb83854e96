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
 *   {"rows": [{"test": "pp512"|"tg128"|…, "batch", "dtype", "tokens_per_s", "bound_tokens_per_s", "ratio_to_bound",
 *              "weight_gb_per_s", "bandwidth_gb_per_s", "engine", "bound", "tokens_per_s_mean", "reps",
 *              batched rows also: "sequences", "decoded_tokens", "decode_s", "prefill_s", "sequence_ms_per_token_p50|p90|max",
 *              "bandwidth_bound_tokens_per_s", "gemm_bound_tokens_per_s"}…],
 *    "model": {…}, "machine": {…}, "memory": {"weights_gb", "peak_rss_gb", … of the first dtype, "by_dtype": {…}},
 *    "jlama": {…} (with --jlama)}
 * </pre>
 * Bounds, both measured in the same run:
 * <pre>
 *   tg (decode):  bound_tokens_per_s = bandwidth / matrix bytes per token;
 *                 ratio_to_bound = weight_gb_per_s / bandwidth_gb_per_s
 *   pp (prefill): bound_tokens_per_s = F32 GEMM FLOP/s / FLOPs per token (ModelCost);
 *                 ratio_to_bound = tokens_per_s / bound_tokens_per_s
 *   tg, batch B:  bound_tokens_per_s = min(B × bandwidth / matrix bytes per token, F32 GEMM FLOP/s / decode FLOPs
 *                 per token); ratio_to_bound = tokens_per_s / bound_tokens_per_s
 * </pre>
 * weight_gb_per_s is the matrix bytes actually streamed per second: once per token when decoding,
 * once per forward (of all the prompt's tokens) when prefilling.
 */
record DecodeReport(List<Row> rows, Map<String, Object> model, Map<String, Object> machine,
                    Map<String, Object> memory, Map<String, Object> jlama) {

    /**
     * One row: an engine's measurement against its bound. batch: sequences decoded together (1 for pp and the
     * single-sequence tg rows); extra: the batched rows' sequence count and per-sequence latency (else empty).
     */
    record Row(String engine, String test, int batch, String dtype, double tokensPerSecond, double tokensPerSecondMean,
               int reps, double weightGbPerSecond, double bandwidthGbPerSecond, String bound, double boundTokensPerSecond,
               double ratioToBound, Map<String, Object> extra) {

        static Row of(String engine, String dtype, DecodeRuns.Result r, ModelCost cost, double bandwidthGbs, double gemmGflops) {
            double tps = r.bestTokensPerSecond();
            if (r.kind().equals("tg")) {
                double gbs = cost.matrixBytesPerToken() * tps / 1e9;
                return new Row(engine, r.test(), 1, dtype, tps, r.meanTokensPerSecond(), r.seconds().length, gbs, bandwidthGbs,
                        "read_bandwidth", bandwidthGbs * 1e9 / cost.matrixBytesPerToken(), gbs / bandwidthGbs, Map.of());
            }
            double bound = gemmGflops * 1e9 / cost.prefillFlopsPerToken(r.tokens());
            return new Row(engine, r.test(), 1, dtype, tps, r.meanTokensPerSecond(), r.seconds().length,
                    cost.matrixBytesPerToken() * tps / r.tokens() / 1e9, bandwidthGbs, "f32_gemm", bound, tps / bound, Map.of());
        }

        /**
         * A batched decode row: bound = min(B × bandwidth bound, our F32 GEMM rate / decode FLOPs per token at the
         * mean position), named by whichever is smaller; weight GB/s = matrix bytes × engine steps per second.
         */
        static Row batched(String engine, String dtype, int genTokens, BatchRuns.Result r, ModelCost cost, double bandwidthGbs,
                           double gemmGflops, double meanPositions) {
            double tps = r.tokensPerSecond();
            double memory = r.batch() * bandwidthGbs * 1e9 / cost.matrixBytesPerToken();
            double compute = gemmGflops * 1e9 / cost.decodeFlopsPerToken(meanPositions);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("sequences", r.sequences());
            extra.put("decoded_tokens", r.tokens());
            extra.put("decode_s", round(r.decodeSeconds()));
            extra.put("prefill_s", round(r.prefillSeconds()));
            extra.put("sequence_ms_per_token_p50", round(r.latencyMs(0.5)));
            extra.put("sequence_ms_per_token_p90", round(r.latencyMs(0.9)));
            extra.put("sequence_ms_per_token_max", round(r.latencyMs(1)));
            extra.put("bandwidth_bound_tokens_per_s", round(memory));
            extra.put("gemm_bound_tokens_per_s", round(compute));
            double bound = Math.min(memory, compute);
            return new Row(engine, "tg" + genTokens, r.batch(), dtype, tps, tps, 1, cost.matrixBytesPerToken() * r.stepsPerSecond() / 1e9,
                    bandwidthGbs, memory <= compute ? "batch_x_read_bandwidth" : "f32_gemm", bound, tps / bound, extra);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("test", test);
            m.put("batch", batch);
            m.put("dtype", dtype);
            m.put("tokens_per_s", round(tokensPerSecond));
            m.put("bound_tokens_per_s", round(boundTokensPerSecond));
            m.put("ratio_to_bound", round(ratioToBound));
            m.put("weight_gb_per_s", round(weightGbPerSecond));
            m.put("bandwidth_gb_per_s", round(bandwidthGbPerSecond));
            m.put("engine", engine);
            m.put("bound", bound);
            m.put("tokens_per_s_mean", round(tokensPerSecondMean));
            m.put("reps", reps);
            m.putAll(extra);
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
        String fmt = "| %-38s | %-14s | %5s | %-5s | %10s | %10s | %11s | %-22s | %10s | %6s | %-17s |%n";
        sb.append(String.format(Locale.ROOT, fmt, "engine", "test", "batch", "dtype", "t/s", "t/s mean", "weight GB/s", "bound",
                "bound t/s", "ratio", "seq ms/tok p50/max"));
        sb.append(String.format(Locale.ROOT, fmt, "-".repeat(38), "-".repeat(14), "-".repeat(5), "-".repeat(5), "-".repeat(10),
                "-".repeat(10), "-".repeat(11), "-".repeat(22), "-".repeat(10), "-".repeat(6), "-".repeat(17)));
        for (Row r : rows)
            sb.append(String.format(Locale.ROOT, fmt, r.engine, r.test, r.batch, r.dtype, f2(r.tokensPerSecond), f2(r.tokensPerSecondMean),
                    f2(r.weightGbPerSecond), r.bound, f2(r.boundTokensPerSecond), String.format(Locale.ROOT, "%.3f", r.ratioToBound),
                    r.extra.isEmpty() ? "" : String.format(Locale.ROOT, "%.0f / %.0f", r.extra.get("sequence_ms_per_token_p50"),
                            r.extra.get("sequence_ms_per_token_max"))));
        if (jlama != null) sb.append('\n').append("jlama:   ").append(jlama.get("summary")).append('\n');
        sb.append('\n').append("memory:  ").append(memory.get("summary")).append('\n');
        return sb.toString();
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
