package dev.laconic.tensor;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * Jackson's parse faults as one line for the user: its reason without the {@code [Source: REDACTED ...]} preamble
 * or line breaks, and where it is. The one place every JSON reader (safetensors headers, tokenizer.json, config.json,
 * JSONL data) words a malformed file.
 */
public final class JsonFaults {
    private JsonFaults() {}

    /** The reason alone, on one line. */
    public static String reason(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) return e.getClass().getSimpleName();
        if (m.startsWith("Trailing token")) return "trailing content after the JSON value";
        return m.replaceAll("\\[Source: [^;\\]]*; ", "[").replaceAll("\\s*\\R\\s*", " ");
    }

    /**
     * {@code not valid JSON: REASON (line L, column C)}; with {@code oneLine} (a line of a JSONL file, whose number the
     * caller names) the column only.
     */
    public static String invalid(JsonProcessingException e, boolean oneLine) {
        JsonLocation at = e.getLocation();
        String where = at == null || at.getColumnNr() < 1 ? ""
                : oneLine || at.getLineNr() < 1 ? " (column " + at.getColumnNr() + ")"
                : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        return "not valid JSON: " + reason(e) + where;
    }
}
