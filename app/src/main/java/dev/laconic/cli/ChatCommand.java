package dev.laconic.cli;

import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.DecodeEngine;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.GenerationDefaults;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.TextListener.Part;
import dev.laconic.transformer.generate.TextSplitter;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "A conversation in the terminal: each line you type is a user turn; the answer streams, its reasoning apart "
                + "(dimmed on a terminal, between [thinking] and [answer] lines otherwise, or folded to a token count).",
        "Earlier answers stay in the conversation without their thinking, as the R1 chat template keeps them. "
                + "Sampling follows the model's generation_config.json; the flags override it.",
        "Commands: /budget N (thinking tokens before </think> is forced; -1 = none), /reset (forget the conversation), "
                + "/save FILE (the conversation as {\"messages\": [...]} JSON), /help, /exit. Ctrl-C stops the answer being "
                + "written (the program when none is); end of input ends the program."})
public final class ChatCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = "--system", description = "system prompt (default: none, as DeepSeek advises for R1)") String system;
    @Option(names = "--max-tokens", description = "completion tokens per answer, capped at the context left (default: "
            + "generation_config.json's max_new_tokens, else " + ServeCommand.DEFAULT_MAX_TOKENS + ")") Integer maxTokens;
    @Option(names = "--temperature", description = "0 = greedy (default: generation_config.json's temperature when its do_sample "
            + "is true, else 0)") Double temperature;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed; turn k draws from stream k (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--think-budget", defaultValue = "-1", description = "thinking tokens before </think> is forced, "
            + "also /budget N (default: ${DEFAULT-VALUE}, none)") int budget;
    @Option(names = "--thinking", defaultValue = "show", description = "show (the reasoning as it comes), fold (only its token "
            + "count) (default: ${DEFAULT-VALUE})") String thinking;

    private static final String DIM = "\033[2m", RESET = "\033[0m";

    private volatile DecodeEngine.Request current;

    @Override
    public Integer call() throws Exception {
        if (!thinking.equals("show") && !thinking.equals("fold"))
            throw new IllegalArgumentException("--thinking must be show or fold, not " + thinking);
        GenerationDefaults defaults = GenerationDefaults.load(modelOptions.model);
        try (Model m = modelOptions.load()) {
            Tokenizer tok = m.tokenizer();
            GenerationConfig.Builder b = GenerationConfig.of(defaults).toBuilder().seed(seed);
            if (temperature != null) b.temperature(temperature);
            GenerationConfig base = b.build();
            int defaultMax = maxTokens != null ? maxTokens : defaults.maxNewTokens() != null ? defaults.maxNewTokens() : ServeCommand.DEFAULT_MAX_TOKENS;
            boolean tty = System.console() != null && System.console().isTerminal();
            Session s = new Session(m, tok, base, defaultMax, tty, System.out);
            installInterrupt();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (tty) System.out.println("laconic chat: " + modelOptions.model + " (/help for commands, Ctrl-D to leave)");
            while (true) {
                if (tty) {
                    System.out.print("> ");
                    System.out.flush();
                }
                String line = in.readLine();
                if (line == null) break;
                if (!s.handle(line.strip())) break;
            }
        }
        return 0;
    }

    /** Ctrl-C: cancels the answer being decoded; with none, ends the program (the JVM's own behaviour). */
    private void installInterrupt() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                DecodeEngine.Request r = current;
                if (r == null) System.exit(130);
                r.cancel();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no SIGINT on this platform or the JVM keeps it: Ctrl-C ends the program
        }
    }

    /** The conversation and how answers are made and shown. */
    final class Session {
        final Model model;
        final Tokenizer tok;
        final Generator gen;
        final int defaultMax;
        final boolean tty;
        final PrintStream out;
        final List<ChatTemplate.Message> messages = new ArrayList<>();
        GenerationConfig gc;
        int turn;

        Session(Model model, Tokenizer tok, GenerationConfig gc, int defaultMax, boolean tty, PrintStream out) {
            this.model = model;
            this.tok = tok;
            this.gen = Generator.of(model.transformer(), tok);
            this.gc = gc.toBuilder().thinkBudget(budget).build();
            this.defaultMax = defaultMax;
            this.tty = tty;
            this.out = out;
            reset();
        }

        void reset() {
            messages.clear();
            if (system != null) messages.add(new ChatTemplate.Message(ChatTemplate.Role.SYSTEM, system, null));
        }

        /** One input line: a command or a user turn; false to end the program. */
        boolean handle(String line) throws IOException {
            if (line.isEmpty()) return true;
            if (!line.startsWith("/")) {
                answer(line);
                return true;
            }
            String[] w = line.split("\\s+", 2);
            String arg = w.length > 1 ? w[1].strip() : "";
            switch (w[0]) {
                case "/exit", "/quit" -> { return false; }
                case "/reset" -> {
                    reset();
                    out.println("(conversation cleared)");
                }
                case "/budget" -> {
                    try {
                        int n = arg.equals("off") ? -1 : Integer.parseInt(arg);
                        if (n < -1) throw new NumberFormatException();
                        gc = gc.toBuilder().thinkBudget(n).build();
                        out.println(n < 0 ? "(thinking budget: none)" : "(thinking budget: " + n + " tokens)");
                    } catch (NumberFormatException e) {
                        out.println("error: /budget takes a token count ≥ 0, or -1 / off for none, not '" + arg + "'");
                    }
                }
                case "/save" -> {
                    if (arg.isEmpty()) out.println("error: /save needs a file name");
                    else save(Path.of(arg));
                }
                case "/help" -> out.println("/budget N  thinking tokens before </think> is forced (-1 or off: none)\n"
                        + "/reset     forget the conversation\n/save FILE the conversation as {\"messages\": [...]} JSON\n/exit      leave");
                default -> out.println("error: unknown command " + w[0] + " (/help lists them)");
            }
            return true;
        }

        private void save(Path file) {
            List<Map<String, Object>> ms = new ArrayList<>();
            for (ChatTemplate.Message msg : messages) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("role", msg.role().name().toLowerCase(Locale.ROOT));
                o.put("content", msg.content());
                ms.add(o);
            }
            try {
                Files.writeString(file, Jsonl.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("messages", ms)) + "\n");
                out.println("(saved " + ms.size() + " messages to " + file + ")");
            } catch (IOException e) {
                out.println("error: " + file + ": cannot write: " + e.getMessage());
            }
        }

        /** Decodes the answer to a user turn, streaming it; an interrupted answer is kept as far as it got. */
        void answer(String text) {
            messages.add(ChatTemplate.Message.user(text));
            int[] prompt = ChatTemplate.of(tok).encode(tok, messages, true);
            int context = model.config().maxPositions();
            GenerationConfig g = gc.withMaxTokens(Math.max(1, Math.min(defaultMax, context - prompt.length)));
            DecodeEngine engine = new DecodeEngine(gen, g.samples());
            TextSplitter split = gen.splitter(tok, prompt);
            Shown shown = new Shown(split.thinking());
            DecodeEngine.Request r;
            try {
                r = engine.submit(0, prompt, turn, g, (sample, id, lp) -> split.push(id, shown::text));
            } catch (DecodeEngine.ContextLengthExceeded e) {
                messages.removeLast();
                out.println("error: the conversation no longer fits the model's context (" + e.getMessage() + "); /reset starts over");
                return;
            }
            current = r;
            try {
                while (engine.step()) { }
            } finally {
                current = null;
            }
            split.finish(shown::text);
            Completion c = r.result().join().getFirst();
            shown.end(c);
            messages.add(new ChatTemplate.Message(ChatTemplate.Role.ASSISTANT, shown.answer.toString(), null));   // the text shown, special tokens left out
            turn++;
        }

        /** Writes an answer's text as it comes: the reasoning dimmed (terminal), labelled (not), or folded to a count. */
        final class Shown {
            final StringBuilder answer = new StringBuilder();
            Part part;

            final boolean fold = thinking.equals("fold");

            /** @param reasoningFirst whether the prompt opened a thinking block */
            Shown(boolean reasoningFirst) {
                if (reasoningFirst && !fold) open(Part.REASONING);
            }

            void text(Part p, String t) {
                if (p == Part.ANSWER) answer.append(t);
                if (p == Part.REASONING && fold) return;
                if (p != part) open(p);
                out.print(t);
                out.flush();
            }

            private void open(Part p) {
                if (part == Part.REASONING) out.print(tty ? RESET + "\n" : "\n");
                part = p;
                if (p == Part.REASONING) out.print(tty ? DIM : "[thinking]\n");
                else if (!tty) out.print("[answer]\n");
            }

            void end(Completion c) {
                if (part == Part.REASONING) out.print(tty ? RESET : "");
                out.println();
                List<String> notes = new ArrayList<>();
                if (fold && c.reasoningTokens() > 0) notes.add("thought for " + c.reasoningTokens() + " tokens");
                if (c.finish() == Completion.Finish.CANCELLED) notes.add("stopped");
                else if (c.finish() == Completion.Finish.LENGTH) notes.add("cut at " + c.tokens() + " tokens");
                if (!notes.isEmpty()) out.println(tty ? DIM + "(" + String.join(", ", notes) + ")" + RESET : "(" + String.join(", ", notes) + ")");
                out.flush();
            }
        }
    }
}
