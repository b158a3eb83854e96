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

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Encode text: each input line {\"text\": ...} becomes {\"ids\": [...]}.")
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "model directory holding tokenizer.json") Path model;
    @Option(names = "--in", required = true, description = "JSONL input, - for standard input") Path in;
    @Option(names = "--bos", description = "prepend the BOS token (the post-processor's template)") boolean bos;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok = Tokenizer.load(model);
        List<String> out = new ArrayList<>();
        for (Jsonl.Line line : Jsonl.read(in)) out.add(Jsonl.line(Map.of("ids", tok.encode(line.text("text"), bos))));
        out.forEach(System.out::println);            // only after every line succeeded
        return 0;
    }
}
