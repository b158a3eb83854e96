package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One dev evaluation of a TL;DR run and the weights it led to: a line of RUN_DIR/metrics.jsonl
 * <pre>
 *   {"step": 32, "w_short": 0.98, "w_long": 0.02, "dev_accuracy": 0.81, "dev_tokens": 254.2,
 *    "b_short": 0.99, "b_long": 0.0, "eval_seconds": 41.3}
 * </pre>
 * beside the training lines of the same steps (which have "loss" instead of "dev_accuracy").
 * {@code wShort, wLong}: the weights after this evaluation's update, which the next K steps draw with.
 */
public record Evaluation(long step, double wShort, double wLong, double accuracy, double tokens, double bShort, double bLong,
                         double seconds) {
    public ObjectNode json() {
        ObjectNode o = RunDir.JSON.createObjectNode();
        o.put("step", step);
        o.put("w_short", wShort);
        o.put("w_long", wLong);
        o.put("dev_accuracy", accuracy);
        o.put("dev_tokens", tokens);
        o.put("b_short", bShort);
        o.put("b_long", bLong);
        o.put("eval_seconds", seconds);
        return o;
    }

    public static Evaluation fromJson(JsonNode n) {
        return new Evaluation(n.path("step").asLong(), n.path("w_short").asDouble(), n.path("w_long").asDouble(),
                n.path("dev_accuracy").asDouble(), n.path("dev_tokens").asDouble(), n.path("b_short").asDouble(),
                n.path("b_long").asDouble(), n.path("eval_seconds").asDouble());
    }

    /** The evaluation lines of a metrics file, in file order (training lines and torn lines skipped). */
    public static List<Evaluation> read(Path metrics) throws IOException {
        List<Evaluation> out = new ArrayList<>();
        if (!Files.exists(metrics)) return out;
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = RunDir.JSON.readTree(line);
            } catch (IOException e) {
                continue;
            }
            if (n.has("dev_accuracy")) out.add(fromJson(n));
        }
        return out;
    }
}
