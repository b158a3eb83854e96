package dev.laconic.compression.gym;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gym's tokenizer: a Hugging Face byte-level BPE {@code tokenizer.json} shaped like
 * DeepSeek-R1-Distill-Qwen's, built by code so that it is reproducible.
 *
 * <pre>
 *   normalizer NFC; pre-tokenizer Split(Qwen2 regex, Isolated) then ByteLevel (no prefix space, no regex);
 *   decoder ByteLevel; post-processor TemplateProcessing "BOS $A"
 *   ids 0..255         the 256 byte symbols (GPT-2 byte→char map), sorted by their character
 *   ids 256..256+M-1   M merges, learnt by BPE on a fixed corpus of gym prompts and solutions
 *   then               the R1 added tokens in R1's order: &lt;｜end▁of▁sentence｜&gt; (EOS, special),
 *                      &lt;｜User｜&gt;, &lt;｜Assistant｜&gt;, &lt;｜begin▁of▁sentence｜&gt; (BOS, special), &lt;think&gt;, &lt;/think&gt;
 * </pre>
 * The Qwen2 regex makes every digit its own piece, so no merge ever joins digits: numbers are read
 * and written one digit per token. Merges only shorten the words around them ("Ġcarry", "Ġdigits").
 * BPE here is the classic one (Sennrich et al. 2016): repeatedly merge the most frequent adjacent
 * pair, ties broken by the pair's text, stopping after {@link #MERGES} merges or when no pair occurs
 * {@link #MIN_COUNT} times. tokenizer_config.json carries the real R1 chat template.
 */
public final class GymTokenizer {
    public static final int MERGES = 160;
    public static final int MIN_COUNT = 8;
    /** Problems per level in the merge-learning corpus, and its seed. */
    static final int CORPUS_PER_LEVEL = 60;
    static final long CORPUS_SEED = 20250601L;

    public static final String BOS = "<｜begin▁of▁sentence｜>", EOS = "<｜end▁of▁sentence｜>";
    static final List<String> ADDED = List.of(EOS, ChatTemplate.USER, ChatTemplate.ASSISTANT, BOS, ChatTemplate.THINK, ChatTemplate.END_THINK);
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static volatile ObjectNode cached;

    private GymTokenizer() {}

    /** tokenizer.json as a tree (built once per JVM; a few hundred milliseconds). */
    public static ObjectNode tokenizerJson() {
        ObjectNode c = cached;
        if (c == null) cached = c = build();
        return c.deepCopy();
    }

    /** tokenizer_config.json: BOS/EOS/PAD as R1's, the R1 chat template, add_bos_token. */
    public static ObjectNode tokenizerConfig(int modelMaxLength) {
        ObjectNode c = JSON.createObjectNode();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("bos_token", BOS);
        c.put("eos_token", EOS);
        c.put("pad_token", EOS);
        c.put("clean_up_tokenization_spaces", false);
        c.put("legacy", true);
        c.put("model_max_length", modelMaxLength);
        c.put("tokenizer_class", "LlamaTokenizerFast");
        c.putNull("unk_token");
        c.put("chat_template", chatTemplate());
        return c;
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir}. */
    public static void write(Path dir, int modelMaxLength) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("tokenizer.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tokenizerJson()));
        Files.write(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tokenizerConfig(modelMaxLength)));
    }

    /** The tokenizer in memory, through the same parser as a model directory's files. */
    public static Tokenizer load() {
        return Tokenizer.fromJson(tokenizerJson(), tokenizerConfig(4096));
    }

    /** The R1 chat template (Jinja source of DeepSeek-R1-Distill's tokenizer_config.json, MIT licence). */
    static String chatTemplate() {
        try (InputStream in = GymTokenizer.class.getResourceAsStream("/gym/r1_chat_template.jinja")) {
            if (in == null) throw new IllegalStateException("resource /gym/r1_chat_template.jinja is missing");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- building --------------------------------------------------------------------------------

    /** Builds tokenizer.json from scratch (deterministic: the same tree every time). */
    static ObjectNode build() {
        List<String[]> merges = learnMerges(corpus());
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        int firstAdded = 256 + merges.size();
        for (int i = 0; i < ADDED.size(); i++) {
            String t = ADDED.get(i);
            ObjectNode a = added.addObject();
            a.put("id", firstAdded + i);
            a.put("content", t);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", t.equals(BOS) || t.equals(EOS));
        }
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode stages = pre.putArray("pretokenizers");
        ObjectNode split = stages.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", QWEN2_REGEX);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode bl = stages.addObject();
        bl.put("type", "ByteLevel");
        bl.put("add_prefix_space", false);
        bl.put("trim_offsets", false);
        bl.put("use_regex", false);

        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode special = post.putObject("special_tokens").putObject(BOS);
        special.put("id", BOS);
        special.putArray("ids").add(firstAdded + ADDED.indexOf(BOS));
        special.putArray("tokens").add(BOS);

        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        List<Character> alphabet = new ArrayList<>();
        for (int b = 0; b < 256; b++) alphabet.add(BYTE_TO_CHAR[b]);
        alphabet.sort(null);
        int id = 0;
        for (char ch : alphabet) vocab.put(String.valueOf(ch), id++);
        ArrayNode m = model.putArray("merges");
        for (String[] pr : merges) {
            vocab.put(pr[0] + pr[1], id++);
            m.addArray().add(pr[0]).add(pr[1]);
        }
        return root;
    }

    /**
     * Texts the tokenizer will see: user turns and both styles of solution for a fixed set of
     * problems (what lies between added tokens; the added tokens themselves are cut out).
     */
    static List<String> corpus() {
        SplittableRandom rng = new SplittableRandom(CORPUS_SEED);
        List<String> texts = new ArrayList<>();
        for (Problem.Level l : Problem.LEVELS)
            for (int i = 0; i < CORPUS_PER_LEVEL; i++) {
                Problem p = Problem.random(l.index(), rng);
                texts.add(GymFormat.userMessage(p));
                texts.add(System2Writer.write(p, rng).response());
                texts.add(System1Writer.write(p));
            }
        List<String> out = new ArrayList<>();
        String addedAlternation = String.join("|", ADDED.stream().map(Pattern::quote).toList());
        for (String t : texts) for (String piece : t.split(addedAlternation)) if (!piece.isEmpty()) out.add(piece);
        return out;
    }

    /** Classic BPE over the pre-tokenized, byte-mapped corpus. */
    static List<String[]> learnMerges(List<String> corpus) {
        Pattern split = Pattern.compile(QWEN2_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
        Map<String, Integer> wordCounts = new TreeMap<>();                 // sorted: deterministic order
        for (String text : corpus) {
            Matcher mt = split.matcher(text);
            int last = 0;
            while (mt.find()) {
                if (mt.end() == mt.start()) continue;
                if (mt.start() > last) wordCounts.merge(byteLevel(text.substring(last, mt.start())), 1, Integer::sum);
                wordCounts.merge(byteLevel(mt.group()), 1, Integer::sum);
                last = mt.end();
            }
            if (last < text.length()) wordCounts.merge(byteLevel(text.substring(last)), 1, Integer::sum);
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts.forEach((w, c) -> {
            List<String> symbols = new ArrayList<>();
            for (int i = 0; i < w.length(); i++) symbols.add(String.valueOf(w.charAt(i)));
            words.add(symbols);
            counts.add(c);
        });
        List<String[]> merges = new ArrayList<>();
        while (merges.size() < MERGES) {
            Map<String, Integer> pairs = new HashMap<>();
            Map<String, String[]> pairParts = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    String key = s.get(i) + " " + s.get(i + 1);
                    pairs.merge(key, counts.get(w), Integer::sum);
                    pairParts.putIfAbsent(key, new String[]{s.get(i), s.get(i + 1)});
                }
            }
            String best = null;
            int bestCount = 0;
            for (var e : pairs.entrySet())
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            if (best == null || bestCount < MIN_COUNT) break;
            String[] pr = pairParts.get(best);
            merges.add(pr);
            String joined = pr[0] + pr[1];
            for (List<String> s : words)
                for (int i = 0; i + 1 < s.size(); i++)
                    if (s.get(i).equals(pr[0]) && s.get(i + 1).equals(pr[1])) {
                        s.set(i, joined);
                        s.remove(i + 1);
                    }
        }
        return merges;
    }

    // ---- GPT-2's byte ↔ printable-character map (HF ByteLevel) --------------------------------------

    private static final char[] BYTE_TO_CHAR = new char[256];

    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
        }
    }

    static String byteLevel(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) out.append(BYTE_TO_CHAR[b & 0xFF]);
        return out.toString();
    }
}
