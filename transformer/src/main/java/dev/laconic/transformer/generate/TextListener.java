package dev.laconic.transformer.generate;

/**
 * Receives the text of samples as they are generated, the reasoning (inside the thinking block) and the answer
 * (after {@code </think>}) apart: see {@link Generator#generate(java.util.List, GenerationConfig,
 * dev.laconic.transformer.tokenizer.Tokenizer, TextListener)}. Text arrives in whole characters (a character that
 * spans several tokens comes with the token that completes it); special tokens (EOS, {@code </think>} itself) are
 * left out. Per sample, the pieces of each part concatenated are the tokenizer's decoding of that part's ids.
 */
@FunctionalInterface
public interface TextListener {
    /** Which part of the completion a piece of text belongs to. */
    enum Part { REASONING, ANSWER }

    void text(int promptIndex, int sample, Part part, String text);
}
