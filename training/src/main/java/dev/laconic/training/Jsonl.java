package dev.laconic.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.tensor.JsonFaults;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * JSON Lines in and out. Every input line is parsed and checked before any output is written, and
 * a fault names the file, the line and the field: {@code data.jsonl:12: field "ids": expected an array}.
 */
public final class Jsonl {
    /** Reads one JSON value per line and refuses anything after it ({@code {"a": 1} xyz} is not a line of JSONL). */
    public static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private Jsonl() {}

    /** A fault in an input file; the message is ready for the user. */
    public static final class BadInput extends IllegalArgumentException {
        public BadInput(String message) { super(message); }
    }

    /** A parsed line and where it came from. */
    public record Line(Path file, int number, ObjectNode json) {
        public BadInput error(String field, String problem) {
            return new BadInput(file + ":" + number + ": field \"" + field + "\": " + problem);
        }

        /** A fault of the whole line (no one field). */
        public BadInput fault(String problem) {
            return new BadInput(file + ":" + number + ": " + problem);
        }

        public String text(String field) {
            JsonNode n = json.get(field);
            if (n == null) throw error(field, "missing");
            if (!n.isTextual()) throw error(field, "expected a string");
            return n.asText();
        }

        /** Integer array field; every element must be in [0, bound). */
        public int[] ids(String field, int bound) {
            JsonNode n = json.get(field);
            if (n == null) throw error(field, "missing");
            if (!n.isArray()) throw error(field, "expected an array of token ids");
            int[] out = new int[n.size()];
            for (int i = 0; i < out.length; i++) {
                JsonNode e = n.get(i);
                if (!e.canConvertToInt() || !e.isIntegralNumber()) throw error(field, "element " + i + " is not an integer");
                out[i] = e.asInt();
                if (out[i] < 0 || out[i] >= bound) throw error(field, "id " + out[i] + " at index " + i + " is outside the vocabulary [0, " + bound + ")");
            }
            return out;
        }

        public boolean has(String field) { return json.has(field); }
    }

    /** What {@code -} as an input file reads, and how faults name it. */
    public static final Path STDIN = Path.of("<stdin>");

    /** {@code -}: standard input. */
    public static boolean isStdin(Path file) {
        return file.toString().equals("-");
    }

    /** UTF-8 lines of {@code file}, or of standard input for {@code -} (left open when closed: it is not ours). */
    public static BufferedReader reader(Path file) throws IOException {
        if (!isStdin(file)) return Files.newBufferedReader(file, StandardCharsets.UTF_8);
        var decoder = StandardCharsets.UTF_8.newDecoder();   // reports malformed input, as Files.newBufferedReader does
        return new BufferedReader(new java.io.InputStreamReader(new java.io.FilterInputStream(System.in) {
            @Override
            public void close() {}
        }, decoder));
    }

    /** Reads every non-blank line ({@code -}: standard input); a line that is not a JSON object fails with its number. */
    public static List<Line> read(Path path) {
        List<Line> out = new ArrayList<>();
        forEach(path, out::add);
        return out;
    }

    /**
     * Hands each non-blank line to {@code each} as it is read (large files never sit in memory); a line
     * that is not a JSON object, a missing or non-UTF-8 file fail with the file (and line) named.
     */
    public static void forEach(Path path, Consumer<Line> each) {
        Path file = isStdin(path) ? STDIN : path;
        try (BufferedReader r = reader(path)) {
            String s;
            int n = 0;
            while ((s = r.readLine()) != null) {
                n++;
                if (s.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new BadInput(file + ":" + n + ": " + invalid(e));
                }
                if (!(node instanceof ObjectNode o)) throw new BadInput(file + ":" + n + ": expected a JSON object");
                each.accept(new Line(file, n, o));
            }
        } catch (NoSuchFileException e) {
            throw new BadInput(file + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new BadInput(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new BadInput(file + ": cannot read: " + e.getMessage());
        }
    }

    /** A malformed line's reason: {@code not valid JSON: ... (column C)}. */
    public static String invalid(JsonProcessingException e) {
        return JsonFaults.invalid(e, true);
    }

    /** One compact JSON line. */
    public static String line(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
