package dev.laconic.tensor.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.JsonFaults;
import dev.laconic.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One safetensors file, memory-mapped whole, its header parsed and validated.
 *
 * <p>Layout: {@code [u64 LE header length N][N bytes of UTF-8 JSON][data area]}. The JSON maps each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end)}} with offsets relative to the
 * data area, plus an optional {@code "__metadata__"} string-to-string map. A file is accepted only if
 * every tensor's {@code numel(shape) · dtype bytes == end - begin} and the ranges, sorted, tile the data
 * area exactly: no overlap, no gap, nothing past the end, nothing left over (the rule Hugging Face's
 * reader applies too). Tensors are zero-copy views of the mapping, valid while its arena is open.
 *
 * <p>The header is read and validated with plain reads before anything is mapped, so a bad file maps
 * nothing; its length is bounded before any buffer is sized by it, so a hostile length cannot cause an
 * OutOfMemoryError. The JSON is parsed as a stream: memory stays a small multiple of the header size.
 *
 * <p>A mapping is only as good as the file under it: a file truncated or rewritten in place while mapped ({@code cp
 * new old} over a model in use) makes reads of the lost pages fault. The file's identity (size, modification time,
 * file key) is recorded at open; {@link #checkUnchanged} compares it (one {@code stat}) and names the file when it was
 * changed in place. A file replaced by a rename ({@code mv new old}) or deleted leaves the mapped old file whole and
 * is not an error.
 */
public final class SafetensorsFile {
    /** The header size limit Hugging Face's reader uses too; real headers are well under 10 MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /**
     * JSON nesting (the header object counts 1): Hugging Face's reader (serde_json's recursion limit) loads 127
     * levels and refuses 128. A valid header needs 3; deeper values can only sit under keys the format ignores.
     */
    public static final int MAX_NESTING = 127;
    /** Digits (and signs, points, exponents) of one JSON number: Jackson's default; HF refuses integers past 2^64. */
    public static final int MAX_NUMBER_CHARS = 1000;
    /**
     * Names and strings may be as long as the header that holds them (Jackson's defaults, 50,000 and 20 M chars,
     * refused files Hugging Face loads). Every stream limit trips with one {@link SafetensorsException} line.
     */
    static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING)
            .maxNumberLength(MAX_NUMBER_CHARS)
            .maxNameLength((int) MAX_HEADER_BYTES)
            .maxStringLength((int) MAX_HEADER_BYTES)
            .maxDocumentLength(MAX_HEADER_BYTES)
            .build();
    /** Any rank above this is a corrupt header, not a tensor. */
    static final int MAX_RANK = 64;

    /** Dtypes a valid safetensors file may hold that Laconic does not read (refused by name, not as "unknown"). */
    private static final Set<String> OTHER_SAFETENSORS_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "U32",
            "I64", "U64", "F64", "C64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2");

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(LIMITS)
            .build();

    /**
     * One header entry: a tensor's dtype, shape, and its bytes {@code [begin, end)} within the data area.
     * The shape array is owned by the entry; {@link #shape()} returns a copy.
     */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) {
        @Override
        public int[] shape() { return shape.clone(); }

        public long numel() { return (end - begin) / dtype.bytes; }

        public long byteSize() { return end - begin; }

        @Override
        public String toString() { return name + " " + dtype + Arrays.toString(shape); }
    }

    private record Header(Map<String, String> metadata, List<Entry> entries) {}

    /** What identifies the file's contents between two looks: size, modification time and file key (inode). */
    private record Identity(long size, FileTime modified, Object key) {
        static Identity of(Path path) throws IOException {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return new Identity(a.size(), a.lastModifiedTime(), a.fileKey());
        }

        /** Same file (or a platform without file keys), whose size or time moved. */
        boolean changedInPlace(Identity now) {
            return Objects.equals(key, now.key) && (size != now.size || !modified.equals(now.modified));
        }

        @Override
        public String toString() { return size + " bytes, modified " + modified; }
    }

    private final Path path;
    private final Identity identity;
    private final long fileSize;
    private final MemorySegment data; // the data area: file bytes [8 + N, fileSize)
    private final Map<String, String> metadata;
    private final TreeMap<String, Entry> entries;

    private SafetensorsFile(Path path, Identity identity, long fileSize, MemorySegment data, Header header) {
        this.path = path;
        this.identity = identity;
        this.fileSize = fileSize;
        this.data = data;
        this.metadata = Collections.unmodifiableMap(header.metadata());
        this.entries = new TreeMap<>();
        for (Entry e : header.entries()) entries.put(e.name(), e);
    }

    /**
     * Validates {@code path} and maps it read-only into {@code arena}; on any fault throws
     * {@link SafetensorsException} having mapped nothing.
     */
    public static SafetensorsFile map(Path path, Arena arena) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Identity before = Identity.of(path);
            long size = ch.size();
            if (size < 8)
                throw new SafetensorsException(path, null, "file is " + size
                        + " bytes, shorter than the 8-byte header length that starts every safetensors file");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long n = lenBuf.getLong(0); // u64 in the format; above 2^63 reads negative here
            if (n < 0 || n > MAX_HEADER_BYTES)
                throw new SafetensorsException(path, null, "header length " + Long.toUnsignedString(n)
                        + " is over the " + MAX_HEADER_BYTES + "-byte limit (corrupt or not a safetensors file)");
            if (n > size - 8)
                throw new SafetensorsException(path, null, "header length " + n + " reaches past the end of the file ("
                        + size + " bytes): truncated or not a safetensors file");
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(ch, json, 8, path);
            Header header = parseHeader(path, json.array(), size - 8 - n);
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            SafetensorsFile f = new SafetensorsFile(path, before, size, all.asSlice(8 + n), header);
            if (ch.size() != size) throw f.changed(size + " bytes", ch.size() + " bytes", "while it was being opened");
            f.checkUnchanged();   // a file that moved while it was read is refused, never half used
            return f;
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path, null, "file not found", e);
        } catch (AccessDeniedException e) {
            throw new SafetensorsException(path, null, "permission denied", e);
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot read: " + e, e);
        }
    }

    /**
     * Throws {@link SafetensorsException} naming this file when it was truncated, grown or rewritten in place since it
     * was opened: its mapped bytes are no longer the ones validated (reads of pages past a new end fault).
     */
    public void checkUnchanged() {
        Identity now;
        try {
            now = Identity.of(path);
        } catch (IOException e) {
            return;   // deleted or renamed away: the mapped old file stays whole until it is unmapped
        }
        if (identity.changedInPlace(now)) throw changed(identity.toString(), now.toString(), "while in use");
    }

    private SafetensorsException changed(String was, String now, String when) {
        return new SafetensorsException(path, null, "file changed on disk " + when + " (was " + was + ", now " + now
                + "): its memory-mapped tensors are no longer the ones read; replace a file in use by writing a new one"
                + " and renaming it over (mv), not by copying over it (cp)");
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new SafetensorsException(path, null, "file ended while reading the header (changed on disk?)");
            pos += r;
        }
    }

    // ---- header parsing -------------------------------------------------------------------------

    private static Header parseHeader(Path path, byte[] json, long dataSize) {
        // Hugging Face's reader requires the JSON to start at the first byte; it also rules out
        // Jackson's UTF-16/32 auto-detection accepting a header that is not UTF-8.
        if (json.length == 0 || json[0] != '{')
            throw new SafetensorsException(path, null, "header is not a JSON object (must start with '{')");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String current = null;
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken(); // START_OBJECT: the first byte is '{'
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                current = name;
                if (!seen.add(name)) throw new SafetensorsException(path, name, "duplicate name in header");
                p.nextToken();
                if (name.equals("__metadata__")) parseMetadata(path, p, metadata);
                else entries.add(parseEntry(path, name, p, dataSize));
                current = null;
            }
            // The loop ends on END_OBJECT (anything else is a parse error thrown above).
            JsonToken after = p.nextToken();
            if (after != null)
                throw new SafetensorsException(path, null, "trailing content after the header's JSON object: " + after);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(path, current, jsonFault("header", e), e);
        } catch (IOException e) {
            throw new SafetensorsException(path, current, "invalid JSON in header: " + e.getMessage(), e);
        }
        checkTiling(path, entries, dataSize);
        return new Header(metadata, entries);
    }

    /**
     * The reason for a JSON fault in {@code what} ("header", "index"): a stream limit as the limit Laconic chose,
     * anything else as Jackson's one-line message; with the byte offset when Jackson knows it (limits carry none).
     */
    static String jsonFault(String what, JsonProcessingException e) {
        String msg = JsonFaults.reason(e);
        String reason;
        if (e instanceof StreamConstraintsException) {
            reason = msg.startsWith("Document nesting depth") ? what + " has JSON nested deeper than " + MAX_NESTING
                    + " levels (Hugging Face's reader refuses 128)"
                    : msg.startsWith("Number value length") ? what + " has a number longer than " + MAX_NUMBER_CHARS + " characters"
                    : what + " is over a size limit: " + msg.replaceAll(",? from `[^`]*`", "");
        } else {
            reason = (msg.startsWith("Duplicate") ? "duplicate name in " : "invalid JSON in ") + what + ": " + msg;
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getByteOffset() < 0 ? reason : reason + " (at byte " + at.getByteOffset() + ")";
    }

    private static void parseMetadata(Path path, JsonParser p, Map<String, String> out) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT)
            throw new SafetensorsException(path, null, "__metadata__ must be an object of string values, found " + describe(p));
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING)
                throw new SafetensorsException(path, null, "__metadata__ value for key '" + key
                        + "' must be a string, found " + describe(p));
            out.put(key, p.getText());
        }
    }

    private static Entry parseEntry(Path path, String name, JsonParser p, long dataSize) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT)
            throw new SafetensorsException(path, name, "header entry is not a JSON object with dtype, shape and data_offsets, found "
                    + describe(p));
        String dtypeName = null;
        long[] shape = null, offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "dtype" -> {
                    if (v != JsonToken.VALUE_STRING)
                        throw new SafetensorsException(path, name, "dtype must be a string, found " + describe(p));
                    dtypeName = p.getText();
                }
                case "shape" -> shape = integers(path, name, "shape", p, MAX_RANK);
                case "data_offsets" -> offsets = integers(path, name, "data_offsets", p, 2);
                default -> p.skipChildren(); // unknown keys are ignored, as Hugging Face's reader does
            }
        }
        if (dtypeName == null) throw new SafetensorsException(path, name, "missing dtype");
        if (shape == null) throw new SafetensorsException(path, name, "missing shape");
        if (offsets == null) throw new SafetensorsException(path, name, "missing data_offsets");

        DType dtype = DType.fromSafetensors(dtypeName);
        if (dtype == null) {
            throw new SafetensorsException(path, name, OTHER_SAFETENSORS_DTYPES.contains(dtypeName)
                    ? "unsupported dtype " + dtypeName + " (Laconic reads F32, BF16, F16 and I32)"
                    : "unknown dtype '" + dtypeName + "'");
        }
        if (offsets.length != 2)
            throw new SafetensorsException(path, name, "data_offsets must be two integers [begin, end], found "
                    + offsets.length);
        long begin = offsets[0], end = offsets[1];
        String range = "data_offsets [" + begin + ", " + end + ")";
        if (begin > end) throw new SafetensorsException(path, name, range + " run backwards (begin > end)");
        if (end > dataSize)
            throw new SafetensorsException(path, name, range + " reach past the end of the data area ("
                    + dataSize + " bytes): file truncated or offsets out of range");

        int[] dims = new int[shape.length];
        long bytes = dtype.bytes;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE)
                throw new SafetensorsException(path, name, "shape " + Arrays.toString(shape) + " has a dimension too large (> 2^31-1)");
            dims[i] = (int) shape[i];
            // every partial product must fit, even when a later 0 would bring it back (Hugging Face: "overflow
            // computing buffer size"): numel is computed left to right everywhere else too
            if (Math.multiplyHigh(bytes, shape[i]) != 0 || bytes * shape[i] < 0)
                throw new SafetensorsException(path, name, "shape " + Arrays.toString(shape) + " of " + dtype
                        + " overflows: its size in bytes is past 2^63 after " + (i + 1) + " dimensions");
            bytes *= shape[i];
        }
        if (bytes != end - begin)
            throw new SafetensorsException(path, name, "shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + bytes + " bytes but " + range + " hold " + (end - begin));
        return new Entry(name, dtype, dims, begin, end);
    }

    /** An array of at most {@code max} non-negative integers that fit a long. */
    private static long[] integers(Path path, String name, String field, JsonParser p, int max) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY)
            throw new SafetensorsException(path, name, field + " must be an array of integers, found " + describe(p));
        long[] out = new long[4];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT)
                throw new SafetensorsException(path, name, field + " must hold integers only, found " + describe(p));
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER)
                throw new SafetensorsException(path, name, field + " value " + p.getText() + " is too large");
            long v = p.getLongValue();
            if (v < 0) throw new SafetensorsException(path, name, field + " has a negative value " + v);
            if (n == max) throw new SafetensorsException(path, name, field + " has more than " + max + " entries");
            if (n == out.length) out = Arrays.copyOf(out, out.length * 2);
            out[n++] = v;
        }
        return Arrays.copyOf(out, n);
    }

    private static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) return "nothing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "string \"" + abbreviate(p.getText()) + "\"";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number " + abbreviate(p.getText());
            case VALUE_TRUE, VALUE_FALSE -> "boolean " + p.getText();
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** Sorted by offset, the ranges must tile [0, dataSize) exactly. */
    private static void checkTiling(Path path, List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() < pos)
                throw new SafetensorsException(path, e.name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + ") overlap tensor '" + prev.name() + "' at [" + prev.begin() + ", " + prev.end() + ")");
            if (e.begin() > pos)
                throw new SafetensorsException(path, e.name(), "gap of " + (e.begin() - pos)
                        + " bytes in the data area before this tensor (bytes [" + pos + ", " + e.begin() + ") belong to no tensor)");
            pos = e.end();
            prev = e;
        }
        if (pos != dataSize)
            throw new SafetensorsException(path, null, "the last " + (dataSize - pos) + " bytes of the data area ("
                    + dataSize + " bytes) are not covered by any tensor");
    }

    // ---- access ---------------------------------------------------------------------------------

    public Path path() { return path; }

    public long fileSize() { return fileSize; }

    /** The {@code __metadata__} map (empty when absent), in header order. */
    public Map<String, String> metadata() { return metadata; }

    /** All entries, sorted by name. */
    public List<Entry> entries() { return List.copyOf(entries.values()); }

    /** The entry for {@code name}, or null. */
    public Entry entry(String name) { return entries.get(name); }

    /** A zero-copy, read-only view of the mapped bytes; valid while the arena that mapped it is open. */
    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new SafetensorsException(path, name, "no such tensor in this file");
        return Tensor.wrap(data.asSlice(e.begin(), e.byteSize()), e.dtype(), e.shape);
    }

    @Override
    public String toString() {
        return "SafetensorsFile(" + path + ", " + entries.size() + " tensors)";
    }
}
