package dev.laconic.cli;

import dev.laconic.training.Jsonl;
import dev.laconic.transformer.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "detokenize", mixinStandardHelpOptions = true, description = "Decode ids: each input line {\"ids\": [...]} becomes {\"text\": ...} (special tokens kept).")
public final class DetokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "model directory holding tokenizer.json") Path model;
    @Option(names = "--in", required = true, description = "JSONL input, - for standard input") Path in;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = Tokenizer.load(model);
        List<String> out = new ArrayList<>();
        for (Jsonl.Line line : Jsonl.read(in)) out.add(Jsonl.line(Map.of("text", tok.decode(line.ids("ids", tok.vocabSize()), false))));
        out.forEach(System.out::println);
        return 0;
    }
}
