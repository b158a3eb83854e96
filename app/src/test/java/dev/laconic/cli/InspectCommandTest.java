package dev.laconic.cli;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class InspectCommandTest {

    record Run(int exit, String out, String err) {}

    static Run inspect(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new InspectCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void listsTensorsMetadataAndSummary(@TempDir Path dir) {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of(
                "model.layers.10.w", Tensor.zeros(DType.BF16, 3, 4),
                "model.layers.2.w", Tensor.zeros(DType.F32, 5),
                "model.ids", Tensor.zeros(DType.I32, 2, 1, 3),
                "model.half", Tensor.zeros(DType.F16, 7)), Map.of("format", "pt", "author", "test"));
        Run r = inspect(file.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("model\\.layers\\.10\\.w\\s+BF16\\s+\\[3, 4]\\s+model\\.safetensors")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("model\\.ids\\s+I32\\s+\\[2, 1, 3]\\s+model\\.safetensors")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("model\\.half\\s+F16\\s+\\[7]\\s+model\\.safetensors")), r.out());
        assertTrue(lines.contains("  format: pt") && lines.contains("  author: test"), r.out());
        int two = indexOfPrefix(lines, "model.layers.2.w"), ten = indexOfPrefix(lines, "model.layers.10.w");
        assertTrue(two >= 0 && two < ten, "natural order: layers.2 before layers.10\n" + r.out());
        // 12 + 5 + 6 + 7 elements; 12*2 + 5*4 + 6*4 + 7*2 bytes
        String summary = lines.getLast();
        assertTrue(summary.startsWith("4 tensors, 30 parameters, 82 bytes in 1 file"), summary);
    }

    @Test
    void showsShardOfEachTensor(@TempDir Path dir) throws IOException {
        String s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
        SafetensorsWriter.write(dir.resolve(s1), Map.of("a", Tensor.zeros(DType.F32, 2)), Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve(s2), Map.of("b", Tensor.zeros(DType.BF16, 3)), Map.of("format", "pt"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\": {\"total_size\": 14}, \"weight_map\": {\"a\": \"" + s1 + "\", \"b\": \"" + s2 + "\"}}");
        Run r = inspect(dir.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("a\\s+F32\\s+\\[2]\\s+" + s1.replace(".", "\\."))), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("b\\s+BF16\\s+\\[3]\\s+" + s2.replace(".", "\\."))), r.out());
        assertTrue(lines.contains("  total_size: 14"), r.out());
        assertTrue(lines.getLast().startsWith("2 tensors, 5 parameters, 14 bytes in 2 files"), r.out());
    }

    @Test
    void malformedFileGivesOneErrorLineAndExit1(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("broken.safetensors");
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}".getBytes();
        byte[] bytes = new byte[8 + header.length + 8]; // data area 8 bytes, the tensor needs 16
        bytes[0] = (byte) header.length;
        System.arraycopy(header, 0, bytes, 8, header.length);
        Files.write(file, bytes);
        Run r = inspect(file.toString());
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().startsWith("error: " + file + ": tensor 'w': "), r.err());
        assertTrue(lines.getFirst().contains("past the end of the data area"), r.err());
    }

    @Test
    void missingPathIsAnErrorNotAStackTrace(@TempDir Path dir) {
        Run r = inspect(dir.resolve("nothing-here").toString());
        assertEquals(1, r.exit());
        assertEquals(List.of("error: " + dir.resolve("nothing-here") + ": no such file or directory"), r.err().lines().toList());
    }

    @Test
    void missingArgumentIsAUsageError() {
        Run r = inspect();
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("FILE|DIR"), r.err());
    }

    static int indexOfPrefix(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).startsWith(prefix + " ")) return i;
        return -1;
    }
}
