package dev.laconic.compression.checker;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the final answer in a completion and the reference number in a GSM8K answer field.
 *
 * <p>Rules, in order (methods.md, "Evaluation protocols"):
 * <ol>
 *   <li>Only the text after the last {@code </think>} is searched when the completion has one: the
 *       reasoning may box intermediate results ("so far \boxed{12}, wait...") that are not the answer.
 *       A completion cut off inside its thinking has no {@code </think>}; then the whole text is
 *       searched, as the reference evaluation scripts do.</li>
 *   <li>The last {@code \boxed{...}} or {@code \fbox{...}}, with brace matching that skips escaped
 *       braces ({@code \boxed{\{1,2\}}} is the set {1,2}). A last box that never closes (a completion
 *       truncated mid-answer) is skipped in favour of the box before it. {@code \boxed 5} (no braces)
 *       takes the next whitespace-delimited token, as LaTeX would.</li>
 *   <li>Otherwise the last "The final answer is X" (Minerva / Llama style), X cut at the end of its
 *       line or sentence, with its {@code $...$} removed.</li>
 *   <li>Otherwise no answer ({@code null}).</li>
 * </ol>
 */
final class AnswerExtractor {
    private AnswerExtractor() {}

    static final String THINK_END = "</think>";

    static String extract(String completion) {
        if (completion == null) return null;
        int think = completion.lastIndexOf(THINK_END);
        String text = think >= 0 ? completion.substring(think + THINK_END.length()) : completion;
        String boxed = lastBoxed(text);
        if (boxed != null) return boxed;
        return finalAnswerIs(text);
    }

    /** Content of the last complete {@code \boxed}/{@code \fbox}; null when there is none. */
    static String lastBoxed(String text) {
        int from = text.length();
        while (from > 0) {
            int b = text.lastIndexOf("\\boxed", from - 1);
            int f = text.lastIndexOf("\\fbox", from - 1);
            int start = Math.max(b, f);
            if (start < 0) return null;
            int after = start + (start == b ? "\\boxed".length() : "\\fbox".length());
            String content = boxContent(text, after);
            if (content != null && !content.isBlank()) return content.strip();
            from = start;
        }
        return null;
    }

    /** The argument starting at {@code i} (just after the command name), or null if it never closes. */
    private static String boxContent(String text, int i) {
        int n = text.length();
        int j = i;
        while (j < n && text.charAt(j) == ' ') j++;
        if (j >= n) return null;
        char c = text.charAt(j);
        if (c == '{') {
            int end = matchingBrace(text, j);
            return end < 0 ? null : text.substring(j + 1, end);
        }
        // "\boxedx" is another command name, not a box
        if (j == i && Character.isLetter(c)) return null;
        // \boxed 5: one token, up to whitespace or the closing $ of the math span
        int k = j;
        while (k < n && !Character.isWhitespace(text.charAt(k)) && text.charAt(k) != '$') k++;
        return text.substring(j, k);
    }

    /** Index of the '}' closing the '{' at {@code open}; escaped braces (\{ \}) do not count. -1 if none. */
    static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int k = open; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '\\') {
                k++; // skip the escaped character: \{ \} \\ are not grouping braces
                continue;
            }
            if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return k;
        }
        return -1;
    }

    // "The final answer is $42$. I hope it is correct." / "final answer is: 42"
    private static final Pattern FINAL = Pattern.compile("(?i)final answer is\\s*:?\\s*");

    static String finalAnswerIs(String text) {
        Matcher m = FINAL.matcher(text);
        int start = -1;
        while (m.find()) start = m.end();
        if (start < 0) return null;
        String rest = text.substring(start);
        String ans;
        if (rest.startsWith("$")) {
            // $...$ or $$...$$: the math span is the answer
            String delim = rest.startsWith("$$") ? "$$" : "$";
            int close = rest.indexOf(delim, delim.length());
            ans = close < 0 ? rest.substring(delim.length()) : rest.substring(delim.length(), close);
        } else {
            int nl = rest.indexOf('\n');
            ans = nl < 0 ? rest : rest.substring(0, nl);
            // the sentence ends at ". " (a decimal point is never followed by a space)
            int dot = ans.indexOf(". ");
            if (dot >= 0) ans = ans.substring(0, dot);
        }
        // markdown emphasis and the full stop are not part of the answer: "**42**."
        ans = ans.strip();
        while (ans.endsWith(".")) ans = ans.substring(0, ans.length() - 1).strip();
        ans = ans.replaceAll("^\\*+|\\*+$", "").strip();
        return ans.isEmpty() ? null : ans;
    }

    // GSM8K answers end with "#### 1,450,000"
    private static final Pattern THOUSANDS = Pattern.compile("-?\\d{1,3}(,\\d{3})+(\\.\\d+)?");

    static String gsm8kReference(String answerField) {
        if (answerField == null) return null;
        int hashes = answerField.lastIndexOf("####");
        String ref = (hashes >= 0 ? answerField.substring(hashes + 4) : answerField).strip();
        if (THOUSANDS.matcher(ref).matches()) ref = ref.replace(",", "");
        return ref;
    }
}
