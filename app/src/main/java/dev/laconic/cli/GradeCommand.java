package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.checker.AnswerChecker;
import dev.laconic.training.Jsonl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "grade", mixinStandardHelpOptions = true, description = {
        "Grades completions with the answer checker: each line {\"completion\": ..., \"answer\": ...} becomes "
                + "{\"extracted\": ..., \"correct\": true|false}.",
        "answer: a GSM8K answer (the number after ####, or the whole field) or a MATH answer string. "
                + "The last \\boxed{} after </think> is the extracted answer (null when there is none)."})
public final class GradeCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, description = "JSONL input, - for standard input") Path in;

    @Override
    public Integer call() {
        List<Jsonl.Line> lines = Jsonl.read(in);
        // check every line before printing any, so a bad line leaves stdout empty
        List<String[]> inputs = new ArrayList<>();
        for (Jsonl.Line line : lines) inputs.add(new String[] {line.text("completion"), answer(line)});
        int correct = 0;
        List<String> out = new ArrayList<>();
        for (String[] io : inputs) {
            AnswerChecker.Result r = AnswerChecker.grade(io[0], io[1]);
            ObjectNode o = Jsonl.JSON.createObjectNode();
            o.put("extracted", r.extracted());
            o.put("correct", r.correct());
            out.add(Jsonl.line(o));
            if (r.correct()) correct++;
        }
        out.forEach(System.out::println);
        System.err.printf("graded %d: %d correct (%.1f%%)%n", out.size(), correct,
                out.isEmpty() ? 0.0 : 100.0 * correct / out.size());
        return 0;
    }

    /** A string, or a JSON number (a GSM8K answer written as 18 rather than "18"). */
    private static String answer(Jsonl.Line line) {
        JsonNode n = line.json().get("answer");
        if (n != null && n.isNumber()) return n.asText();
        return line.text("answer");
    }
}
