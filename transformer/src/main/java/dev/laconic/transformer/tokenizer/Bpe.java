package dev.laconic.transformer.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE over a piece's UTF-8 bytes (HF tokenizers models/bpe). Start from one symbol per byte, then
 * repeatedly merge the adjacent pair with the lowest merge rank, the leftmost one on ties, until no adjacent pair
 * has a merge. Merges are keyed by the pair of ids: {@code (left << 32 | right) -> (rank << 32 | mergedId)}.
 *
 * <p>Pieces repeat a lot in natural text, so results are cached per piece (as HF does). The cache is only a cache:
 * it is bounded, shared between threads and never changes a result.
 */
final class Bpe {
    /** Words up to this many bytes use the O(n²) scan; longer ones the O(n log n) heap (HF's word.rs algorithm). */
    static final int SCAN_LIMIT = 128;
    private static final int CACHE_LIMIT = 50_000;                  // ~6 MB at most; HF keeps 10,000
    private static final long NONE = Long.MAX_VALUE;

    private final int[] byteIds = new int[256];                    // id of each single-byte token, -1 if absent
    private final Long2LongOpenHashMap merges;
    private final Object2IntOpenHashMap<String> vocab;             // byte-level token string -> id
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    Bpe(Object2IntOpenHashMap<String> vocab, List<String[]> mergePairs, boolean ignoreMerges) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        vocab.defaultReturnValue(-1);
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.getInt(String.valueOf(ByteLevel.charOf(b)));
        merges = new Long2LongOpenHashMap(mergePairs.size() * 2);
        merges.defaultReturnValue(NONE);
        for (int rank = 0; rank < mergePairs.size(); rank++) {
            String a = mergePairs.get(rank)[0], b = mergePairs.get(rank)[1];
            int ia = vocab.getInt(a), ib = vocab.getInt(b), merged = vocab.getInt(a + b);
            if (ia < 0 || ib < 0 || merged < 0) {
                throw new IllegalArgumentException("tokenizer.json: merge " + rank + " (\"" + a + "\", \"" + b
                        + "\") uses a token that is not in model.vocab");
            }
            merges.put(pairKey(ia, ib), (long) rank << 32 | merged);   // a later duplicate wins, as in HF's HashMap
        }
    }

    private static long pairKey(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    /** Appends the ids of one pre-tokenized piece {@code s[from, to)}. */
    void encode(String s, int from, int to, IntArrayList out) {
        String piece = s.substring(from, to);
        int[] ids = cache.get(piece);
        if (ids == null) {
            ids = encodeBytes(piece.getBytes(StandardCharsets.UTF_8));
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(piece, ids);
        }
        out.addElements(out.size(), ids);
    }

    /** Id of a byte-level token string in the model vocabulary, or -1. */
    int vocabId(String token) {
        return vocab.getInt(token);
    }

    int[] encodeBytes(byte[] bytes) {
        if (ignoreMerges) {
            int id = vocab.getInt(ByteLevel.encode(bytes, 0, bytes.length));
            if (id >= 0) return new int[] {id};
        }
        int n = 0;
        int[] sym = new int[bytes.length];
        for (byte b : bytes) {
            int id = byteIds[b & 0xFF];
            if (id >= 0) sym[n++] = id;                       // HF drops bytes missing from the vocab (no unk)
        }
        return n <= SCAN_LIMIT ? mergeScan(sym, n) : mergeHeap(sym, n);
    }

    /**
     * Short words: keep the rank of every adjacent pair in an array; each step merges the minimum (leftmost on ties)
     * and recomputes only the two pairs next to it. O(n²) compares but O(n) hash lookups.
     */
    int[] mergeScan(int[] sym, int n) {
        long[] pair = new long[Math.max(n - 1, 0)];           // (rank << 32 | merged) of sym[i], sym[i + 1]
        for (int i = 0; i + 1 < n; i++) pair[i] = merges.get(pairKey(sym[i], sym[i + 1]));
        while (n > 1) {
            int best = 0;
            for (int i = 1; i < n - 1; i++) if ((pair[i] >>> 32) < (pair[best] >>> 32)) best = i;
            if (pair[best] == NONE) break;
            sym[best] = (int) pair[best];
            System.arraycopy(sym, best + 2, sym, best + 1, n - best - 2);
            System.arraycopy(pair, best + 1, pair, best, n - best - 2);
            n--;
            if (best > 0) pair[best - 1] = merges.get(pairKey(sym[best - 1], sym[best]));
            if (best < n - 1) pair[best] = merges.get(pairKey(sym[best], sym[best + 1]));
        }
        return Arrays.copyOf(sym, n);
    }

    /**
     * Long words: HF's algorithm. A doubly linked list of symbols and a min-heap of candidate merges ordered by
     * (rank, position). A popped entry is stale if its left symbol was absorbed or the pair now merges differently.
     */
    int[] mergeHeap(int[] sym, int n) {
        int[] prev = new int[n], next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        MergeHeap heap = new MergeHeap(n);
        for (int i = 0; i + 1 < n; i++) heap.offer(merges.get(pairKey(sym[i], sym[i + 1])), i);
        while (!heap.isEmpty()) {
            long rankMerged = heap.topValue();
            int pos = heap.topPos();
            heap.poll();
            int right = next[pos];
            if (dead[pos] || right < 0) continue;
            if (merges.get(pairKey(sym[pos], sym[right])) != rankMerged) continue;   // stale entry
            sym[pos] = (int) rankMerged;
            dead[right] = true;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) heap.offer(merges.get(pairKey(sym[prev[pos]], sym[pos])), prev[pos]);
            if (next[pos] >= 0) heap.offer(merges.get(pairKey(sym[pos], sym[next[pos]])), pos);
        }
        IntArrayList out = new IntArrayList(n);
        for (int i = 0; i >= 0; i = next[i]) out.add(sym[i]);
        return out.toIntArray();
    }

    /** Binary min-heap of (rank << 32 | merged, position), ordered by rank then position; NONE entries are dropped. */
    private static final class MergeHeap {
        private long[] value;
        private int[] pos;
        private int size;

        MergeHeap(int capacity) {
            value = new long[Math.max(capacity, 4)];
            pos = new int[value.length];
        }

        boolean isEmpty() { return size == 0; }
        long topValue() { return value[0]; }
        int topPos() { return pos[0]; }

        private boolean less(int a, int b) {
            long ra = value[a] >>> 32, rb = value[b] >>> 32;
            return ra != rb ? ra < rb : pos[a] < pos[b];
        }

        private void swap(int a, int b) {
            long v = value[a]; value[a] = value[b]; value[b] = v;
            int p = pos[a]; pos[a] = pos[b]; pos[b] = p;
        }

        void offer(long v, int p) {
            if (v == NONE) return;
            if (size == value.length) {
                value = Arrays.copyOf(value, size * 2);
                pos = Arrays.copyOf(pos, size * 2);
            }
            value[size] = v; pos[size] = p;
            for (int i = size++; i > 0 && less(i, (i - 1) / 2); i = (i - 1) / 2) swap(i, (i - 1) / 2);
        }

        void poll() {
            swap(0, --size);
            for (int i = 0; ; ) {
                int l = 2 * i + 1, r = l + 1, m = i;
                if (l < size && less(l, m)) m = l;
                if (r < size && less(r, m)) m = r;
                if (m == i) return;
                swap(i, m);
                i = m;
            }
        }
    }
}
