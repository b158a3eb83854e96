package dev.laconic.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.DecodeEngine;
import dev.laconic.transformer.generate.GenerationDefaults;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.TextListener.Part;
import dev.laconic.transformer.generate.TextSplitter;
import dev.laconic.transformer.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server over one model ({@code ./laconic serve}): {@code GET /v1/models},
 * {@code POST /v1/chat/completions}, {@code POST /v1/completions} (streamed as server-sent events or not),
 * {@code GET /health}, {@code GET /metrics} (Prometheus text).
 *
 * <p>Threads: the JDK's {@link HttpServer} runs each exchange on a virtual thread, which checks the request, submits
 * its prompts to the {@link DecodeEngine} and waits on a queue of its tokens; one platform thread, the decoder, owns
 * the model and steps the engine (continuous batching: a request joins at the next step, a finished or dropped one
 * leaves). A streaming client that goes away has its sequences cancelled at the next write. Every fault in a request
 * is answered with OpenAI's error object and never reaches the decoder.
 */
final class OpenAiServer {
    /**
     * @param modelName       the id clients send as {@code model} (and /v1/models lists)
     * @param defaultMaxTokens max tokens of a request without max_tokens (capped at the context left after the prompt)
     * @param keepAlive       an SSE comment after this long without an event
     */
    record Options(String host, int port, String apiKey, int maxBatch, String modelName, int defaultMaxTokens,
                   long maxBodyBytes, Duration keepAlive) {}

    private final Model model;
    private final Tokenizer tok;
    private final Generator gen;
    private final GenerationDefaults defaults;
    private final Options opt;
    private final DecodeEngine engine;
    private final HttpServer http;
    private final ExecutorService exchanges = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread decoder;
    private final PrintStream log;
    private final long created = System.currentTimeMillis() / 1000;
    private final Set<DecodeEngine.Request> active = ConcurrentHashMap.newKeySet();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining, stopped;

    // metrics
    private final long startNanos = System.nanoTime();
    private final AtomicLong requests = new AtomicLong(), answers = new AtomicLong(), cancelled = new AtomicLong(),
            promptTokens = new AtomicLong(), completionTokens = new AtomicLong(), reasoningTokens = new AtomicLong();
    private volatile long busyNanos;

    private OpenAiServer(Model model, GenerationDefaults defaults, Options opt, PrintStream log) throws IOException {
        this.model = model;
        this.tok = model.tokenizer();
        this.gen = Generator.of(model.transformer(), tok);
        this.defaults = defaults;
        this.opt = opt;
        this.log = log;
        this.engine = new DecodeEngine(gen, opt.maxBatch());
        this.http = HttpServer.create(new InetSocketAddress(opt.host(), opt.port()), 0);
        http.createContext("/", this::handle);
        http.setExecutor(exchanges);
        this.decoder = new Thread(this::decodeLoop, "laconic-decoder");
    }

    /** Binds and starts serving (port 0: an ephemeral port, see {@link #port()}). */
    static OpenAiServer start(Model model, GenerationDefaults defaults, Options opt, PrintStream log) throws IOException {
        OpenAiServer s = new OpenAiServer(model, defaults, opt, log);
        s.decoder.start();
        s.http.start();
        return s;
    }

    int port() { return http.getAddress().getPort(); }

