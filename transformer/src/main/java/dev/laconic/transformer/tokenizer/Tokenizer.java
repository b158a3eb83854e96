package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.tensor.JsonFaults;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A Hugging Face byte-level BPE tokenizer (tokenizer.json), computing the same ids as HF {@code tokenizers}:
 * <pre>
 * text ─ added tokens (raw text) ─┬─ id
 *                                 └─ normalizer (NFC) ─ added tokens (normalized) ─┬─ id
 *                                                                                  └─ Split regex ─ bytes ─ BPE ─ ids
 * then, if asked, the post-processor template (R1: BOS $A)
 * </pre>
 * Decoding concatenates each token's bytes (GPT-2 byte alphabet mapped back) and reads them as UTF-8, every
 * invalid sequence becoming U+FFFD. Thread-safe: any number of threads may encode and decode at once.
 */
public final class Tokenizer {
    private final Bpe bpe;
    private final PreTokenizer preTokenizer;
    private final boolean addPrefixSpace;                          // ByteLevel add_prefix_space (before any Split)
    private final List<Normalizer.Form> normalizers;
    private final boolean nfcOnly;                                 // NFC leaves text below U+0300 unchanged
    private final AddedTokens rawAdded, normalizedAdded;
    private final List<int[]> template;                            // post-processor "single": null stands for $A
    private final String[] tokens;                                 // by id; null where no token has that id
    private final byte[][] tokenBytes;                             // by id: what the ByteLevel decoder emits
    private final boolean[] special;
    private final Object2IntOpenHashMap<String> addedIds = new Object2IntOpenHashMap<>();
    private final int bosId, eosId;
    private final String chatTemplate;                             // Jinja source from tokenizer_config, or null

