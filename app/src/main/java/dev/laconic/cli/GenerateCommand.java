package dev.laconic.cli;

import dev.laconic.compression.generation.Chunk;
import dev.laconic.compression.generation.Policy;
import dev.laconic.training.Jsonl;
import dev.laconic.training.SftData;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.GenerationDefaults;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.StreamingDecoder;
import dev.laconic.transformer.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Generate completions (text streams to stdout; --json: one line per sample).",
        "Sampling follows the model's generation_config.json as transformers' generate() does (do_sample, temperature, top_p, "
                + "top_k, max_new_tokens; greedy when do_sample is absent or false); the flags override it."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    static final class Input {
        @Option(names = "--prompt", description = "prompt text") String prompt;
        @Option(names = "--in", description = "JSONL prompts, - for standard input: {\"prompt\": text}, {\"text\"}, {\"ids\": [...]}, "
                + "or conversational {\"prompt\": [messages]} / {\"messages\": [...]} (chat template applied; a training line's "
                + "trailing assistant messages are left out); other fields are ignored") Path in;
    }

    @ArgGroup(multiplicity = "1") Input input;
    @Option(names = "--chat", description = "wrap each text prompt in the R1 chat template (user turn + <｜Assistant｜><think>)") boolean chat;
    @Option(names = "--max-tokens", description = "completion tokens per sample (default: generation_config.json's max_new_tokens, else "
            + GenerationConfig.DEFAULT_MAX_TOKENS + ")") Integer maxTokens;
    @Option(names = "--temperature", description = "0 = greedy (default: generation_config.json's temperature when its do_sample is true, "
            + "else 0 = greedy)") Float temperature;
    @Option(names = "--top-p", description = "nucleus mass when sampling (default: generation_config.json's top_p, else 1 = off)") Float topP;
    @Option(names = "--top-k", description = "most probable tokens kept when sampling, 0 = off (default: generation_config.json's top_k, "
            + "else transformers' 50)") Integer topK;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--n", defaultValue = "1", description = "samples per prompt (default: ${DEFAULT-VALUE})") int n;
    @Option(names = "--ignore-eos", description = "decode to --max-tokens") boolean ignoreEos;
    @Option(names = "--stop", description = "stop string (repeatable; default: none)") List<String> stop;
    @Option(names = "--think-budget", defaultValue = "-1", description = "thinking tokens before </think> is forced (default: ${DEFAULT-VALUE}, none)") int thinkBudget;
    @Option(names = "--json", description = "one JSON line per sample") boolean json;
    @Mixin ClusterOption cluster;

    /** Prompts per chunk of the generation backend: whole prompts, about {@value #CHUNK_ROWS} sequences. */
    static final int CHUNK_ROWS = 32;

    @Override
    public Integer call() throws Exception {
        List<Jsonl.Line> lines = input.in != null ? Jsonl.read(input.in) : List.of();
        GenerationDefaults defaults = GenerationDefaults.load(modelOptions.model);
        try (Model m = modelOptions.load()) {
            Tokenizer tok = m.tokenizer();
            List<int[]> prompts = new ArrayList<>();
            List<String> where = new ArrayList<>();   // each prompt's source, for faults: --prompt or FILE:LINE
            if (input.prompt != null) prompts.add(encode(tok, input.prompt));
            if (input.prompt != null) where.add("--prompt");
            for (Jsonl.Line line : lines) {
                prompts.add(line.has("ids") ? line.ids("ids", m.config().vocab())
                        : SftData.promptIds(line.json(), tok, chat, line::error, line::fault));
                where.add(line.file() + ":" + line.number());
            }
            GenerationConfig gc = config(defaults, System.err);   // once the input is known to be good
            checkFits(prompts, where, gc.maxTokens(), m.config().maxPositions());

            boolean stream = !json && prompts.size() == 1 && n == 1;
            StreamingDecoder sd = new StreamingDecoder(tok, false);
            long[] firstToken = {0};
            long t0 = System.nanoTime();
            Generator.Listener listener = (p, s, id) -> {
                if (firstToken[0] == 0) firstToken[0] = System.nanoTime();
                if (stream) System.out.print(sd.push(id));
                if (stream) System.out.flush();
            };
            // prompt p draws from stream p; chunks of whole prompts, decoded here or on the cluster's workers
            int[] streams = new int[prompts.size()];
            for (int p = 0; p < streams.length; p++) streams[p] = p;
            List<Completion> out = new ArrayList<>();
            try (ClusterOption.Backend gen = cluster.open(System.err)) {
                List<Chunk> chunks = Chunk.split(prompts, streams, Math.max(1, CHUNK_ROWS / n));
                int per = chunks.getFirst().prompts().size();
                gen.generation().generate(Policy.of(m), chunks, gc, listener, (c, cs) -> {
                    for (Completion x : cs) out.add(new Completion(c * per + x.promptIndex(), x.sample(), x.ids(), x.logprobs(), x.text(),
                            x.reasoning(), x.answer(), x.finish(), x.reasoningTokens()));
                });
            }
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

    /** The model's generation defaults with the flags on top; says on {@code err} what is in effect and what cannot matter. */
    GenerationConfig config(GenerationDefaults d, PrintStream err) {
        float t = temperature != null ? temperature : d.samples() ? d.temperature() : 0f;
        float p = topP != null ? topP : d.topP();
        int k = topK != null ? topK : d.topK();
        int max = maxTokens != null ? maxTokens : d.maxNewTokens() != null ? d.maxNewTokens() : GenerationConfig.DEFAULT_MAX_TOKENS;
        Sampler sampler = t == 0 ? Sampler.greedy() : new Sampler(t, p, k);
        String from = temperature == null && topP == null && topK == null ? " (" + GenerationDefaults.FILE + ")" : "";
        if (t == 0) {
            err.println("decoding: greedy" + (temperature == null ? " (" + GenerationDefaults.FILE + (d == GenerationDefaults.TRANSFORMERS
                    ? ": none, transformers' default do_sample false)" : ": do_sample " + d.doSample() + ")") : ""));
            if (topP != null || topK != null) err.println("note: --top-p and --top-k have no effect with greedy decoding (give --temperature to sample)");
            if (n > 1) err.println("warning: --n " + n + " with greedy decoding gives " + n + " identical samples (give --temperature to sample)");
        } else {
            err.printf(Locale.ROOT, "decoding: sampled, temperature %s, top-p %s, top-k %d%s%n", t, p, k, from);
        }
        return new GenerationConfig(max, sampler, n, seed, ignoreEos, stop, thinkBudget);
    }

    /**
     * Refuses, naming the prompt's line and the setting, a prompt that is empty or whose tokens plus the max new tokens
     * exceed the model's context (as vLLM does; transformers only warns and then fails mid-generation).
     */
    private void checkFits(List<int[]> prompts, List<String> where, int max, int context) {
        String setting = maxTokens != null ? "--max-tokens" : "max new tokens";
        for (int i = 0; i < prompts.size(); i++) {
            int len = prompts.get(i).length;
            if (len == 0) throw new IllegalArgumentException(where.get(i) + ": the prompt is empty");
            if (len + (long) max > context)
                throw new IllegalArgumentException(where.get(i) + ": " + len + " prompt tokens + " + setting + " " + max
                        + " exceed the model's context of " + context + " (config.json max_position_embeddings)"
                        + (len < context ? "; at most " + (context - len) + " new tokens fit" : ""));
        }
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
        r.put("finish", c.finish().name().toLowerCase(Locale.ROOT));
        r.put("tokens", c.tokens());
        r.put("reasoning_tokens", c.reasoningTokens());
        return r;
    }
}