    /**
     * Graceful shutdown (SIGTERM): new requests get 503, in-flight ones get up to {@code grace} to finish, then the
     * rest are cut (each choice ends with finish_reason "abort", a stream with its final chunks and [DONE]); then the
     * listener closes and the decoder stops.
     */
    void shutdown(Duration grace) {
        draining = true;
        long end = System.nanoTime() + grace.toNanos();
        while (!active.isEmpty() && System.nanoTime() < end) sleep(20);
        for (DecodeEngine.Request r : active) r.cancel();
        long cut = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (inFlight.get() > 0 && System.nanoTime() < cut) sleep(20);
        http.stop(0);
        stopped = true;
        decoder.interrupt();
        try {
            decoder.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchanges.shutdownNow();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The decoder thread: steps the engine while there is work; a fault in a step fails the requests then live, not the server. */
    private void decodeLoop() {
        while (!stopped) {
            try {
                if (engine.idle()) {
                    engine.awaitWork(200, TimeUnit.MILLISECONDS);
                    continue;
                }
                long t0 = System.nanoTime();
                engine.step();
                busyNanos += System.nanoTime() - t0;
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                log.println("error: decoding step failed, its requests are answered 500: " + e);
                engine.failAll(e);
            }
        }
        engine.cancelAll();
    }

    // ---- routing ------------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        inFlight.incrementAndGet();
        try (ex) {
            try {
                route(ex);
            } catch (ApiError e) {
                sendError(ex, e);
            } catch (IOException e) {
                // the client went away: nothing to answer
            } catch (Throwable e) {
                log.println("error: " + ex.getRequestMethod() + " " + ex.getRequestURI() + ": " + e);
                sendError(ex, ApiError.internal(e));
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod(), path = ex.getRequestURI().getPath();
        if (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        switch (path) {
            case "/health" -> {
                only("GET", method, path);
                if (draining) throw ApiError.unavailable("The server is shutting down.");
                sendJson(ex, 200, Map.of("status", "ok"));
            }
            case "/metrics" -> {
                only("GET", method, path);
                send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics().getBytes(StandardCharsets.UTF_8));
            }
            case "/v1/models" -> {
                authorize(ex);
                only("GET", method, path);
                sendJson(ex, 200, Map.of("object", "list", "data", List.of(modelCard())));
            }
            case "/v1/chat/completions", "/v1/completions" -> {
                authorize(ex);
                only("POST", method, path);
                complete(ex, path.equals("/v1/chat/completions"));
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    authorize(ex);
                    only("GET", method, path);
                    String id = path.substring("/v1/models/".length());
                    if (!id.equals(opt.modelName())) throw ApiError.unknownModel(id);
                    sendJson(ex, 200, modelCard());
                } else {
                    throw ApiError.notFound(method, path);
                }
            }
        }
    }

    private static void only(String allowed, String method, String path) {
        if (!allowed.equals(method)) throw ApiError.methodNotAllowed(method, path);
    }

    private void authorize(HttpExchange ex) {
        if (opt.apiKey() == null) return;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] want = ("Bearer " + opt.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (h == null || !MessageDigest.isEqual(want, h.getBytes(StandardCharsets.UTF_8))) throw ApiError.unauthorized();
    }

    private Map<String, Object> modelCard() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", opt.modelName());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "laconic");
        m.put("max_model_len", model.config().maxPositions());
        return m;
    }

    // ---- completions --------------------------------------------------------------------------------------------

    /** A token, a finished sample, or a failed engine, for the exchange waiting on the queue. */
    private record Event(int choice, int id, float logprob, Completion done, Throwable failed) {}

    private void complete(HttpExchange ex, boolean chat) throws IOException {
        JsonNode body = readJson(ex);
        ApiRequest req = ApiRequest.parse(body, chat, tok, defaults, model.config().vocab());
        if (req.model() != null && !req.model().equals(opt.modelName())) throw ApiError.unknownModel(req.model());
        if (draining) throw ApiError.unavailable("The server is shutting down.");
        requests.incrementAndGet();

        int n = req.gc().samples(), context = model.config().maxPositions();
        List<Choice> choices = new ArrayList<>();
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<DecodeEngine.Request> submitted = new ArrayList<>();
        int prompts = 0;
        try {
            for (int p = 0; p < req.prompts().size(); p++) {
                int[] prompt = req.prompts().get(p);
                for (int s = 0; s < n; s++)
                    choices.add(new Choice(gen.splitter(tok, prompt), req.gc().stop(), req.logprobs()));
                final int base = p * n;
                DecodeEngine.Request r;
                try {
                    r = engine.submit(p, prompt, 0, req.configFor(prompt, opt.defaultMaxTokens(), context), new DecodeEngine.Sink() {
                        @Override public void token(int sample, int id, float logprob) { events.add(new Event(base + sample, id, logprob, null, null)); }
                        @Override public void finished(Completion c) { events.add(new Event(base + c.sample(), -1, 0, c, null)); }
                    });
                } catch (DecodeEngine.ContextLengthExceeded e) {
                    throw ApiError.contextLength(e.context, e.promptTokens, e.maxTokens);
                }
                r.result().whenComplete((v, e) -> { if (e != null) events.add(new Event(-1, -1, 0, null, e)); });
                submitted.add(r);
                active.add(r);
                prompts += prompt.length;
            }
            promptTokens.addAndGet(prompts);
            Response out = new Response(ex, chat, req, choices, prompts);
            out.run(events);
        } finally {
            for (DecodeEngine.Request r : submitted) {
                r.cancel();                 // a no-op for a finished request; drops the rest (the client went away)
                active.remove(r);
            }
        }
    }

    /** One choice's text as it arrives: reasoning and content apart, the tail held back while it may be a stop string. */
    private final class Choice {
        final TextSplitter splitter;
        final StringBuilder[] text = {new StringBuilder(), new StringBuilder()};   // by Part: reasoning, content
        final int[] sent = new int[2];
        final List<String> stops;
        final int hold;                                                              // the longest stop string
        final List<Map<String, Object>> logprobs;
        int logprobsSent;
        Completion done;

        Choice(TextSplitter splitter, List<String> stops, boolean logprobs) {
            this.splitter = splitter;
            this.stops = stops;
            int hold = 0;
            for (String s : stops) hold = Math.max(hold, s.length());
            this.hold = hold;
            this.logprobs = logprobs ? new ArrayList<>() : null;
        }

        void token(int id, float lp) {
            splitter.push(id, (part, t) -> text[part.ordinal()].append(t));
            if (logprobs != null) {
                byte[] bytes = tok.decodeBytes(new int[]{id}, false);
                int[] b = new int[bytes.length];
                for (int i = 0; i < b.length; i++) b[i] = bytes[i] & 0xFF;
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("token", tok.decode(new int[]{id}, false));
                e.put("logprob", lp);
                e.put("bytes", b);
                e.put("top_logprobs", List.of());
                logprobs.add(e);
            }
        }

        void finish(Completion c) {
            splitter.finish((part, t) -> text[part.ordinal()].append(t));
            done = c;
            // the stop string and what follows it are not part of the answer (OpenAI, vLLM); the engine stopped at its
            // first occurrence, which is in the reasoning or else in the content
            if (c.finish() == Completion.Finish.STOP)
                for (StringBuilder part : text) {
                    int cut = firstStop(part);
                    if (cut >= 0) {
                        part.setLength(cut);
                        if (part == text[0]) text[1].setLength(0);
                        break;
                    }
                }
        }

        private int firstStop(StringBuilder b) {
            int first = -1;
            for (String s : stops) {
                int i = b.indexOf(s);
                if (i >= 0 && (first < 0 || i < first)) first = i;
            }
            return first;
        }

        /** The part's text not sent yet, all of it once done, else all but the last {@code hold} characters. */
        String take(Part part) {
            StringBuilder b = text[part.ordinal()];
            int from = sent[part.ordinal()], end = done != null ? b.length() : b.length() - hold;
            if (end > from && end < b.length() && Character.isHighSurrogate(b.charAt(end - 1))) end--;
            if (end <= from) return "";
            sent[part.ordinal()] = end;
            return b.substring(from, end);
        }

        List<Map<String, Object>> takeLogprobs() {
            List<Map<String, Object>> l = new ArrayList<>(logprobs.subList(logprobsSent, logprobs.size()));
            logprobsSent = logprobs.size();
            return l;
        }

        String finishReason() {
            return switch (done.finish()) {
                case EOS, STOP -> "stop";
                case LENGTH -> "length";
                case CANCELLED -> "abort";   // vLLM's reason for a request cut short
            };
        }
    }

    /** Writes one request's answer: as server-sent events while the tokens come, or as one JSON object at the end. */
    private final class Response {
        final HttpExchange ex;
        final boolean chat;
        final ApiRequest req;
        final List<Choice> choices;
        final int prompts;
        final String id;
        final long createdAt = System.currentTimeMillis() / 1000;
        OutputStream sse;

        Response(HttpExchange ex, boolean chat, ApiRequest req, List<Choice> choices, int prompts) {
            this.ex = ex;
            this.chat = chat;
            this.req = req;
            this.choices = choices;
            this.prompts = prompts;
            this.id = (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        }

        void run(BlockingQueue<Event> events) throws IOException {
            if (req.stream()) {
                ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
                ex.getResponseHeaders().set("Cache-Control", "no-cache");
                ex.sendResponseHeaders(200, 0);
                sse = ex.getResponseBody();
                if (chat) for (int i = 0; i < choices.size(); i++) event(chunk(i, Map.of("role", "assistant", "content", ""), null, null));
            }
            int remaining = choices.size();
            while (remaining > 0) {
                Event e;
                try {
                    e = events.poll(opt.keepAlive().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
                if (e == null) {
                    if (sse != null) write(": keep-alive\n\n");
                    continue;
                }
                if (e.failed() != null) {
                    if (sse == null) throw ApiError.internal(e.failed());
                    event(Map.of("error", ApiError.internal(e.failed()).body().get("error")));
                    break;
                }
                Choice c = choices.get(e.choice());
                if (e.done() == null) c.token(e.id(), e.logprob());
                else {
                    c.finish(e.done());
                    count(e.done());
                    remaining--;
                }
                if (sse != null) delta(e.choice(), c);
            }
            if (sse != null) {
                if (req.includeUsage()) {
                    Map<String, Object> last = head(chat ? "chat.completion.chunk" : "text_completion");
                    last.put("choices", List.of());
                    last.put("usage", usage());
                    event(last);
                }
                write("data: [DONE]\n\n");
            } else {
                sendJson(ex, 200, whole());
            }
        }

        private void count(Completion c) {
            if (c.finish() == Completion.Finish.CANCELLED) { cancelled.incrementAndGet(); return; }
            answers.incrementAndGet();
            completionTokens.addAndGet(c.tokens());
            reasoningTokens.addAndGet(c.reasoningTokens());
        }

        /** The choice's new text (and its finish) as one chunk, or nothing when there is none yet. */
        private void delta(int i, Choice c) throws IOException {
            String reasoning = c.take(Part.REASONING), content = c.take(Part.ANSWER);
            String reason = c.done != null ? c.finishReason() : null;
            if (reasoning.isEmpty() && content.isEmpty() && reason == null) return;
            Object lp = c.logprobs == null ? null : chat ? Map.of("content", c.takeLogprobs()) : completionLogprobs(c.takeLogprobs());
            if (chat) {
                Map<String, Object> d = new LinkedHashMap<>();
                if (!reasoning.isEmpty()) d.put("reasoning_content", reasoning);
                if (!content.isEmpty()) d.put("content", content);
                event(chunk(i, d, lp, reason));
            } else {
                event(chunk(i, reasoning + content, lp, reason));
            }
        }

        private Map<String, Object> chunk(int i, Object delta, Object logprobs, String finish) {
            Map<String, Object> choice = new LinkedHashMap<>();
            choice.put("index", i);
            if (chat) choice.put("delta", delta);
            else choice.put("text", delta);
            choice.put("logprobs", logprobs);
            choice.put("finish_reason", finish);
            Map<String, Object> m = head(chat ? "chat.completion.chunk" : "text_completion");
            m.put("choices", List.of(choice));
            return m;
        }

        private Map<String, Object> whole() {
            List<Map<String, Object>> out = new ArrayList<>();
            for (int i = 0; i < choices.size(); i++) {
                Choice c = choices.get(i);
                String reasoning = c.take(Part.REASONING), content = c.take(Part.ANSWER);
                Map<String, Object> choice = new LinkedHashMap<>();
                choice.put("index", i);
                if (chat) {
                    Map<String, Object> msg = new LinkedHashMap<>();
                    msg.put("role", "assistant");
                    msg.put("content", content);
                    msg.put("reasoning_content", reasoning.isEmpty() && c.done.reasoningTokens() == 0 ? null : reasoning);
                    choice.put("message", msg);
                    choice.put("logprobs", c.logprobs == null ? null : Map.of("content", c.takeLogprobs()));
                } else {
                    choice.put("text", reasoning + content);
                    choice.put("logprobs", c.logprobs == null ? null : completionLogprobs(c.takeLogprobs()));
                }
                choice.put("finish_reason", c.finishReason());
                out.add(choice);
            }
            Map<String, Object> m = head(chat ? "chat.completion" : "text_completion");
            m.put("choices", out);
            m.put("usage", usage());
            return m;
        }

        private Map<String, Object> completionLogprobs(List<Map<String, Object>> entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokens", entries.stream().map(e -> e.get("token")).toList());
            m.put("token_logprobs", entries.stream().map(e -> e.get("logprob")).toList());
            m.put("top_logprobs", null);
            return m;
        }

        private Map<String, Object> head(String object) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("object", object);
            m.put("created", createdAt);
            m.put("model", opt.modelName());
            return m;
        }

        private Map<String, Object> usage() {
            int completion = 0, reasoning = 0;
            for (Choice c : choices) {
                completion += c.done.tokens();
                reasoning += c.done.reasoningTokens();
            }
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("prompt_tokens", prompts);
            u.put("completion_tokens", completion);
            u.put("total_tokens", prompts + completion);
            u.put("completion_tokens_details", Map.of("reasoning_tokens", reasoning));
            return u;
        }

        private void event(Map<String, Object> data) throws IOException {
            write("data: " + Jsonl.JSON.writeValueAsString(data) + "\n\n");
        }

        /** One event, flushed at once (so the client sees it now); a failed write means the client went away. */
        private void write(String s) throws IOException {
            sse.write(s.getBytes(StandardCharsets.UTF_8));
            sse.flush();
        }
    }

    // ---- metrics ------------------------------------------------------------------------------------------------

    /**
     * Prometheus text: counters since start, the mean reasoning tokens per answer, and answers and completion tokens
     * per second of decoding (the time the decoder had work, so idle time does not dilute the rates).
     */
    String metrics() {
        double busy = busyNanos / 1e9, up = (System.nanoTime() - startNanos) / 1e9;
        long a = answers.get();
        StringBuilder b = new StringBuilder();
        metric(b, "laconic_requests_total", "counter", "completion requests accepted", requests.get());
        metric(b, "laconic_answers_total", "counter", "choices answered to the end (not cancelled)", a);
        metric(b, "laconic_cancelled_total", "counter", "choices cut short (client gone, shutdown)", cancelled.get());
        metric(b, "laconic_prompt_tokens_total", "counter", "prompt tokens of accepted requests", promptTokens.get());
        metric(b, "laconic_completion_tokens_total", "counter", "tokens generated in answered choices", completionTokens.get());
        metric(b, "laconic_reasoning_tokens_total", "counter", "of those, tokens inside the thinking block", reasoningTokens.get());
        metric(b, "laconic_mean_reasoning_tokens_per_answer", "gauge", "reasoning tokens per answered choice", a == 0 ? 0 : (double) reasoningTokens.get() / a);
        metric(b, "laconic_mean_completion_tokens_per_answer", "gauge", "completion tokens per answered choice", a == 0 ? 0 : (double) completionTokens.get() / a);
        metric(b, "laconic_answers_per_second", "gauge", "answered choices per second of decoding", busy == 0 ? 0 : a / busy);
        metric(b, "laconic_tokens_per_second", "gauge", "completion tokens per second of decoding", busy == 0 ? 0 : completionTokens.get() / busy);
        metric(b, "laconic_sequences_running", "gauge", "sequences in the decoding batch", engine.live());
        metric(b, "laconic_requests_waiting", "gauge", "requests waiting to join the batch", engine.waiting());
        metric(b, "laconic_busy_seconds_total", "counter", "seconds the decoder had work", busy);
        metric(b, "laconic_uptime_seconds", "gauge", "seconds since the server started", up);
        return b.toString();
    }

    private static void metric(StringBuilder b, String name, String type, String help, double value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        b.append(name).append(' ').append(value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.6g", value)).append('\n');
    }

    // ---- bodies -------------------------------------------------------------------------------------------------

    /** The body as JSON: 413 past the limit (what is left of it read and dropped up to 64 MiB), 400 where it does not parse. */
    private JsonNode readJson(HttpExchange ex) throws IOException {
        long limit = opt.maxBodyBytes();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        boolean over = false;
        long total = 0;
        try (InputStream in = ex.getRequestBody()) {
            byte[] chunk = new byte[16384];
            for (int r; (r = in.read(chunk)) > 0; ) {
                total += r;
                if (total > limit) over = true;
                if (!over) buf.write(chunk, 0, r);
                if (total > 64L << 20) break;
            }
        }
        if (over) throw ApiError.tooLarge(limit);
        try {
            JsonNode n = Jsonl.JSON.readTree(buf.toByteArray());
            if (n == null || n.isMissingNode()) throw ApiError.badField(null, "The request body is empty; expected a JSON object.");
            return n;
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw ApiError.badField(null, "The body is not valid JSON" + (loc == null ? "" : " (line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + ")") + ": " + e.getOriginalMessage());
        }
    }

    private void sendError(HttpExchange ex, ApiError e) {
        try {
            if (ex.getResponseCode() != -1) return;   // headers gone: a stream ends by its own error event
            if (e.status == 401) ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            sendJson(ex, e.status, e.body());
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json", Jsonl.JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(bytes);
        }
    }
}
