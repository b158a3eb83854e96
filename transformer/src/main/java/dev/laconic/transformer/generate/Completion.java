package dev.laconic.transformer.generate;

/**
 * One generated sample.
 *
 * @param ids             completion token ids (prompt excluded), including the EOS token when it ended there
 * @param logprobs        per completion token: log-probability under the sampling distribution
 *                        (0 for tokens forced by the thinking budget)
 * @param reasoning       text inside the thinking block (before &lt;/think&gt;)
 * @param answer          text after &lt;/think&gt; (everything, when the prompt did not open a thinking block)
 * @param reasoningTokens completion tokens before &lt;/think&gt;
 */
public record Completion(int promptIndex, int sample, int[] ids, float[] logprobs, String text,
                         String reasoning, String answer, Finish finish, int reasoningTokens) {
    /** EOS token, max tokens reached, a stop string, or cut by {@link DecodeEngine.Request#cancel()} (a dropped request). */
    public enum Finish { EOS, LENGTH, STOP, CANCELLED }

    public int tokens() { return ids.length; }
}
