package dev.laconic.transformer.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.io.IOException;
import java.io.InputStream;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the parts of tokenizer.json (format of HF tokenizers ≥ 0.13) and tokenizer_config.json that byte-level BPE
 * needs, and refuses, naming the field, anything this implementation would get wrong (WordPiece/Unigram models,
 * SentencePiece-style byte fallback, other normalizers, pre-tokenizers, post-processors and decoders).
 */
final class TokenizerJson {
    // 151k distinct vocab keys would flood Jackson's field-name symbol table (built for a few recurring names)
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build());

    record Parts(Object2IntOpenHashMap<String> vocab, Bpe bpe, List<AddedTokens.Token> added,
                 List<Normalizer.Form> normalizers, PreTokenizer preTokenizer, boolean addPrefixSpace,
                 List<int[]> template, String bosToken, String eosToken, String chatTemplate) {}

    private TokenizerJson() {}

    /**
     * Streams tokenizer.json: model.vocab and model.merges (~300k entries) go straight into their final structures,
     * everything else (small) becomes a tree. Several times faster than building a tree of the whole file.
     */
    static Parts read(InputStream in, JsonNode config) throws IOException {
        try (JsonParser p = MAPPER.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalArgumentException("tokenizer.json: not a JSON object");
            ObjectNode root = MAPPER.createObjectNode();
            Object2IntOpenHashMap<String> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (!name.equals("model") || t != JsonToken.START_OBJECT) { root.set(name, p.readValueAsTree()); continue; }
                ObjectNode model = root.putObject("model");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    t = p.nextToken();
                    if (field.equals("vocab") && t == JsonToken.START_OBJECT) {
                        vocab = new Object2IntOpenHashMap<>(200_000);
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String key = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT)
                                throw badId("model.vocab", key, p.getText());
                            vocab.put(key, p.getIntValue());
                        }
                    } else if (field.equals("merges") && t == JsonToken.START_ARRAY) {
                        merges = new ArrayList<>(200_000);
                        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                            if (t == JsonToken.VALUE_STRING) {
                                merges.add(splitMerge(p.getText(), merges.size()));
                            } else if (t == JsonToken.START_ARRAY && p.nextToken() == JsonToken.VALUE_STRING) {
                                String a = p.getText();
                                String b = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                                if (b == null || p.nextToken() != JsonToken.END_ARRAY) {
                                    throw new IllegalArgumentException("tokenizer.json: merge " + merges.size() + " is not [a, b]");
                                }
                                merges.add(new String[] {a, b});
                            } else {
                                throw new IllegalArgumentException("tokenizer.json: merge " + merges.size()
                                        + " is neither \"a b\" nor [a, b]");
                            }
                        }
                    } else {
                        model.set(field, p.readValueAsTree());
                    }
                }
            }
            return parse(root, config, vocab, merges);
        }
    }

    /** From a tree of the whole file. */
    static Parts parse(JsonNode root, JsonNode config) {
        JsonNode vocabNode = root.path("model").path("vocab");
        Object2IntOpenHashMap<String> vocab = null;
        if (vocabNode.isObject()) {
            vocab = new Object2IntOpenHashMap<>(vocabNode.size() * 2);
            for (var e : vocabNode.properties()) {
                if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt())
                    throw badId("model.vocab", e.getKey(), e.getValue().toString());
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        }
        return parse(root, config, vocab, readMerges(root.path("model").path("merges")));
    }

    private static Parts parse(JsonNode root, JsonNode config, Object2IntOpenHashMap<String> vocab,
                               List<String[]> merges) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) throw unsupported("model.type", type);
        if (model.path("byte_fallback").asBoolean(false)) throw unsupported("model.byte_fallback", "true");
        if (!model.path("continuing_subword_prefix").asText("").isEmpty()) {
            throw unsupported("model.continuing_subword_prefix", model.path("continuing_subword_prefix").asText());
        }
        if (!model.path("end_of_word_suffix").asText("").isEmpty()) {
            throw unsupported("model.end_of_word_suffix", model.path("end_of_word_suffix").asText());
        }
        if (model.path("dropout").asDouble(0) > 0) throw unsupported("model.dropout", model.path("dropout").asText());
        if (vocab == null) throw new IllegalArgumentException("tokenizer.json: model.vocab missing");
        if (merges == null) merges = List.of();

        List<AddedTokens.Token> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.path("id").isIntegralNumber() || !t.path("id").canConvertToInt())
                throw badId("added_tokens", t.path("content").asText(), t.path("id").toString());
            added.add(new AddedTokens.Token(t.path("id").asInt(), t.path("content").asText(),
                    t.path("special").asBoolean(false), t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                    t.path("normalized").asBoolean(!t.path("special").asBoolean(false))));
        }

        checkIds(vocab, added);

        List<Normalizer.Form> normalizers = new ArrayList<>();
        readNormalizer(root.path("normalizer"), normalizers, "normalizer");

        List<PreTokenizer> stages = new ArrayList<>();
        boolean[] prefixSpace = {false}, byteLevel = {false};
        readPreTokenizer(root.path("pre_tokenizer"), stages, prefixSpace, byteLevel, "pre_tokenizer");
        if (!byteLevel[0]) {
            throw new IllegalArgumentException("tokenizer.json: pre_tokenizer has no ByteLevel step; only byte-level "
                    + "BPE tokenizers (GPT-2, Llama 3, Qwen2, DeepSeek) are supported");
        }
        String decoder = root.path("decoder").path("type").asText("");
        if (!decoder.equals("ByteLevel")) throw unsupported("decoder.type", decoder.isEmpty() ? "none" : decoder);

        List<int[]> template = readPostProcessor(root.path("post_processor"), "post_processor");

        String bos = tokenName(config, "bos_token"), eos = tokenName(config, "eos_token");
        if (bos == null && template != null) {       // no config: the template's first special token is the BOS
            for (JsonNode item : root.path("post_processor").path("single")) {
                if (item.has("SpecialToken")) { bos = item.path("SpecialToken").path("id").asText(); break; }
            }
        }
        String chat = config == null || !config.path("chat_template").isTextual() ? null
                : config.path("chat_template").asText();
        Bpe bpe = new Bpe(vocab, merges, model.path("ignore_merges").asBoolean(false));   // last: the costly part
        return new Parts(vocab, bpe, added, normalizers, stages.isEmpty() ? null : PreTokenizer.chain(stages),
                prefixSpace[0], template, bos, eos, chat);
    }

    /** Ids above this are refused: real vocabularies stay under 2^18, and the id tables are sized by the largest id. */
    static final int MAX_ID = 1 << 24;

    /**
     * Ids index the tokenizer's tables: each must lie in [0, 2^24) (gaps are allowed, as in Hugging Face), so a corrupt
     * id (10^9, 2^31-1, -5) cannot size an array or index outside one.
     */
    private static void checkIds(Object2IntOpenHashMap<String> vocab, List<AddedTokens.Token> added) {
        String range = " is outside [0, " + MAX_ID + ") (the largest id this tokenizer accepts)";
        for (var e : vocab.object2IntEntrySet())
            if (e.getIntValue() < 0 || e.getIntValue() >= MAX_ID)
                throw new IllegalArgumentException("tokenizer.json: model.vocab: token \"" + abbreviate(e.getKey()) + "\": id "
                        + e.getIntValue() + range);
        for (var t : added)
            if (t.id() < 0 || t.id() >= MAX_ID)
                throw new IllegalArgumentException("tokenizer.json: added_tokens: token \"" + abbreviate(t.content()) + "\": id "
                        + t.id() + range);
    }

    private static IllegalArgumentException badId(String field, String token, String value) {
        return new IllegalArgumentException("tokenizer.json: " + field + ": token \"" + abbreviate(token) + "\": id "
                + abbreviate(value) + " is not an integer id (0 to 2^31-1)");
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** Merges as {@code "a b"} strings (older files) or {@code ["a", "b"]} pairs (tokenizers ≥ 0.20). */
    private static List<String[]> readMerges(JsonNode merges) {
        if (merges.isMissingNode() || merges.isNull()) return null;
        List<String[]> out = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            if (m.isArray() && m.size() == 2) {
                out.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else if (m.isTextual()) {
                out.add(splitMerge(m.asText(), out.size()));
            } else {
                throw new IllegalArgumentException("tokenizer.json: merge " + out.size() + " is neither \"a b\" nor [a, b]: " + m);
            }
        }
        return out;
    }

    /** HF splits on ' ' and wants exactly two parts (byte-level tokens never contain a space: it is 'Ġ'). */
    private static String[] splitMerge(String m, int index) {
        int k = m.indexOf(' ');
        if (k < 0 || m.indexOf(' ', k + 1) >= 0) {
            throw new IllegalArgumentException("tokenizer.json: merge " + index + " is not \"a b\": " + m);
        }
        return new String[] {m.substring(0, k), m.substring(k + 1)};
    }

    private static void readNormalizer(JsonNode n, List<Normalizer.Form> out, String where) {
        if (n.isMissingNode() || n.isNull()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "NFC" -> out.add(Normalizer.Form.NFC);
            case "NFD" -> out.add(Normalizer.Form.NFD);
            case "NFKC" -> out.add(Normalizer.Form.NFKC);
            case "NFKD" -> out.add(Normalizer.Form.NFKD);
            case "Sequence" -> {
                int i = 0;
                for (JsonNode c : n.path("normalizers")) readNormalizer(c, out, where + ".normalizers[" + i++ + "]");
            }
            default -> throw unsupported(where + ".type", type);
        }
    }

    private static void readPreTokenizer(JsonNode n, List<PreTokenizer> stages, boolean[] prefixSpace,
                                         boolean[] byteLevel, String where) {
        if (n.isMissingNode() || n.isNull()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                int i = 0;
                for (JsonNode c : n.path("pretokenizers")) {
                    readPreTokenizer(c, stages, prefixSpace, byteLevel, where + ".pretokenizers[" + i++ + "]");
                }
            }
            case "Split" -> {
                if (byteLevel[0]) throw unsupported(where, "Split after ByteLevel");
                String behavior = n.path("behavior").asText();
                if (!behavior.equals("Isolated")) throw unsupported(where + ".behavior", behavior);
                if (n.path("invert").asBoolean(false)) throw unsupported(where + ".invert", "true");
                JsonNode pattern = n.path("pattern");
                String regex = pattern.has("Regex") ? pattern.path("Regex").asText()
                        : java.util.regex.Pattern.quote(pattern.path("String").asText());
                stages.add(PreTokenizer.split(regex));
            }
            case "ByteLevel" -> {
                if (n.path("add_prefix_space").asBoolean(false)) {
                    // HF prepends the space to every piece that reaches ByteLevel; we support it on whole segments
                    if (!stages.isEmpty()) throw unsupported(where + ".add_prefix_space", "true after a Split");
                    prefixSpace[0] = true;
                }
                if (n.path("use_regex").asBoolean(true)) stages.add(PreTokenizer.split(PreTokenizer.GPT2_REGEX));
                byteLevel[0] = true;
            }
            default -> throw unsupported(where + ".type", type);
        }
    }

    /** The "single" template of TemplateProcessing as id lists (null = the text); null if there is none. */
    private static List<int[]> readPostProcessor(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) return null;
        String type = n.path("type").asText();
        switch (type) {
            case "ByteLevel" -> { return null; }            // only adjusts offsets
            case "Sequence" -> {
                List<int[]> found = null;
                int i = 0;
                for (JsonNode c : n.path("processors")) {
                    List<int[]> t = readPostProcessor(c, where + ".processors[" + i++ + "]");
                    if (t != null) {
                        if (found != null) throw unsupported(where, "two TemplateProcessing steps");
                        found = t;
                    }
                }
                return found;
            }
            case "TemplateProcessing" -> {
                List<int[]> items = new ArrayList<>();
                for (JsonNode item : n.path("single")) {
                    if (item.has("Sequence")) {
                        items.add(null);
                    } else if (item.has("SpecialToken")) {
                        String name = item.path("SpecialToken").path("id").asText();
                        JsonNode ids = n.path("special_tokens").path(name).path("ids");
                        if (!ids.isArray()) throw new IllegalArgumentException("tokenizer.json: " + where
                                + ".special_tokens has no ids for " + name);
                        int[] a = new int[ids.size()];
                        for (int k = 0; k < a.length; k++) a[k] = ids.get(k).asInt();
                        items.add(a);
                    } else {
                        throw unsupported(where + ".single", item.toString());
                    }
                }
                return items;
            }
            default -> throw unsupported(where + ".type", type);
        }
    }

    /** A token named in tokenizer_config.json: a plain string or an AddedToken object with "content". */
    private static String tokenName(JsonNode config, String field) {
        if (config == null) return null;
        JsonNode v = config.path(field);
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.path("content").isTextual()) return v.path("content").asText();
        return null;
    }

    private static IllegalArgumentException unsupported(String field, String value) {
        return new IllegalArgumentException("tokenizer.json: unsupported " + field + " = " + value);
    }
}
