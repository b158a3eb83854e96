package dev.laconic.cli;

import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.GenerationDefaults;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Serve the model over the OpenAI API: GET /v1/models, POST /v1/chat/completions, POST /v1/completions "
                + "(\"stream\": true for server-sent events), GET /health, GET /metrics (Prometheus text).",
        "Concurrent requests decode together (continuous batching). Chat answers carry message.reasoning_content apart "
                + "from message.content; the request field \"thinking_budget\": N closes </think> after N thinking tokens. "
                + "Sampling defaults come from the model's generation_config.json; request fields override them.",
        "SIGTERM (or Ctrl-C) stops taking requests, lets those in flight finish for --grace seconds, then cuts them."})
public final class ServeCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin ModelOptions modelOptions;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on; loopback unless you give another, "
            + "e.g. 0.0.0.0 for every interface (default: ${DEFAULT-VALUE})") String host;
    @Option(names = "--port", defaultValue = "8000", description = "port, 0 = any free one (default: ${DEFAULT-VALUE}, vLLM's)") int port;
    @Option(names = "--api-key", description = "require the header Authorization: Bearer KEY on /v1 (default: none; "
            + "also read from LACONIC_API_KEY)") String apiKey;
    @Option(names = "--served-model-name", description = "the model id clients send and /v1/models lists (default: the "
            + "model directory's name)") String modelName;
    @Option(names = "--max-batch", defaultValue = "16", description = "sequences decoded together at most (vLLM's max_num_seqs); "
            + "more wait their turn (default: ${DEFAULT-VALUE})") int maxBatch;
    @Option(names = "--max-tokens", description = "completion tokens of a request without max_tokens, capped at the context left after "
            + "its prompt (default: generation_config.json's max_new_tokens, else " + DEFAULT_MAX_TOKENS + "; each sequence's KV cache "
            + "is allocated for prompt + max tokens)") Integer maxTokens;
    @Option(names = "--max-body", defaultValue = "4194304", description = "largest request body in bytes, larger is answered 413 "
            + "(default: ${DEFAULT-VALUE})") long maxBody;
    @Option(names = "--grace", defaultValue = "30", description = "seconds in-flight requests get to finish on SIGTERM "
            + "(default: ${DEFAULT-VALUE})") int grace;

    /** Max tokens of a request that gives none, without max_new_tokens in generation_config.json. */
    static final int DEFAULT_MAX_TOKENS = 4096;

    @Override
    public Integer call() throws Exception {
        if (maxBatch < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-batch must be ≥ 1, not " + maxBatch);
        if (port < 0 || port > 65535) throw new CommandLine.ParameterException(spec.commandLine(), "--port must be in [0, 65535], not " + port);
        if (maxTokens != null && maxTokens < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-tokens must be ≥ 1, not " + maxTokens);
        String key = apiKey != null ? apiKey : System.getenv("LACONIC_API_KEY");
        GenerationDefaults defaults = GenerationDefaults.load(modelOptions.model);
        int max = maxTokens != null ? maxTokens : defaults.maxNewTokens() != null ? defaults.maxNewTokens() : DEFAULT_MAX_TOKENS;
        String name = modelName != null ? modelName : modelOptions.model.toAbsolutePath().normalize().getFileName().toString();
        Model m = modelOptions.load();
        OpenAiServer.Options opt = new OpenAiServer.Options(host, port, key, maxBatch, name, max, maxBody, Duration.ofSeconds(15));
        OpenAiServer server = OpenAiServer.start(m, defaults, opt, System.err);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("laconic serve: shutting down (in-flight requests get " + grace + " s)");
            server.shutdown(Duration.ofSeconds(grace));
            m.close();
            stopped.countDown();
        }, "laconic-shutdown"));
        if (!InetAddress.getByName(host).isLoopbackAddress())
            System.err.println("warning: listening on " + host + ", reachable from other machines" + (key == null ? " without an API key" : ""));
        System.err.println("laconic serve: model " + name + " at http://" + host + ":" + server.port() + "/v1 (max batch " + maxBatch
                + ", default max tokens " + max + (key != null ? ", API key required" : "") + ")");
        stopped.await();   // the shutdown hook ends the process
        return 0;
    }
}
