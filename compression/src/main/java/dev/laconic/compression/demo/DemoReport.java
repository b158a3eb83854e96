package dev.laconic.compression.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.plot.Axis;
import dev.laconic.compression.plot.Plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The demo's results: one row per model evaluated on the same test set with the same sampling
 * settings, as a table, {@code summary.json} and a Pareto picture (accuracy against mean tokens).
 *
 * <pre>
 *   token_reduction = 1 − mean_tokens(model) / mean_tokens(long-reasoner)
 *   compressed      = token_reduction ≥ 0.40  and  accuracy ≥ accuracy(long-reasoner) − 0.02
 * </pre>
 * (the targets both papers are judged by here: ~40 % fewer tokens at kept accuracy). Every row also has its
 * accuracy and mean tokens per difficulty level ("by_level"); a method trained with several seeds has a row
 * per seed and a mean row ({@link #mean}, "mean_of" instead of "run_dir").
 */
public final class DemoReport {
    public static final String LONG = "long-reasoner";
    static final double TARGET_REDUCTION = 0.40, TARGET_ACCURACY_DROP = 0.02;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One difficulty level of a row: its accuracy and mean completion tokens. */
    public record Level(String difficulty, double accuracy, double meanTokens) {}

    /**
     * One evaluated model.
     *
     * @param accuracy   fraction of samples correct
     * @param meanTokens mean completion tokens (EOS included)
     * @param runDir     the evaluation's run directory (null for a mean row)
     * @param levels     the same per difficulty level, in the evaluation's order
     * @param meanOf     for a mean row ({@link #mean}): the run directories of the rows it averages; else empty
     */
    public record Row(String name, double accuracy, double meanTokens, double truncatedRate, String runDir, List<Level> levels,
                      List<String> meanOf) {
        public Row {
            levels = List.copyOf(levels);
            meanOf = List.copyOf(meanOf);
        }

        public Row(String name, double accuracy, double meanTokens, double truncatedRate, String runDir, List<Level> levels) {
            this(name, accuracy, meanTokens, truncatedRate, runDir, levels, List.of());
        }

        public Row(String name, double accuracy, double meanTokens, double truncatedRate, String runDir) {
            this(name, accuracy, meanTokens, truncatedRate, runDir, List.of());
        }

        /** The evaluation run directories behind the row: its own, or those it averages. */
        public List<String> runDirs() { return isMean() ? meanOf : List.of(runDir); }

        /** The overall row and the by_difficulty rows of an evaluation run's summary.json. */
        public static Row read(String name, Path runDir) throws IOException {
            JsonNode j = JSON.readTree(runDir.resolve("summary.json").toFile());
            List<Level> levels = new ArrayList<>();
            for (JsonNode d : j.path("by_difficulty"))
                levels.add(new Level(d.path("difficulty").asText(), d.path("accuracy").asDouble(), d.path("mean_completion_tokens").asDouble()));
            return new Row(name, j.path("accuracy").asDouble(), j.path("mean_completion_tokens").asDouble(),
                    j.path("truncated_rate").asDouble(), runDir.toString(), levels);
        }

        public boolean isMean() { return !meanOf.isEmpty(); }
    }

    /**
     * The mean of rows of one method trained with different seeds (every figure averaged, per level too;
     * the rows must have the same levels). Its run_dir lists the runs it averages.
     */
    public static Row mean(String name, List<Row> rows) {
        if (rows.isEmpty()) throw new IllegalArgumentException("no rows to average");
        int n = rows.size();
        List<Level> levels = new ArrayList<>();
        for (int l = 0; l < rows.getFirst().levels().size(); l++) {
            double acc = 0, tok = 0;
            String d = rows.getFirst().levels().get(l).difficulty();
            for (Row r : rows) {
                Level x = r.levels().get(l);
                if (!x.difficulty().equals(d)) throw new IllegalArgumentException(r.name() + ": level " + x.difficulty() + " where " + d + " was expected");
                acc += x.accuracy() / n;
                tok += x.meanTokens() / n;
            }
            levels.add(new Level(d, acc, tok));
        }
        double acc = 0, tok = 0, trunc = 0;
        for (Row r : rows) {
            acc += r.accuracy() / n;
            tok += r.meanTokens() / n;
            trunc += r.truncatedRate() / n;
        }
        return new Row(name, acc, tok, trunc, null, levels, rows.stream().map(Row::runDir).toList());
    }

    private DemoReport() {}

    /** Token reduction of each row against the long reasoner's mean tokens (NaN when there is no long-reasoner row). */
    public static double reduction(Row r, List<Row> rows) {
        Row longRow = find(rows, LONG);
        return longRow == null ? Double.NaN : 1 - r.meanTokens() / longRow.meanTokens();
    }

    /** ≥ 40 % fewer tokens than the long reasoner at no more than 2 accuracy points below it. */
    public static boolean meetsTarget(Row r, List<Row> rows) {
        Row longRow = find(rows, LONG);
        return longRow != null && reduction(r, rows) >= TARGET_REDUCTION - 1e-12
                && r.accuracy() >= longRow.accuracy() - TARGET_ACCURACY_DROP - 1e-12;
    }

    static Row find(List<Row> rows, String name) {
        for (Row r : rows) if (r.name().equals(name)) return r;
        return null;
    }

    /** The table, then each row's accuracy / mean tokens per level. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-28s %9s %10s %10s %10s  %s%n", "model", "accuracy", "mean tok", "reduction", "truncated", "≥40% fewer, ≤2 pts lost"));
        for (Row r : rows) {
            double red = reduction(r, rows);
            String verdict = r.name().equals(LONG) ? "(reference)" : meetsTarget(r, rows) ? "yes" : "no";
            sb.append(String.format(Locale.ROOT, "%-28s %9.4f %10.1f %9.1f%% %10.4f  %s%n",
                    r.name(), r.accuracy(), r.meanTokens(), 100 * red, r.truncatedRate(), verdict));
        }
        sb.append(String.format(Locale.ROOT, "%nper level (accuracy / mean tokens):%n"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-28s", r.name()));
            for (Level l : r.levels()) sb.append(String.format(Locale.ROOT, "  L%s %.3f / %5.1f", l.difficulty(), l.accuracy(), l.meanTokens()));
            sb.append('\n');
        }
        return sb.toString();
    }

    /** {@code {"models": [{"name", "accuracy", "mean_completion_tokens", "token_reduction", "truncated_rate", ...}]}}. */
    public static ObjectNode json(List<Row> rows, ObjectNode extra) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode models = o.putArray("models");
        for (Row r : rows) {
            ObjectNode m = models.addObject();
            m.put("name", r.name());
            m.put("accuracy", r.accuracy());
            m.put("mean_completion_tokens", r.meanTokens());
            double red = reduction(r, rows);
            if (Double.isNaN(red)) m.putNull("token_reduction");
            else m.put("token_reduction", red);
            m.put("truncated_rate", r.truncatedRate());
            m.put("meets_target", !r.name().equals(LONG) && meetsTarget(r, rows));
            ArrayNode levels = m.putArray("by_level");
            for (Level l : r.levels()) {
                ObjectNode x = levels.addObject();
                x.put("difficulty", l.difficulty());
                x.put("accuracy", l.accuracy());
                x.put("mean_completion_tokens", l.meanTokens());
            }
            if (r.isMean()) {
                ArrayNode of = m.putArray("mean_of");
                for (String d : r.meanOf()) of.add(d);
            } else m.put("run_dir", r.runDir());
        }
        if (extra != null) o.setAll(extra);
        return o;
    }

    /** summary.json (atomically) and pareto.png and pareto.svg in {@code dir}. */
    public static void write(Path dir, List<Row> rows, ObjectNode extra) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".summary", ".json");
        JSON.writeValue(tmp.toFile(), json(rows, extra));
        Files.move(tmp, dir.resolve("summary.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        pareto(dir.resolve("pareto.png"), rows);
    }

    /**
     * pareto.png (and .svg): accuracy against mean tokens, one numbered point per model, with the target's two
     * edges (40 % fewer tokens than the long reasoner, 2 points below its accuracy) as dashed lines.
     */
    static void pareto(Path png, List<Row> rows) throws IOException {
        List<Plot.Point> points = new ArrayList<>();
        for (Row r : rows)
            points.add(new Plot.Point(String.format(Locale.ROOT, "%s: %.1f %%, %.0f tokens", r.name(), 100 * r.accuracy(), r.meanTokens()),
                    r.meanTokens(), 100 * r.accuracy()));
        List<Plot.Series> guides = new ArrayList<>();
        Row longRow = find(rows, LONG);
        if (longRow != null) {
            guides.add(Plot.Series.at("40 % fewer tokens than the long reasoner (the target is left of it)", (1 - TARGET_REDUCTION) * longRow.meanTokens()));
            guides.add(Plot.Series.level("2 points below its accuracy (the target is above it)", 100 * (longRow.accuracy() - TARGET_ACCURACY_DROP)));
        }
        Plot.scatter(png, "Accuracy against length: up and to the left is better",
                Axis.nonNegative("mean completion tokens (test set)"), Axis.percent("accuracy (%)"), points, guides);
    }

    /**
     * One test problem as each model answered it: the first problem on which the long reasoner was right
     * and that every model has a sample for, preferring the hardest difficulty. Completions are shown
     * line by line (long ones cut in the middle) with their token counts.
     */
    public static String sideBySide(List<Row> rows, int maxLines) throws IOException {
        List<Map<Integer, JsonNode>> byRow = new ArrayList<>();
        rows = rows.stream().filter(r -> !r.isMean()).toList();
        for (Row r : rows) {
            Map<Integer, JsonNode> m = new HashMap<>();
            Path f = Path.of(r.runDir()).resolve("samples.jsonl");
            if (Files.isRegularFile(f))
                for (String line : Files.readAllLines(f))
                    if (!line.isBlank()) {
                        JsonNode j = JSON.readTree(line);
                        if (j.path("sample").asInt() == 0) m.put(j.path("index").asInt(), j);
                    }
            byRow.add(m);
        }
        Row longRow = find(rows, LONG);
        if (longRow == null || byRow.isEmpty()) return "";
        var longSamples = byRow.get(rows.indexOf(longRow));
        Integer pick = null;
        String best = "";
        for (var e : new TreeMap<>(longSamples).entrySet()) {
            if (!e.getValue().path("correct").asBoolean()) continue;
            if (!byRow.stream().allMatch(m -> m.containsKey(e.getKey()))) continue;
            String d = e.getValue().path("difficulty").asText("");
            if (pick == null || d.compareTo(best) > 0) { pick = e.getKey(); best = d; }
        }
        if (pick == null) return "";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nOne test problem (index %d, difficulty %s), as each model answered it:%n", pick, best));
        for (int i = 0; i < rows.size(); i++) {
            var j = byRow.get(i).get(pick);
            sb.append(String.format(Locale.ROOT, "%n--- %s: %d tokens, %s%n", rows.get(i).name(), j.path("tokens").asInt(),
                    j.path("correct").asBoolean() ? "correct" : "wrong"));
            List<String> lines = j.path("completion").asText().lines().toList();
            if (lines.size() <= maxLines) lines.forEach(l -> sb.append("  ").append(l).append('\n'));
            else {
                for (String l : lines.subList(0, maxLines / 2)) sb.append("  ").append(l).append('\n');
                sb.append(String.format(Locale.ROOT, "  [... %d lines ...]%n", lines.size() - 2 * (maxLines / 2)));
                for (String l : lines.subList(lines.size() - maxLines / 2, lines.size())) sb.append("  ").append(l).append('\n');
            }
        }
        return sb.toString();
    }
}
