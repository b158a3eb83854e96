package dev.laconic.examples;

// README: begin (README.md, "Use from Java", quotes the lines from here to the end marker; ReadmeExampleTest checks it)
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.TextListener.Part;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.List;

/** java Chat MODEL_DIR "question" [max tokens]: streams the reasoning to stderr and the answer to stdout. */
public class Chat {
    public static void main(String[] args) throws Exception {
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        try (Model model = Model.load(Path.of(args[0]))) {
            Tokenizer tok = model.tokenizer();
            int[] prompt = ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(args[1])), true);
            GenerationConfig config = GenerationConfig.builder()
                    .maxTokens(maxTokens).temperature(0.6).topP(0.95).thinkBudget(maxTokens / 2).build();
            Generator.of(model.transformer(), tok).generate(List.of(prompt), config, tok,
                    (p, sample, part, text) -> (part == Part.REASONING ? System.err : System.out).print(text));
            System.out.println();
        }
    }
}
// README: end
