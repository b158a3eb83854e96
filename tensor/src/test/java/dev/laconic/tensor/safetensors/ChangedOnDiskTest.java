package dev.laconic.tensor.safetensors;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 21 item 3: a memory-mapped file truncated or rewritten while in use ({@code cp new old} over a model) is one
 * {@link SafetensorsException} naming the file, at the next look ({@link Checkpoint#tensor}, {@link
 * Checkpoint#checkUnchanged}) and from the JVM's InternalError of a read that faulted ({@link Checkpoint#explain}).
 */
class ChangedOnDiskTest {
    static final Path REFERENCE = Path.of("src/test/resources/safetensors/hf_reference.safetensors");

    static Path copy(Path dir) throws IOException {
        return Files.copy(REFERENCE, dir.resolve("model.safetensors"));
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    @Test
    void aFileTruncatedWhileMappedIsNamedAtTheNextLookAndAFaultingReadIsExplained(@TempDir Path dir) throws IOException {
        Path file = copy(dir);
        try (Checkpoint ck = Checkpoint.open(file)) {
            String name = ck.names().first();
            Tensor before = ck.tensor(name);
            ck.checkUnchanged();                                   // untouched: no fault
            truncate(file, 0);
            SafetensorsException e = assertThrows(SafetensorsException.class, ck::checkUnchanged);
            assertEquals(file, e.file());
            assertTrue(e.getMessage().startsWith(file + ": file changed on disk while in use (was 732 bytes"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            assertThrows(SafetensorsException.class, () -> ck.tensor(name));
            // a tensor handed out before: its pages are gone, so a bulk copy faults as InternalError, traced to the file
            InternalError fault = assertThrows(InternalError.class,
                    () -> MemorySegment.copy(before.segment(), 0, MemorySegment.ofArray(new byte[(int) before.byteSize()]), 0, before.byteSize()));
            Throwable explained = Checkpoint.explain(fault);
            assertInstanceOf(SafetensorsException.class, explained);
            assertEquals(file, ((SafetensorsException) explained).file());
            assertSame(fault, explained.getCause());
        }
        assertTrue(Checkpoint.explain(new InternalError("x")) instanceof InternalError, "a closed checkpoint is not blamed");
    }

    @Test
    void aFileRewrittenInPlaceAtTheSameSizeIsRefusedAndOneReplacedByRenameIsNot(@TempDir Path dir) throws IOException {
        Path file = copy(dir);
        try (Checkpoint ck = Checkpoint.open(file)) {
            String name = ck.names().first();
            float first = ck.tensor(name).to(DType.F32).getFloat(0);
            // mv new old: the mapping keeps the old file, whole
            Path fresh = Files.copy(REFERENCE, dir.resolve("new.safetensors"));
            Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            ck.checkUnchanged();
            assertEquals(first, ck.tensor(name).to(DType.F32).getFloat(0));
        }
        try (Checkpoint ck = Checkpoint.open(file)) {
            // cp new old at the same size: same file, new time
            Files.write(file, Files.readAllBytes(REFERENCE), StandardOpenOption.TRUNCATE_EXISTING);
            Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5000));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.tensor(ck.names().first()));
            assertTrue(e.getMessage().contains("file changed on disk while in use"), e.getMessage());
        }
    }
}
