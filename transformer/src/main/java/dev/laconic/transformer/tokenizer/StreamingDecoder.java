package dev.laconic.transformer.tokenizer;

import java.util.Arrays;

/**
 * Turns a stream of token ids into text as it is generated, without ever printing half a character: byte-level
 * tokens often end inside a multi-byte UTF-8 sequence (an emoji is typically 2-3 tokens), so the bytes of an
 * unfinished sequence are held back until the token that completes it arrives.
 *
 * <p>Invariant: the concatenation of everything {@link #push} and {@link #finish} return equals
 * {@code tokenizer.decode(allIds, skipSpecial)}. It holds because we only cut before a lead byte whose sequence is
 * still a valid prefix: a lead byte can never belong to the sequence before it, so the decoder's replacement of
 * invalid bytes (one U+FFFD per maximal invalid subpart) sees the same subparts on both sides of the cut.
 * Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private byte[] pending = new byte[8];                          // bytes of an unfinished UTF-8 sequence (≤ 3)
    private int pendingLength;

    public StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** The text that {@code id} completes: possibly empty, possibly several characters. */
    public String push(int id) {
        byte[] b = tokenizer.bytesOf(id, skipSpecial);
        if (b == null || b.length == 0) return "";
        int total = pendingLength + b.length;
        if (pending.length < total) pending = Arrays.copyOf(pending, Math.max(total, pending.length * 2));
        System.arraycopy(b, 0, pending, pendingLength, b.length);
        int cut = completePrefix(pending, total);
        String text = utf8(pending, 0, cut);
        System.arraycopy(pending, cut, pending, 0, total - cut);
        pendingLength = total - cut;
        return text;
    }

    /** Whatever is still held back (an unfinished sequence becomes U+FFFD); the decoder is then empty again. */
    public String finish() {
        String text = utf8(pending, 0, pendingLength);
        pendingLength = 0;
        return text;
    }

    /** Whether bytes are being held back for a character that is not complete yet. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    /**
     * Length of the prefix of {@code b[0, n)} that can be decoded now: everything, unless the last ≤ 3 bytes are a
     * lead byte followed by fewer continuation bytes than it needs, all valid so far (RFC 3629 table: E0 needs
     * A0..BF next, ED 80..9F, F0 90..BF, F4 80..8F, other leads 80..BF).
     */
    static int completePrefix(byte[] b, int n) {
        for (int p = n - 1; p >= Math.max(0, n - 3); p--) {
            int lead = b[p] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue;                   // continuation byte: keep looking for its lead
            int need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
            if (need == 0 || n - p >= need) return n;              // ASCII, invalid lead, or a complete sequence
            if (n - p >= 2) {
                int second = b[p + 1] & 0xFF;
                int lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
                int hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
                if (second < lo || second > hi) return n;          // already invalid: decode it now
            }
            return p;                                              // later bytes may still complete it
        }
        return n;
    }

    /**
     * UTF-8 to text with one U+FFFD per maximal subpart of an invalid sequence (Unicode §3.9 "U+FFFD substitution of
     * maximal subparts", what Rust's String::from_utf8_lossy and so HF decode do). Java's own decoder replaces some
     * invalid sequences differently (e.g. ED A0 80, an encoded surrogate, is one U+FFFD there and three here).
     */
    static String utf8(byte[] b, int off, int len) {
        char[] out = new char[len];                                // never more UTF-16 units than bytes
        int n = 0, i = off, end = off + len;
        while (i < end) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) { out[n++] = (char) b0; i++; continue; }
            int need, lo = 0x80, hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
            else if (b0 >= 0xE0 && b0 <= 0xEF) { need = 2; if (b0 == 0xE0) lo = 0xA0; if (b0 == 0xED) hi = 0x9F; }
            else if (b0 >= 0xF0 && b0 <= 0xF4) { need = 3; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
            else { out[n++] = '\uFFFD'; i++; continue; }
            int cp = b0 & (0x3F >> need), j = i + 1;
            for (int k = 0; k < need; k++, j++) {
                int c = j < end ? b[j] & 0xFF : -1;
                if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) { cp = -1; break; }
                cp = cp << 6 | (c & 0x3F);
            }
            if (cp < 0) { out[n++] = '\uFFFD'; i = j; continue; }  // the valid prefix i..j-1 becomes one U+FFFD
            n += Character.toChars(cp, out, n);
            i = j;
        }
        return new String(out, 0, n);
    }
}
