package dev.laconic.tensor.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.laconic.tensor.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes one safetensors file that Hugging Face's {@code safetensors} library reads:
 * {@code [u64 LE N][JSON header, space-padded so that N % 8 == 0][data]}, tensors in name order with
 * contiguous data in that same order, {@code __metadata__} first when given.
 *
 * <p>The write is atomic: bytes go to a temp file in the target's directory, which is fsynced and then
 * renamed over the target, so a crash leaves either the old file or the new one, never a torn one
 * (and a file being rewritten in place may itself be the mapped source of the tensors).
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (any of F32, BF16, F16, I32, any shape) and {@code metadata} (may be null
     * or empty: then no {@code __metadata__} key) to {@code file}, replacing it atomically.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        TreeMap<String, Tensor> sorted = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getKey().equals("__metadata__"))
                throw new IllegalArgumentException("invalid tensor name: " + e.getKey());
            if (e.getValue() == null) throw new IllegalArgumentException("null tensor for '" + e.getKey() + "'");
            sorted.put(e.getKey(), e.getValue());
        }
        byte[] header = header(sorted, metadata);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                byte[] chunk = new byte[CHUNK];
                MemorySegment chunkSeg = MemorySegment.ofArray(chunk);
                for (Tensor t : sorted.values()) {
                    // The segment's bytes are little-endian elements (Tensor's storage contract).
                    MemorySegment src = t.segment();
                    for (long off = 0; off < src.byteSize(); off += CHUNK) {
                        int n = (int) Math.min(CHUNK, src.byteSize() - off);
                        MemorySegment.copy(src, off, chunkSeg, 0, n);
                        writeFully(ch, ByteBuffer.wrap(chunk, 0, n));
                    }
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " over " + target + " atomically", e);
            }
            syncDirectory(dir);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("writing " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /** The JSON header, space-padded (as Hugging Face pads) to a multiple of 8 bytes. */
    static byte[] header(TreeMap<String, Tensor> sorted, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (metadata != null && !metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                    if (e.getValue() == null) throw new IllegalArgumentException("null metadata value for '" + e.getKey() + "'");
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                Tensor t = e.getValue();
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", t.dtype().safetensorsName);
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + t.byteSize());
                g.writeEndArray();
                g.writeEndObject();
                offset += t.byteSize();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] json = out.toByteArray();
        byte[] padded = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Makes the rename durable. Some platforms cannot open a directory for fsync: best effort there. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows; the file itself is already fsynced
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the original error is the one to report
        }
    }
}