    /** Reads {@code modelDir}/tokenizer.json (or tokenizer.json.gz) and, if present, tokenizer_config.json. */
    public static Tokenizer load(Path modelDir) throws IOException {
        Path json = modelDir.resolve("tokenizer.json"), gz = modelDir.resolve("tokenizer.json.gz");
        Path config = modelDir.resolve("tokenizer_config.json");
        if (!Files.exists(json) && !Files.exists(gz)) throw new IOException("no tokenizer.json in " + modelDir);
        Path file = Files.exists(json) ? json : gz;
        JsonNode c = null;
        if (Files.exists(config)) {
            try (InputStream in = Files.newInputStream(config)) {
                c = TokenizerJson.MAPPER.readTree(in);
            } catch (JsonProcessingException e) {
                throw new IOException(config + ": " + JsonFaults.invalid(e, false), e);
            }
        }
        try (InputStream t = file == json ? Files.newInputStream(json) : new GZIPInputStream(Files.newInputStream(gz))) {
            return new Tokenizer(TokenizerJson.read(t, c));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": " + JsonFaults.invalid(e, false), e);
        } catch (IllegalArgumentException e) {   // "tokenizer.json: field: reason", said of the file read
            throw new IOException(file + e.getMessage().replaceFirst("^tokenizer\\.json(?=:)", ""), e);
        }
    }

    /** From parsed tokenizer.json and tokenizer_config.json ({@code config} may be null). */
    public static Tokenizer fromJson(JsonNode tokenizerJson, JsonNode config) {
        return new Tokenizer(TokenizerJson.parse(tokenizerJson, config));
    }

    private Tokenizer(TokenizerJson.Parts p) {
        bpe = p.bpe();
        preTokenizer = p.preTokenizer();
        addPrefixSpace = p.addPrefixSpace();
        normalizers = p.normalizers();
        nfcOnly = normalizers.stream().allMatch(f -> f == Normalizer.Form.NFC);
        template = p.template();
        int size = 0;
        for (var e : p.vocab().object2IntEntrySet()) size = Math.max(size, e.getIntValue() + 1);
        for (var t : p.added()) size = Math.max(size, t.id() + 1);
        tokens = new String[size];
        tokenBytes = new byte[size][];
        special = new boolean[size];
        addedIds.defaultReturnValue(-1);
        for (var e : p.vocab().object2IntEntrySet()) tokens[e.getIntValue()] = e.getKey();
        List<AddedTokens.Token> raw = new ArrayList<>(), norm = new ArrayList<>();
        List<String> normTexts = new ArrayList<>();
        for (var t : p.added()) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
            addedIds.put(t.content(), t.id());
            if (t.normalized()) { norm.add(t); normTexts.add(normalize(t.content())); } else raw.add(t);
        }
        rawAdded = new AddedTokens(raw, raw.stream().map(AddedTokens.Token::content).toList());
        normalizedAdded = new AddedTokens(norm, normTexts);
        for (int id = 0; id < size; id++) if (tokens[id] != null) tokenBytes[id] = ByteLevel.decode(tokens[id]);
        bosId = p.bosToken() == null ? -1 : tokenId(p.bosToken());
        eosId = p.eosToken() == null ? -1 : tokenId(p.eosToken());
        chatTemplate = p.chatTemplate();
    }

    // ---- encoding ----

    /**
     * Token ids of {@code text}. With {@code addBos} the post-processor template is applied, as HF's
     * {@code add_special_tokens=True} does; for the R1 tokenizers that template is "BOS $A".
     */
    public int[] encode(String text, boolean addBos) {
        IntArrayList body = new IntArrayList(text.length() / 3 + 4);
        encodeInto(text, body);
        if (!addBos || template == null) return body.toIntArray();
        IntArrayList out = new IntArrayList(body.size() + 4);
        for (int[] item : template) {
            if (item == null) out.addAll(body); else out.addElements(out.size(), item);
        }
        return out.toIntArray();
    }

    private void encodeInto(String text, IntArrayList out) {
        if (rawAdded.isEmpty()) { encodeSegment(text, out); return; }
        IntArrayList ends = new IntArrayList(), segIds = new IntArrayList();
        rawAdded.split(text, ends, segIds);
        int start = 0;
        for (int k = 0; k < ends.size(); k++) {
            int end = ends.getInt(k), id = segIds.getInt(k);
            if (id >= 0) out.add(id); else encodeSegment(text.substring(start, end), out);
            start = end;
        }
    }

    private void encodeSegment(String segment, IntArrayList out) {
        String s = normalize(segment);
        if (normalizedAdded.isEmpty()) { encodePlain(s, out); return; }
        IntArrayList ends = new IntArrayList(), segIds = new IntArrayList();
        normalizedAdded.split(s, ends, segIds);
        int start = 0;
        for (int k = 0; k < ends.size(); k++) {
            int end = ends.getInt(k), id = segIds.getInt(k);
            if (id >= 0) out.add(id); else encodePlain(s.substring(start, end), out);
            start = end;
        }
    }

    private void encodePlain(String s, IntArrayList out) {
        if (s.isEmpty()) return;
        if (addPrefixSpace && s.charAt(0) != ' ') s = " " + s;
        if (preTokenizer == null) { bpe.encode(s, 0, s.length(), out); return; }
        IntArrayList ends = new IntArrayList(s.length() / 4 + 2);
        preTokenizer.split(s, 0, s.length(), ends);
        int start = 0;
        for (int k = 0; k < ends.size(); k++) {
            int end = ends.getInt(k);
            bpe.encode(s, start, end, out);
            start = end;
        }
    }

    private String normalize(String s) {
        if (normalizers.isEmpty() || (nfcOnly && isBelowCombiningMarks(s))) return s;
        for (Normalizer.Form f : normalizers) s = HfNormalizer.normalize(s, f);
        return s;
    }

    /**
     * NFC's quick check is "yes" for every char below U+0300 (the first combining mark) and none of them composes
     * with a following char below U+0300, so such text is already NFC; checking is much cheaper than normalizing.
     */
    private static boolean isBelowCombiningMarks(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) >= 0x300) return false;
        return true;
    }

    // ---- decoding ----

    /** Text of {@code ids}; unknown ids are skipped (as HF does), special tokens too when {@code skipSpecial}. */
    public String decode(int[] ids, boolean skipSpecial) {
        byte[] b = decodeBytes(ids, skipSpecial);
        return StreamingDecoder.utf8(b, 0, b.length);
    }

    /** The raw bytes of {@code ids}: possibly incomplete UTF-8 (see {@link StreamingDecoder}). */
    public byte[] decodeBytes(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            byte[] b = bytesOf(id, skipSpecial);
            if (b != null) out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    /** Bytes of one token, or null if the id is unknown or skipped. */
    byte[] bytesOf(int id, boolean skipSpecial) {
        if (id < 0 || id >= tokenBytes.length || (skipSpecial && special[id])) return null;
        return tokenBytes[id];
    }

    // ---- lookups ----

    /** One more than the largest token id (151,665 for R1-Distill-Qwen; the model's embedding may be larger). */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token as written in tokenizer.json (an added token's content, or a byte-level vocab string); -1. */
    public int tokenId(String token) {
        int id = addedIds.getInt(token);                           // added tokens shadow the vocabulary, as in HF
        return id >= 0 ? id : bpe.vocabId(token);
    }

    /** The token string of {@code id} as written in tokenizer.json (byte-level form: " the" is "Ġthe"), or null. */
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** BOS from tokenizer_config.json's bos_token (else the template's first special token); -1 if none. */
    public int bosId() {
        return bosId;
    }

    /** EOS from tokenizer_config.json's eos_token; -1 if none. Generation may stop on more ids (generation_config). */
    public int eosId() {
        return eosId;
    }

    /** The Jinja chat template from tokenizer_config.json, or null; {@link ChatTemplate} implements R1's as code. */
    public String chatTemplateSource() {
        return chatTemplate;
    }

    @Override
    public String toString() {
        return "Tokenizer[vocab=" + tokens.length + ", bos=" + bosId + ", eos=" + eosId + ", template="
                + (template == null ? "none" : template.stream().map(a -> a == null ? "$A" : Arrays.toString(a)).toList())
                + "]";
    }
}
