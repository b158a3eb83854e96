package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** What the training commands (train-sft, compress tldr, compress rl) share about resuming a run. */
final class RunOptions {
    private RunOptions() {}

    /**
     * A resumed run must be the same run: every option outside {@code resumable} (config.json keys) as stored;
     * numbers compare by value (1 and 1.0 are the same setting).
     */
    static void checkSameRun(ObjectNode stored, ObjectNode now, Set<String> resumable) {
        List<String> diffs = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        stored.fieldNames().forEachRemaining(keys::add);
        now.fieldNames().forEachRemaining(keys::add);
        for (String k : keys) {
            JsonNode a = stored.get(k), b = now.get(k);
            if (resumable.contains(k) || (a != null && a.equals(b))) continue;
            if (a != null && b != null && a.isNumber() && b.isNumber() && a.asDouble() == b.asDouble()) continue;
            diffs.add("--" + k.replace('_', '-') + " " + (a == null ? "(not set)" : a) + " in the run, " + (b == null ? "(not set)" : b) + " now");
        }
        if (!diffs.isEmpty()) {
            List<String> may = new ArrayList<>();
            for (String k : new TreeSet<>(resumable)) may.add("--" + k.replace('_', '-'));
            throw new IllegalArgumentException("--resume continues a run with its own options, but " + String.join("; ", diffs)
                    + " (only " + String.join(", ", may) + " may change)");
        }
    }
}
