package dev.laconic.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The library names values and fields ("alpha must be in [0, 1), got 1.0", "cut at maxTokens 8"); the
 * command line says which flag set them ("--alpha must be ...", "cut at --max-tokens 8"). A command runs
 * its body through {@link #named} with its field → flag table, and a user fault (IllegalArgumentException,
 * IllegalStateException) that names a field comes out naming the flag: a field at the start of the message
 * (longest first, so "saveEvery and keep" beats "saveEvery"), and a camelCase field (unambiguous) anywhere.
 */
final class Flags {
    private Flags() {}

    /** DataFormat and Protocol, as eval, compress tldr, tldr-data and rl name them. */
    static final Map<String, String> DATA = Map.of("format", "--format", "protocol", "--protocol");

    /** Schedule, AdamW.Hyper, SftTrainer.Options and SftData, as train-sft and compress tldr set them. */
    static final Map<String, String> SFT = with(DATA, Map.ofEntries(
            Map.entry("schedule", "--schedule"), Map.entry("lr", "--lr"), Map.entry("warmupSteps", "--warmup-steps"),
            Map.entry("totalSteps", "--steps"), Map.entry("betas", "--betas"), Map.entry("eps", "--eps"),
            Map.entry("weightDecay", "--weight-decay"), Map.entry("batch", "--batch"), Map.entry("gradAccum", "--grad-accum"),
            Map.entry("microBatchTokens", "--micro-batch-tokens"), Map.entry("saveEvery and keep", "--save-every and --keep-checkpoints"),
            Map.entry("stopAfter", "--stop-after"), Map.entry("clip", "--clip"), Map.entry("maxLen", "--max-len")));

    /** Both tables in one; b's flag wins where both name a field. */
    static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new java.util.HashMap<>(a);
        m.putAll(b);
        return Map.copyOf(m);
    }

    static <T> T named(Map<String, String> flags, Callable<T> body) throws Exception {
        try {
            return body.call();
        } catch (dev.laconic.training.Jsonl.BadInput e) {
            throw e;                          // an input file's fault names its file, line and JSON field: no flags in it
        } catch (IllegalArgumentException | IllegalStateException e) {
            String m = e.getMessage() == null ? null : reword(e.getMessage(), flags);
            if (m == null || m.equals(e.getMessage())) throw e;
            throw e instanceof IllegalArgumentException ? new IllegalArgumentException(m, e) : new IllegalStateException(m, e);
        }
    }

    static String reword(String message, Map<String, String> flags) {
        List<String> fields = new ArrayList<>(flags.keySet());
        fields.sort(Comparator.comparingInt(String::length).reversed());
        String m = message;
        for (String f : fields) {
            if (m.equals(f) || m.startsWith(f + " ") || m.startsWith(f + ":")) {
                m = flags.get(f) + m.substring(f.length());
                break;
            }
        }
        for (String f : fields) {
            if (f.chars().noneMatch(Character::isUpperCase) || f.contains(" ")) continue;
            m = Pattern.compile("(?<![\\w-])" + Pattern.quote(f) + "(?!\\w)").matcher(m).replaceAll(Matcher.quoteReplacement(flags.get(f)));
        }
        return m;
    }
}
