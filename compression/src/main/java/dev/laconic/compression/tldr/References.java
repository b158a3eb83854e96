package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The two reference points of TL;DR (methods.md, Method A), measured once on the dev set with the
 * sampling settings of the run's evaluations:
 * <pre>
 *   (tok_S, acc_S)   mean completion tokens and accuracy of a short-answer model   (System-1 reference)
 *   (tok_L, acc_L)   the same for the long reasoning model being compressed        (System-2 reference)
 * </pre>
 * They normalise the two distances the weight update compares ({@link WeightUpdate}), so they must
 * differ: tok_L ≠ tok_S and acc_L ≠ acc_S. A run keeps them in RUN_DIR/reference.json, so a resumed
 * run and the final selection use the very numbers training started with.
 */
public record References(Point shortRef, Point longRef) {
    public static final String FILE = "reference.json";

    /** One reference point; {@code source}: "given" (--ref-short/--ref-long) or the model directory it was measured from. */
    public record Point(double tokens, double accuracy, String source) {
        public Point {
            if (!(tokens >= 0) || Double.isInfinite(tokens)) throw new IllegalArgumentException("reference tokens must be a finite number ≥ 0, got " + tokens);
            if (!(accuracy >= 0 && accuracy <= 1)) throw new IllegalArgumentException("reference accuracy must be in [0, 1], got " + accuracy);
        }

        /** "TOK,ACC", e.g. "25.3,0.41"; {@code what} names the value in messages (the CLI passes its flag). */
        public static Point parse(String s, String what) {
            String[] parts = s.split(",");
            if (parts.length != 2) throw new IllegalArgumentException(what + " takes TOKENS,ACCURACY (e.g. 25.3,0.41), not " + s);
            double tok, acc;
            try {
                tok = Double.parseDouble(parts[0].trim());
                acc = Double.parseDouble(parts[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " takes TOKENS,ACCURACY (e.g. 25.3,0.41), not " + s);
            }
            try {
                return new Point(tok, acc, "given");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage());
            }
        }

        public String flagValue() {
            return String.format(Locale.ROOT, "%s,%s", tokens, accuracy);
        }

        ObjectNode json() {
            ObjectNode o = RunDir.JSON.createObjectNode();
            o.put("tokens", tokens);
            o.put("accuracy", accuracy);
            o.put("source", source);
            return o;
        }

        static Point fromJson(JsonNode n, Path file, String field) {
            if (!n.path("tokens").isNumber() || !n.path("accuracy").isNumber())
                throw new IllegalArgumentException(file + ": field \"" + field + "\": expected {\"tokens\": number, \"accuracy\": number}");
            return new Point(n.get("tokens").asDouble(), n.get("accuracy").asDouble(), n.path("source").asText("given"));
        }
    }

    public References {
        if (longRef.tokens() == shortRef.tokens())
            throw new IllegalArgumentException("the short and long reference points have the same mean tokens (" + longRef.tokens()
                    + "): b_short = (tok − tok_S)/|tok_L − tok_S| is undefined");
        if (longRef.accuracy() == shortRef.accuracy())
            throw new IllegalArgumentException("the short and long reference points have the same accuracy (" + longRef.accuracy()
                    + "): b_long = (acc_L − acc)/|acc_L − acc_S| is undefined");
    }

    public ObjectNode json() {
        ObjectNode o = RunDir.JSON.createObjectNode();
        o.set("short", shortRef.json());
        o.set("long", longRef.json());
        return o;
    }

    public void write(Path runDir) throws IOException {
        RunDir.writeAtomically(runDir.resolve(FILE), RunDir.JSON.writeValueAsBytes(json()));
    }

    /** RUN_DIR/reference.json, or null when the run has not cached its reference points yet. */
    public static References read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        if (!Files.isRegularFile(file)) return null;
        JsonNode n = RunDir.JSON.readTree(file.toFile());
        return new References(Point.fromJson(n.path("short"), file, "short"), Point.fromJson(n.path("long"), file, "long"));
    }
}
