package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** What the training commands (train-sft, compress tldr, compress rl) share about resuming a run. */
final class RunOptions {
    private RunOptions() {}

    /**
     * Before anything is loaded: without {@code --resume} a directory that holds a run is refused; with it, the run's
     * options must match ({@link #checkSameRun}). A directory with no run yet passes either way.
     */
    static void check(RunDir run, ObjectNode config, boolean resume, Set<String> resumable) throws IOException {
        refuseWithoutResume(run, resume);
        if (run.holdsRun()) checkSameRun(run.readConfig(), config, resumable);
    }

    /** Without {@code --resume}, a directory that holds a run is refused (a command may call this before it loads anything). */
    static void refuseWithoutResume(RunDir run, boolean resume) {
        if (!resume && run.holdsRun()) throw new IllegalArgumentException(run.dir() + ": already holds a run (add --resume to continue it)");
    }

    /**
     * Starts or continues the run: {@code --resume} on a directory with no run yet (a job preempted before or while
     * creating it) creates it and says so, and one with no checkpoint yet says it starts at step 0, so a preempted
     * job restarts with the same command every time. Returns whether the trainer should look for a checkpoint.
     */
    static boolean start(RunDir run, ObjectNode config, boolean resume, PrintStream err) throws IOException {
        if (resume && run.holdsRun()) {
            RunDir.writeAtomically(run.config(), RunDir.JSON.writeValueAsBytes(config));
            if (run.checkpointSteps().isEmpty()) err.println("note: " + run.dir() + " has no checkpoint yet: starting at step 0");
            return true;
        }
        if (resume) err.println("note: " + run.dir() + " holds no run yet: --resume starts it at step 0");
        run.create(config);
        return resume;
    }

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
