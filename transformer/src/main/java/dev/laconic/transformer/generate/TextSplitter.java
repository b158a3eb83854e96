package dev.laconic.transformer.generate;

import dev.laconic.transformer.tokenizer.StreamingDecoder;
import dev.laconic.transformer.tokenizer.Tokenizer;

/**
 * One sample's text as it is decoded, the reasoning and the answer apart, in whole characters (a
 * {@link StreamingDecoder}), special tokens left out: reasoning from the first token when the prompt opened a
 * thinking block, answer from the token after {@code </think>} on ({@code </think>} itself is in neither). Per
 * part, the pieces concatenated are the tokenizer's decoding of that part's ids. Not thread-safe.
 */
public final class TextSplitter {
    /** Receives pieces of text. */
    @FunctionalInterface
    public interface Sink {
        void text(TextListener.Part part, String text);
    }

    private final StreamingDecoder decoder;
    private final int thinkEndId;
    private boolean thinking;

    /** @param thinking whether the text starts inside a thinking block ({@link Generator#opensThinking}) */
    public TextSplitter(Tokenizer tok, int thinkEndId, boolean thinking) {
        this.decoder = new StreamingDecoder(tok, true);
        this.thinkEndId = thinkEndId;
        this.thinking = thinking;
    }

    /** Whether the next text is reasoning. */
    public boolean thinking() { return thinking; }

    /** The text token {@code id} completes (possibly none), or the end of the reasoning at {@code </think>}. */
    public void push(int id, Sink out) {
        if (thinking && id == thinkEndId) {
            String rest = decoder.finish();
            if (!rest.isEmpty()) out.text(TextListener.Part.REASONING, rest);
            thinking = false;
            return;
        }
        String piece = decoder.push(id);
        if (!piece.isEmpty()) out.text(part(), piece);
    }

    /** Whatever is held back (an unfinished character becomes U+FFFD). */
    public void finish(Sink out) {
        String rest = decoder.finish();
        if (!rest.isEmpty()) out.text(part(), rest);
    }

    private TextListener.Part part() {
        return thinking ? TextListener.Part.REASONING : TextListener.Part.ANSWER;
    }
}
