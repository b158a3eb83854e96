package dev.laconic.transformer.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet: every byte 0..255 gets one printable character, so a BPE vocabulary over strings can
 * cover arbitrary UTF-8. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68
 * bytes map, in byte order, to U+0100, U+0101, ... (so ' ' = 0x20 becomes 'Ġ' = U+0120 and '\n' becomes 'Ċ').
 * Source: openai/gpt-2 encoder.py bytes_to_unicode, reproduced by HF tokenizers' pre_tokenizers/byte_level.rs.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final byte[] CHAR_TO_BYTE = new byte[324];       // every mapped char is below U+0144
    private static final boolean[] MAPPED = new boolean[324];

    static {
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (byte) b;
            MAPPED[c] = true;
        }
    }

    private ByteLevel() {}

    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte-level string of raw bytes, as vocabulary keys are written. */
    static String encode(byte[] bytes, int off, int len) {
        char[] cs = new char[len];
        for (int i = 0; i < len; i++) cs[i] = BYTE_TO_CHAR[bytes[off + i] & 0xFF];
        return new String(cs);
    }

    /**
     * The bytes a token stands for, as HF's ByteLevel decoder computes them: each char mapped back to its byte,
     * unless some char of the token is outside the alphabet (added tokens such as "<｜User｜>"), in which case the
     * token's own UTF-8 bytes are used.
     */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < out.length; i++) {
            char c = token.charAt(i);
            if (c >= MAPPED.length || !MAPPED[c]) return token.getBytes(StandardCharsets.UTF_8);
            out[i] = CHAR_TO_BYTE[c];
        }
        return out;
    }
}
