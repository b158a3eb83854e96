package dev.laconic.transformer.tokenizer;

import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class BpeTest {

    /** The short-word scan and HF's heap algorithm must merge identically: compare them on the real merges. */
    @Test
    void scanAndHeapAgreeOnRealMerges() {
        var json = TokenizerFixtures.tokenizerJson();
        var vocab = new Object2IntOpenHashMap<String>();
        json.path("model").path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        var mergeNodes = json.path("model").path("merges");
        List<String[]> merges = new ArrayList<>();
        for (var m : mergeNodes) merges.add(m.asText().split(" "));
        Bpe bpe = new Bpe(vocab, merges, false);

        String[] words = {"hello", " world", "aaaaaaaaaaaaaaaaaaaaa", "abababababababab", "Pneumonoultramicroscopic",
                " the", "============", "   ", "中文中文中文", "😀😀😀", "ingingingly", "\n\n\n\n"};
        Random r = new Random(17);
        for (int trial = 0; trial < 3000; trial++) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + r.nextInt(6);
            for (int p = 0; p < parts; p++) {
                String w = words[r.nextInt(words.length)];
                sb.append(r.nextBoolean() ? w : w.substring(0, 1 + r.nextInt(w.length() - 1)));
            }
            byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
            int[] syms = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) syms[i] = vocab.getInt(String.valueOf(ByteLevel.charOf(bytes[i] & 0xFF)));
            assertArrayEquals(bpe.mergeHeap(syms.clone(), syms.length), bpe.mergeScan(syms.clone(), syms.length), sb.toString());
        }
    }

    @Test
    void tieOnRankMergesTheLeftmostPairFirst() {
        // vocab a, b, ab, ba; merges "a b" (rank 0), "b a" (rank 1): "aba" → [ab, a], "bab" → [b, ab]
        var vocab = new Object2IntOpenHashMap<String>();
        String[] toks = {"a", "b", "ab", "ba"};
        for (int i = 0; i < toks.length; i++) vocab.put(toks[i], i);
        for (int b = 0; b < 256; b++) vocab.putIfAbsent(String.valueOf(ByteLevel.charOf(b)), 100 + b);
        Bpe bpe = new Bpe(vocab, List.of(new String[] {"a", "b"}, new String[] {"b", "a"}), false);
        assertArrayEquals(new int[] {2, 0}, bpe.encodeBytes("aba".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(new int[] {1, 2}, bpe.encodeBytes("bab".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(new int[] {2, 2, 2}, bpe.encodeBytes("ababab".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(new int[] {2, 2, 2}, bpe.mergeHeap(new int[] {0, 1, 0, 1, 0, 1}, 6));
    }
}
