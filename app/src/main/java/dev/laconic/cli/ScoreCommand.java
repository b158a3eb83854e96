package dev.laconic.cli;

import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "score", mixinStandardHelpOptions = true, description = "Log-probabilities: each line {\"ids\": [...]} becomes {\"logprobs\": [...]}, log p(ids[t] | ids[<t]) for t = 1..n-1.")
public final class ScoreCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--in", required = true, description = "JSONL input, - for standard input") Path in;

    @Override
    public Integer call() throws Exception {
        List<Jsonl.Line> lines = Jsonl.read(in);
        try (Model m = modelOptions.load()) {
            List<int[]> seqs = new ArrayList<>();
            for (Jsonl.Line line : lines) {
                int[] ids = line.ids("ids", m.config().vocab());
                if (ids.length > m.config().maxPositions())
                    throw line.error("ids", ids.length + " tokens exceed the model's context of " + m.config().maxPositions());
                seqs.add(ids);
            }
            List<String> out = new ArrayList<>();
            for (int[] ids : seqs) out.add(Jsonl.line(Map.of("logprobs", m.transformer().score(ids))));
            out.forEach(System.out::println);
        }
        return 0;
    }
}
