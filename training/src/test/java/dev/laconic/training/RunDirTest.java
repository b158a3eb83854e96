package dev.laconic.training;

import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class RunDirTest {
    static RunDir fresh(Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run.create(RunDir.JSON.createObjectNode().put("lr", 0.5));
        return run;
    }

    @Test
    void createWritesConfigAndRefusesAnExistingRun(@TempDir Path dir) throws IOException {
        RunDir run = fresh(dir);
        assertEquals(0.5, run.readConfig().get("lr").asDouble());
        assertEquals(0, Files.size(run.metrics()));
        assertThrows(IllegalArgumentException.class, () -> run.create(RunDir.JSON.createObjectNode()));
        assertThrows(IllegalArgumentException.class, () -> new RunDir(dir.resolve("nothing")).readConfig());
    }

    @Test
    void metricsAppendAndTruncateToACheckpoint(@TempDir Path dir) throws IOException {
        RunDir run = fresh(dir);
        for (int s = 1; s <= 4; s++) run.appendMetrics(RunDir.TRAIN, RunDir.JSON.createObjectNode().put("loss", 1.5).put("step", s));
        Files.writeString(run.metrics(), "{\"step\":5,\"lo", java.nio.file.StandardOpenOption.APPEND);   // torn by a kill
        run.truncateMetrics(2);
        List<String> lines = Files.readAllLines(run.metrics());
        assertEquals(2, lines.size());
        for (int s = 1; s <= 2; s++) {
            var n = RunDir.JSON.readTree(lines.get(s - 1));
            assertEquals(List.of("step", "split", "time", "loss"), List.copyOf(n.properties().stream().map(Map.Entry::getKey).toList()),
                    "step, split and time first, then the row's own fields");
            assertEquals(s, n.get("step").asInt());
            assertEquals("train", n.get("split").asText());
            assertTrue(n.get("time").asDouble() >= 0);
        }
        run.appendMetrics(RunDir.EVAL, RunDir.JSON.createObjectNode().put("step", 3));
        assertEquals(3, Files.readAllLines(run.metrics()).size());
        assertEquals("eval", RunDir.JSON.readTree(Files.readAllLines(run.metrics()).get(2)).get("split").asText());
        assertThrows(IllegalArgumentException.class, () -> run.appendMetrics("test", RunDir.JSON.createObjectNode()));
    }

    @Test
    void aCorruptMiddleLineOfMetricsIsAnErrorNamingItsLineAndNothingIsRewritten(@TempDir Path dir) throws IOException {
        RunDir run = fresh(dir);
        String before = "{\"step\":1,\"split\":\"train\",\"time\":1}\n{\"step\":2,\"spl#t\n{\"step\":3,\"split\":\"train\",\"time\":3}\n";
        Files.writeString(run.metrics(), before);
        var e = assertThrows(Jsonl.BadInput.class, () -> run.truncateMetrics(3));
        assertTrue(e.getMessage().startsWith(run.metrics() + ":2: not valid JSON"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(before, Files.readString(run.metrics()), "nothing already written is lost");

        Files.writeString(run.metrics(), "{\"step\":1} trailing\n{\"step\":2}\n");
        e = assertThrows(Jsonl.BadInput.class, () -> run.truncateMetrics(3));
        assertTrue(e.getMessage().startsWith(run.metrics() + ":1: not valid JSON: "), e.getMessage());
    }

    @Test
    void creationIsAtomicAndAKilledCreationLeavesNoRunAndNoObstacle(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        // what a kill during publish leaves: the temp sibling, partly filled; and an empty directory made by hand
        Path tmp = Files.createDirectories(dir.resolve(".tmp-run-0123abcd"));
        Files.writeString(tmp.resolve("config.json"), "{\"lr\"");
        Files.createDirectories(run.dir());
        assertFalse(run.holdsRun());
        run.create(RunDir.JSON.createObjectNode().put("lr", 0.5));
        assertTrue(run.holdsRun());
        assertTrue(Files.isDirectory(run.checkpoints()));
        assertFalse(Files.exists(tmp), "the killed creation's temp sibling is cleaned");
        try (var s = Files.list(dir)) {
            assertEquals(List.of(run.dir()), s.toList(), "nothing but the run beside it");
        }
        // a directory with files but no run is not taken over
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve("notes.txt"), "mine");
        var e = assertThrows(IllegalArgumentException.class, () -> new RunDir(other).create(RunDir.JSON.createObjectNode()));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("mine", Files.readString(other.resolve("notes.txt")));
    }

    @Test
    void aResumedRunsTimeGoesOnFromItsLastKeptRow(@TempDir Path dir) throws IOException {
        RunDir run = fresh(dir);
        Files.writeString(run.metrics(), "{\"step\":1,\"split\":\"train\",\"time\":100.5}\n{\"step\":2,\"split\":\"train\",\"time\":200.25}\n");
        RunDir resumed = new RunDir(run.dir());
        assertTrue(resumed.seconds() < 100, "a fresh object counts from its own start");
        resumed.truncateMetrics(1);
        double t = resumed.seconds();
        assertTrue(t >= 100.5 && t < 150, "goes on from the kept row's 100.5 s: " + t);
        resumed.appendMetrics(RunDir.TRAIN, RunDir.JSON.createObjectNode().put("step", 2));
        assertTrue(RunDir.JSON.readTree(Files.readAllLines(run.metrics()).get(1)).get("time").asDouble() >= 100.5);
    }

    @Test
    void checkpointsRoundTripAndAnInterruptedWriteIsIgnored(@TempDir Path dir) throws IOException {
        RunDir run = fresh(dir);
        Map<String, Tensor> params = Map.of("w", Tensor.of(new float[]{1, 2, 3}, 3));
        Map<String, Tensor> opt = Map.of("exp_avg.w", Tensor.of(new float[]{4, 5, 6}, 3));
        Path c2 = run.saveCheckpoint(new RunDir.State(2, 2, 4, 9, 1), params, opt, null);
        assertEquals(run.checkpoint(2), c2);
        // a run killed while writing step 4: only its temp directory exists, half written
        Path torn = run.checkpoints().resolve(".tmp-step-000004-dead");
        Files.createDirectories(torn);
        Files.write(torn.resolve(RunDir.PARAMS), new byte[]{1, 2, 3});
        assertEquals(List.of(2L), run.checkpointSteps());
        assertEquals(new RunDir.State(2, 2, 4, 9, 1), run.readState(c2));
        try (Checkpoint ck = Checkpoint.open(c2.resolve(RunDir.PARAMS))) {
            assertArrayEquals(new float[]{1, 2, 3}, ck.tensor("w").toFloatArray());
        }
        try (Checkpoint ck = Checkpoint.open(c2.resolve(RunDir.OPTIMIZER))) {
            assertArrayEquals(new float[]{4, 5, 6}, ck.tensor("exp_avg.w").toFloatArray());
        }
        run.cleanTemp();
        assertFalse(Files.exists(torn));
        // keep = 2 drops the oldest, unless it is pinned
        run.saveCheckpoint(new RunDir.State(4, 4, 8, 9, 2), params, opt, null);
        run.prune(2, Set.of());
        run.saveCheckpoint(new RunDir.State(6, 6, 12, 9, 3), params, opt, null);
        run.prune(2, Set.of());
        assertEquals(List.of(4L, 6L), run.checkpointSteps());
        run.saveCheckpoint(new RunDir.State(8, 8, 16, 9, 4), params, opt, null);
        run.prune(2, Set.of(4L));
        assertEquals(List.of(4L, 6L, 8L), run.checkpointSteps());
        run.prune(0, Set.of());
        assertEquals(List.of(4L, 6L, 8L), run.checkpointSteps(), "keep = 0 keeps all");
    }

    @Test
    void publishReplacesAtomicallyAndCleansUpOnFailure(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("out");
        RunDir.publish(target, tmp -> Files.writeString(tmp.resolve("a.txt"), "one"));
        RunDir.publish(target, tmp -> Files.writeString(tmp.resolve("b.txt"), "two"));
        assertFalse(Files.exists(target.resolve("a.txt")), "the old directory is replaced, not merged");
        assertEquals("two", Files.readString(target.resolve("b.txt")));
        assertThrows(IOException.class, () -> RunDir.publish(target, tmp -> {
            Files.writeString(tmp.resolve("c.txt"), "half");
            throw new IOException("disk full");
        }));
        assertEquals("two", Files.readString(target.resolve("b.txt")), "a failed write leaves the previous one");
        try (var s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList(), "no temp directory left behind");
        }
    }
}
