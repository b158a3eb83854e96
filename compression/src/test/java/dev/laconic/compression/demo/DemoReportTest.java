package dev.laconic.compression.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DemoReportTest {
    static final List<DemoReport.Row> ROWS = List.of(
            new DemoReport.Row("long-reasoner", 0.95, 400, 0, "a"),
            new DemoReport.Row("tldr-dynamic", 0.94, 200, 0, "b"),   // 50 % fewer, 1 point lost: meets
            new DemoReport.Row("tldr-static", 0.92, 150, 0, "c"),    // 62.5 % fewer, 3 points lost: not
            new DemoReport.Row("rl-alpha-0.1", 0.95, 260, 0, "d"),   // 35 % fewer: not
            new DemoReport.Row("rl-alpha-0.4", 0.93, 240, 0, "e"));  // exactly 40 % and exactly 2 points: meets

    @Test
    void reductionAndTargetAreComputedAgainstTheLongReasoner() {
        assertEquals(0.5, DemoReport.reduction(ROWS.get(1), ROWS), 1e-12);
        assertEquals(0.4, DemoReport.reduction(ROWS.get(4), ROWS), 1e-12);
        assertTrue(DemoReport.meetsTarget(ROWS.get(1), ROWS));
        assertFalse(DemoReport.meetsTarget(ROWS.get(2), ROWS));
        assertFalse(DemoReport.meetsTarget(ROWS.get(3), ROWS));
        assertTrue(DemoReport.meetsTarget(ROWS.get(4), ROWS), "the boundary counts as met");
        assertTrue(Double.isNaN(DemoReport.reduction(ROWS.get(1), ROWS.subList(1, 3))), "no long-reasoner row");
    }

    @Test
    void summaryJsonHasTheIssueShapeAndAParetoPicture(@TempDir Path dir) throws Exception {
        DemoReport.write(dir, ROWS, null);
        JsonNode s = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(5, s.get("models").size());
        JsonNode m = s.get("models").get(1);
        assertEquals("tldr-dynamic", m.get("name").asText());
        assertEquals(0.94, m.get("accuracy").asDouble());
        assertEquals(200, m.get("mean_completion_tokens").asDouble());
        assertEquals(0.5, m.get("token_reduction").asDouble(), 1e-12);
        assertEquals(0, m.get("truncated_rate").asDouble());
        assertTrue(Files.size(dir.resolve("pareto.png")) > 1000);
        String table = DemoReport.table(ROWS);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("tldr-dynamic") && l.endsWith("yes")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("tldr-static") && l.endsWith("no")), table);
    }

    @Test
    void aMeanRowAveragesItsSeedsOverallAndPerLevel(@TempDir Path dir) throws Exception {
        DemoReport.Row a = new DemoReport.Row("m-seed0", 0.90, 100, 0, "x", List.of(new DemoReport.Level("3", 1.0, 80), new DemoReport.Level("4", 0.8, 120)));
        DemoReport.Row b = new DemoReport.Row("m-seed1", 0.70, 140, 0.1, "y", List.of(new DemoReport.Level("3", 0.9, 100), new DemoReport.Level("4", 0.5, 180)));
        DemoReport.Row m = DemoReport.mean("m", List.of(a, b));
        assertEquals(0.80, m.accuracy(), 1e-12);
        assertEquals(120, m.meanTokens(), 1e-12);
        assertEquals(0.05, m.truncatedRate(), 1e-12);
        assertEquals(new DemoReport.Level("3", 0.95, 90), m.levels().get(0));
        assertEquals(0.65, m.levels().get(1).accuracy(), 1e-12);
        assertEquals(150, m.levels().get(1).meanTokens(), 1e-12);
        DemoReport.Row c = new DemoReport.Row("m-seed2", 0.7, 1, 0, "z", List.of(new DemoReport.Level("4", 0.9, 100), new DemoReport.Level("3", 0.5, 180)));
        assertThrows(IllegalArgumentException.class, () -> DemoReport.mean("m", List.of(a, c)), "levels in another order");
        List<DemoReport.Row> rows = List.of(new DemoReport.Row("long-reasoner", 0.9, 200, 0, "l", a.levels()), a, b, m);
        DemoReport.write(dir, rows, null);
        JsonNode s = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        JsonNode mean = s.get("models").get(3);
        assertEquals("x", mean.get("mean_of").get(0).asText());
        assertEquals("y", mean.get("mean_of").get(1).asText());
        assertFalse(mean.has("run_dir"));
        assertEquals(0.4, mean.get("token_reduction").asDouble(), 1e-12);
        assertEquals(150, mean.get("by_level").get(1).get("mean_completion_tokens").asDouble(), 1e-12);
        assertTrue(DemoReport.table(rows).contains("L4 0.650 / 150.0"), DemoReport.table(rows));
    }
}
