package dev.laconic.cli;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.tensor.safetensors.SafetensorsException;
import dev.laconic.tensor.safetensors.SafetensorsFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code laconic inspect FILE|DIR}: what a safetensors file or checkpoint directory holds, like the
 * {@code safetensors} / {@code gguf-dump} listings. The checkpoint is fully validated first (the same
 * {@link Checkpoint#open} the model loader uses), so exit 0 means it will load; a malformed one prints
 * {@code error: <file>: [tensor '<name>': ]<reason>} on stderr and exits 1.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List a safetensors file's or checkpoint directory's tensors (name, dtype, shape, shard) and metadata.")
public final class InspectCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE|DIR",
            description = "A .safetensors file, a model.safetensors.index.json, or a directory holding either.")
    Path path;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (Checkpoint ck = Checkpoint.open(path)) {
            print(ck, out);
            out.flush();
            return 0;
        } catch (SafetensorsException | UncheckedIOException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    private static void print(Checkpoint ck, PrintWriter out) {
        boolean sharded = ck.path().getFileName().toString().endsWith(".json");
        out.printf("%s: %s tensors in %d file%s%n", ck.path(), ck.size(), ck.files().size(), ck.files().size() == 1 ? "" : "s");
        printMetadata(ck, sharded, out);

        List<String> names = new ArrayList<>(ck.names());
        names.sort(NATURAL);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"NAME", "DTYPE", "SHAPE", "SHARD"});
        long params = 0, bytes = 0;
        Map<DType, Integer> dtypes = new EnumMap<>(DType.class);
        for (String n : names) {
            SafetensorsFile.Entry e = ck.entry(n);
            rows.add(new String[]{n, e.dtype().safetensorsName, Arrays.toString(e.shape()),
                    ck.fileOf(n).path().getFileName().toString()});
            params += e.numel();
            bytes += e.byteSize();
            dtypes.merge(e.dtype(), 1, Integer::sum);
        }
        int[] width = new int[3];
        for (String[] r : rows) for (int i = 0; i < 3; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows)
            out.printf("%-" + width[0] + "s  %-" + width[1] + "s  %-" + width[2] + "s  %s%n", r[0], r[1], r[2], r[3]);

        StringBuilder byDtype = new StringBuilder();
        dtypes.forEach((d, c) -> byDtype.append(byDtype.isEmpty() ? "" : ", ").append(d.safetensorsName).append(' ').append(c));
        out.printf("%d tensors, %d parameters%s, %d bytes%s in %d file%s%s%n", ck.size(), params, humanCount(params),
                bytes, humanBytes(bytes), ck.files().size(),
                ck.files().size() == 1 ? "" : "s", byDtype.isEmpty() ? "" : " (by dtype: " + byDtype + ")");
    }

    /**
     * A single file's {@code __metadata__}; for a sharded checkpoint the index's {@code metadata}, then the
     * shards' {@code __metadata__}, once when all shards agree (the usual {@code format: pt}).
     */
    private static void printMetadata(Checkpoint ck, boolean sharded, PrintWriter out) {
        if (!sharded) {
            printMap("metadata", ck.metadata(), out);
            return;
        }
        printMap("metadata (" + ck.path().getFileName() + ")", ck.metadata(), out);
        Map<String, String> first = ck.files().isEmpty() ? Map.of() : ck.files().getFirst().metadata();
        boolean same = ck.files().stream().allMatch(f -> f.metadata().equals(first));
        if (same) {
            if (!first.isEmpty()) printMap("metadata (every shard)", first, out);
        } else {
            for (SafetensorsFile f : ck.files()) printMap("metadata (" + f.path().getFileName() + ")", f.metadata(), out);
        }
    }

    private static void printMap(String title, Map<String, String> map, PrintWriter out) {
        if (map.isEmpty()) {
            out.println(title + ": (none)");
            return;
        }
        out.println(title + ":");
        for (Map.Entry<String, String> e : new LinkedHashMap<>(map).entrySet())
            out.println("  " + e.getKey() + ": " + oneLine(e.getValue()));
    }

    /** Metadata may hold anything (whole configs, newlines): keep one entry per line, and short. */
    private static String oneLine(String s) {
        String t = s.replace("\r", "\\r").replace("\n", "\\n");
        return t.length() <= 200 ? t : t.substring(0, 200) + "... (" + s.length() + " chars)";
    }

    /** " (1.78 B)" for 1,777,088,000 parameters; empty below a million. */
    private static String humanCount(long n) {
        if (n < 1_000_000) return "";
        return n < 1_000_000_000 ? String.format(Locale.ROOT, " (%.2f M)", n / 1e6) : String.format(Locale.ROOT, " (%.2f B)", n / 1e9);
    }

    /** " (3.31 GiB)"; empty below 1 MiB. */
    private static String humanBytes(long n) {
        if (n < 1L << 20) return "";
        return n < 1L << 30 ? String.format(Locale.ROOT, " (%.2f MiB)", n / (double) (1L << 20))
                : String.format(Locale.ROOT, " (%.2f GiB)", n / (double) (1L << 30));
    }

    /** Orders "layers.2" before "layers.10": digit runs compare as numbers. */
    static final Comparator<String> NATURAL = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) i++;
                while (j < b.length() && Character.isDigit(b.charAt(j))) j++;
                String da = a.substring(si, i).replaceFirst("^0+(?=.)", ""), db = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                int c = da.length() != db.length() ? Integer.compare(da.length(), db.length()) : da.compareTo(db);
                if (c != 0) return c;
            } else {
                if (ca != cb) return Character.compare(ca, cb);
                i++;
                j++;
            }
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);
    };
}
