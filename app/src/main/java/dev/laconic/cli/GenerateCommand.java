package dev.laconic.cli;

import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.StreamingDecoder;
import dev.laconic.transformer.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "generate", description = "Generate completions (text streams to stdout; --json: one line per sample).")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    static final class Input {
        @Option(names = "--prompt", description = "prompt text") String prompt;
        @Option(names = "--in", description = "JSONL: {\"prompt\": text} or {\"ids\": [...]} per line") Path in;
    }

    @ArgGroup(multiplicity = "1") Input input;
    @Option(names = "--chat", description = "wrap each text prompt in the R1 chat template (user turn + <｜Assistant｜><think>)") boolean chat;
    @Option(names = "--max-tokens", defaultValue = "256") int maxTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default)") float temperature;
    @Option(names = "--top-p", defaultValue = "1") float topP;
    @Option(names = "--top-k", defaultValue = "0") int topK;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--n", defaultValue = "1", description = "samples per prompt") int n;
    @Option(names = "--ignore-eos", description = "decode to --max-tokens") boolean ignoreEos;
    @Option(names = "--stop", description = "stop string (repeatable)") List<String> stop;
    @Option(names = "--think-budget", defaultValue = "-1", description = "thinking tokens before </think> is forced (-1: none)") int thinkBudget;
    @Option(names = "--json", description = "one JSON line per sample") boolean json;

    @Override
    public Integer call() throws Exception {
        GenerationConfig gc = new GenerationConfig(maxTokens, new Sampler(temperature, topP, topK), n, seed, ignoreEos, stop, thinkBudget);
        List<Jsonl.Line> lines = input.in != null ? Jsonl.read(input.in) : List.of();
        try (Model m = modelOptions.load()) {
            Tokenizer tok = m.tokenizer();
            List<int[]> prompts = new ArrayList<>();
            if (input.prompt != null) prompts.add(encode(tok, input.prompt));
            for (Jsonl.Line line : lines)
                prompts.add(line.has("ids") ? line.ids("ids", m.config().vocab()) : encode(tok, line.text("prompt")));

            Generator gen = Generator.of(m.transformer(), tok);
            boolean stream = !json && prompts.size() == 1 && n == 1;
            StreamingDecoder sd = new StreamingDecoder(tok, false);
            long[] firstToken = {0};
            long t0 = System.nanoTime();
            List<Completion> out = gen.generate(prompts, gc, (p, s, id) -> {
                if (firstToken[0] == 0) firstToken[0] = System.nanoTime();
                if (stream) System.out.print(sd.push(id));
                if (stream) System.out.flush();
            });
            long t1 = System.nanoTime();
            if (stream) System.out.println(sd.finish());
            for (Completion c : out) {
                if (json) System.out.println(Jsonl.line(record(c)));
                else if (!stream) System.out.println("=== prompt " + c.promptIndex() + " sample " + c.sample() + " (" + c.finish() + ", " + c.tokens() + " tokens)\n" + c.text());
            }
            long promptTokens = prompts.stream().mapToLong(p -> p.length).sum(), completion = out.stream().mapToLong(Completion::tokens).sum();
            double prefillS = (firstToken[0] - t0) / 1e9, decodeS = (t1 - firstToken[0]) / 1e9;
            long decoded = completion - out.size();   // the first token of each sample comes from the prefill
            System.err.printf("prompt tokens %d, completion tokens %d; prefill %.1f tok/s, decode %.1f tok/s%n",
                    promptTokens, completion, promptTokens / Math.max(prefillS, 1e-9), decoded / Math.max(decodeS, 1e-9));
        }
        return 0;
    }

    private int[] encode(Tokenizer tok, String text) {
        return chat ? ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(text)), true) : tok.encode(text, true);
    }

    private static Map<String, Object> record(Completion c) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt_index", c.promptIndex());
        r.put("sample", c.sample());
        r.put("ids", c.ids());
        r.put("text", c.text());
        r.put("reasoning", c.reasoning());
        r.put("answer", c.answer());
        r.put("finish", c.finish() == Completion.Finish.EOS ? "eos" : c.finish() == Completion.Finish.LENGTH ? "length" : "stop");
        r.put("tokens", c.tokens());
        r.put("reasoning_tokens", c.reasoningTokens());
        return r;
    }
}
