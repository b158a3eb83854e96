package dev.laconic.training;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class JsonlTest {
    @Test
    void trailingGarbageAfterAnObjectIsRefusedNamingFileAndLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("data.jsonl");
        for (String bad : new String[] {"{\"text\": \"a\"} xyz", "{\"text\": \"a\"}}", "{\"text\": \"a\"} {\"text\": \"b\"}", "{\"text\": \"a\"},"}) {
            Files.writeString(f, "{\"text\": \"ok\"}\n" + bad + "\n");
            var e = assertThrows(Jsonl.BadInput.class, () -> Jsonl.read(f), bad);
            assertTrue(e.getMessage().startsWith(f + ":2: not valid JSON: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("Source"), e.getMessage());
        }
        Files.writeString(f, "{\"text\": \"a\"}   \n  {\"text\": \"b\"}\r\n");
        assertEquals(2, Jsonl.read(f).size(), "spaces around an object are not garbage");
    }

    @Test
    void aTruncatedLineIsOneLineWithoutJacksonsSourceNoise(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("data.jsonl");
        Files.writeString(f, "{\"text\": \"a");
        var e = assertThrows(Jsonl.BadInput.class, () -> Jsonl.read(f));
        assertTrue(e.getMessage().startsWith(f + ":1: not valid JSON: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("Source"), e.getMessage());
    }
}
