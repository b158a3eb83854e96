package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.Jsonl;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import dev.laconic.transformer.generate.GenerationDefaults;
import dev.laconic.transformer.generate.Generator;
import dev.laconic.transformer.generate.Sampler;
import dev.laconic.transformer.tokenizer.ChatTemplate;
import dev.laconic.transformer.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The OpenAI-compatible server on an ephemeral loopback port with the tiny golden model, through the JDK's HttpClient.
 * Answers are checked against the {@link Generator} run on the same prompt alone (the request's sampling, seed, n),
 * token by token through the returned log-probabilities.
 */
class OpenAiServerTest {
    static final String NAME = "tiny";
    static Model model;
    static Tokenizer tok;
    static Generator gen;
    static OpenAiServer server;
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        model = Model.load(ModelCommandsTest.MODEL);
        tok = model.tokenizer();
        gen = Generator.of(model.transformer(), tok);
        server = OpenAiServer.start(model, GenerationDefaults.load(ModelCommandsTest.MODEL), options(null), new PrintStream(LOG, true, StandardCharsets.UTF_8));
    }

    static OpenAiServer.Options options(String key) {
        return new OpenAiServer.Options("127.0.0.1", 0, key, 16, NAME, 64, 64 * 1024, Duration.ofMillis(200));
    }

    @AfterAll
    static void stop() {
        server.shutdown(Duration.ofSeconds(5));
        model.close();
    }

    record Reply(int status, JsonNode json, String body) {}

    static Reply post(OpenAiServer s, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = r.body().startsWith("{") ? Jsonl.JSON.readTree(r.body()) : null;
        return new Reply(r.statusCode(), j, r.body());
    }

    static Reply post(String path, String body) throws Exception {
        return post(server, path, body, null);
    }

    static Reply get(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body().startsWith("{") ? Jsonl.JSON.readTree(r.body()) : null, r.body());
    }

    static String chatBody(String user, int max, int n, long seed, String extra) {
        return "{\"model\": \"" + NAME + "\", \"messages\": [{\"role\": \"user\", \"content\": " + Jsonl.JSON.valueToTree(user)
                + "}], \"max_tokens\": " + max + ", \"n\": " + n + ", \"seed\": " + seed
                + ", \"temperature\": 1.0, \"top_p\": 0.95, \"logprobs\": true" + extra + "}";
    }

    static int[] chatPrompt(String user) {
        return ChatTemplate.of(tok).encode(tok, List.of(ChatTemplate.Message.user(user)), true);
    }

    /** The samples the generator gives the prompt alone (top-k 50: the request gives none, the model's generation_config.json neither, transformers' default). */
    static List<Completion> alone(int[] prompt, int max, int n, long seed, int budget, List<String> stop) {
        return gen.generate(List.of(prompt), new GenerationConfig(max, new Sampler(1f, 0.95f, 50), n, seed, false, stop, budget), null);
    }

    static String text(int[] ids) {
        return tok.decode(ids, true);
    }

    /** A chat choice is the completion: reasoning and content split at </think>, each token's log-probability bit for bit. */
    static void assertChoice(Completion want, JsonNode choice) {
        int[] ids = want.ids();
        int cut = -1;
        for (int i = 0; i < ids.length; i++) if (ids[i] == gen.thinkEndId()) cut = i;
        JsonNode msg = choice.get("message");
        String reasoning = cut < 0 ? text(ids) : text(Arrays.copyOf(ids, cut)), content = cut < 0 ? "" : text(Arrays.copyOfRange(ids, cut + 1, ids.length));
        assertEquals(reasoning, msg.get("reasoning_content").asText(), "reasoning");
        assertEquals(content, msg.get("content").asText(), "content");
        JsonNode lps = choice.get("logprobs").get("content");
        assertEquals(ids.length, lps.size(), "one logprob per token");
        for (int i = 0; i < ids.length; i++) {
            assertEquals(tok.decode(new int[]{ids[i]}, false), lps.get(i).get("token").asText(), "token " + i);
            assertEquals(want.logprobs()[i], (float) lps.get(i).get("logprob").asDouble(), 0f, "logprob " + i + " bit for bit");
        }
        assertEquals(want.finish() == Completion.Finish.LENGTH ? "length" : "stop", choice.get("finish_reason").asText());
    }

    @Test
    void chatAnswersAsTheGeneratorDoesAloneWithReasoningApartAndUsageCounted() throws Exception {
        Reply r = post("/v1/chat/completions", chatBody("What is 2+3?", 24, 1, 7, ", \"thinking_budget\": 5"));
        assertEquals(200, r.status(), r.body());
        assertEquals("chat.completion", r.json().get("object").asText());
        assertEquals(NAME, r.json().get("model").asText());
        int[] prompt = chatPrompt("What is 2+3?");
        Completion want = alone(prompt, 24, 1, 7, 5, List.of()).getFirst();
        assertEquals(5, want.reasoningTokens(), "the budget closed the thinking");
        assertChoice(want, r.json().get("choices").get(0));
        assertFalse(r.json().get("choices").get(0).get("message").get("content").asText().isEmpty(), "an answer after </think>");
        JsonNode u = r.json().get("usage");
        assertEquals(prompt.length, u.get("prompt_tokens").asInt());
        assertEquals(want.tokens(), u.get("completion_tokens").asInt());
        assertEquals(prompt.length + want.tokens(), u.get("total_tokens").asInt());
        assertEquals(5, u.get("completion_tokens_details").get("reasoning_tokens").asInt());
    }

    @Test
    void nSamplesAreTheGeneratorsNSamples() throws Exception {
        Reply r = post("/v1/chat/completions", chatBody("Tell me a story", 16, 3, 99, ""));
        assertEquals(200, r.status(), r.body());
        List<Completion> want = alone(chatPrompt("Tell me a story"), 16, 3, 99, -1, List.of());
        assertEquals(3, r.json().get("choices").size());
        int tokens = 0;
        for (int s = 0; s < 3; s++) {
            assertEquals(s, r.json().get("choices").get(s).get("index").asInt());
            assertChoice(want.get(s), r.json().get("choices").get(s));
            tokens += want.get(s).tokens();
        }
        assertNotEquals(want.get(0).ids().length == want.get(1).ids().length && Arrays.equals(want.get(0).ids(), want.get(1).ids()), true,
                "different samples");
        assertEquals(tokens, r.json().get("usage").get("completion_tokens").asInt());
    }

    /** The server-sent events of one request: each data line's JSON, and whether [DONE] came last. */
    record Events(List<JsonNode> chunks, boolean done) {
        String joined(int choice, String field) {
            StringBuilder b = new StringBuilder();
            for (JsonNode c : chunks)
                for (JsonNode ch : c.get("choices"))
                    if (ch.get("index").asInt() == choice) {
                        JsonNode v = field.equals("text") ? ch.get("text") : ch.get("delta").get(field);
                        if (v != null && !v.isNull()) b.append(v.asText());
                    }
            return b.toString();
        }

        String finish(int choice) {
            String f = null;
            for (JsonNode c : chunks)
                for (JsonNode ch : c.get("choices"))
                    if (ch.get("index").asInt() == choice && !ch.get("finish_reason").isNull()) {
                        assertNull(f, "one finish per choice");
                        f = ch.get("finish_reason").asText();
                    }
            return f;
        }
    }

    static Events stream(String path, String body) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = new ArrayList<>();
        boolean done = false;
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (line.isEmpty() || line.startsWith(":")) continue;
            assertFalse(done, "nothing after [DONE]");
            assertTrue(line.startsWith("data: "), line);
            String data = line.substring(6);
            if (data.equals("[DONE]")) done = true;
            else chunks.add(Jsonl.JSON.readTree(data));
        }
        return new Events(chunks, done);
    }

    @Test
    void aStreamedChatIsTheSameAnswerInDeltasEndingInDone() throws Exception {
        String body = chatBody("What is 2+3?", 24, 2, 7, ", \"thinking_budget\": 5, \"stream\": true, \"stream_options\": {\"include_usage\": true}");
        Events e = stream("/v1/chat/completions", body);
        assertTrue(e.done(), "ends in data: [DONE]");
        JsonNode whole = post("/v1/chat/completions", body.replace("\"stream\": true", "\"stream\": false")).json();
        for (int s = 0; s < 2; s++) {
            JsonNode msg = whole.get("choices").get(s).get("message");
            assertEquals(msg.get("reasoning_content").asText(), e.joined(s, "reasoning_content"));
            assertEquals(msg.get("content").asText(), e.joined(s, "content"));
            assertEquals(whole.get("choices").get(s).get("finish_reason").asText(), e.finish(s));
        }
        assertEquals("assistant", e.chunks().getFirst().get("choices").get(0).get("delta").get("role").asText());
        JsonNode last = e.chunks().getLast();
        assertEquals(0, last.get("choices").size(), "the usage chunk has no choices");
        assertEquals(whole.get("usage"), last.get("usage"));
        for (JsonNode c : e.chunks()) assertEquals("chat.completion.chunk", c.get("object").asText());
    }

    @Test
    void aStopStringEndsTheCompletionBeforeIt() throws Exception {
        int[] prompt = tok.encode("Once upon a time", true);
        List<Completion> free = gen.generate(List.of(prompt), GenerationConfig.greedy(40).toBuilder().ignoreEos(true).build(), null);
        String full = text(free.getFirst().ids());
        assertTrue(full.length() > 14, full);
        String stop = full.substring(9, 12);
        String want = full.substring(0, full.indexOf(stop));
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 40, \"temperature\": 0, \"ignore_eos\": true, \"stop\": ["
                + Jsonl.JSON.valueToTree(stop) + ", \"\\u0000never\"]";
        Reply r = post("/v1/completions", body + "}");
        assertEquals(200, r.status(), r.body());
        assertEquals("text_completion", r.json().get("object").asText());
        assertEquals(want, r.json().get("choices").get(0).get("text").asText());
        assertEquals("stop", r.json().get("choices").get(0).get("finish_reason").asText());
        Events e = stream("/v1/completions", body + ", \"stream\": true}");
        assertEquals(want, e.joined(0, "text"), "streamed: the stop string held back, never sent");
        assertEquals("stop", e.finish(0));
    }

    @Test
    void eightConcurrentRequestsGetTheBitsTheyGetAlone() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            bodies.add(chatBody("Question number " + i + (i % 3 == 0 ? " with a longer tail of words" : ""), 12 + 3 * i, 1 + i % 2, 100 + i,
                    i % 4 == 1 ? ", \"thinking_budget\": 4" : ""));
        List<JsonNode> alone = new ArrayList<>();
        for (String b : bodies) alone.add(choices(post("/v1/chat/completions", b)));
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (String b : bodies)
            together.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(b)).build(), HttpResponse.BodyHandlers.ofString()));
        for (int i = 0; i < 8; i++) {
            HttpResponse<String> r = together.get(i).join();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(alone.get(i), choices(new Reply(200, Jsonl.JSON.readTree(r.body()), r.body())), "request " + i);
        }
        // and alone is the generator's answer
        Completion want = alone(chatPrompt("Question number 5"), 27, 2, 105, 4, List.of()).get(1);
        assertChoice(want, alone.get(5).get(1));
    }

    private static JsonNode choices(Reply r) {
        assertEquals(200, r.status(), r.body());
        return r.json().get("choices");
    }

    static void assertError(Reply r, int status, String param, String code) {
        assertEquals(status, r.status(), r.body());
        JsonNode e = r.json().get("error");
        assertNotNull(e, r.body());
        assertFalse(e.get("message").asText().isEmpty());
        assertTrue(e.has("type") && e.has("param") && e.has("code"), r.body());
        if (param != null) assertEquals(param, e.get("param").asText(), r.body());
        if (code != null) assertEquals(code, e.get("code").asText(), r.body());
    }

    @Test
    void badRequestsGetOpenAisErrorObjectAndTheServerGoesOn() throws Exception {
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}"), 400, null, null);
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}"), 400, "temperature", null);
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}"), 400, "messages[0].content", null);
        assertError(post("/v1/chat/completions", "{\"messages\": []}"), 400, "messages", null);
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}"), 400, "messages[0].role", null);
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}"), 400, "max_tokens", null);
        assertError(post("/v1/completions", "{\"prompt\": [1, 2, 999]}"), 400, "prompt", null);
        assertError(post("/v1/chat/completions", "{\"model\": \"gpt-9\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"), 404, "model", "model_not_found");
        assertError(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 600}"),
                400, "messages", "context_length_exceeded");
        assertError(post("/v1/completions", "{\"prompt\": \"" + "x".repeat(100_000) + "\"}"), 413, null, "request_too_large");
        assertError(post("/v1/nothing", "{}"), 404, null, null);
        assertError(get("/v1/chat/completions"), 405, null, null);
        Reply health = get("/health");
        assertEquals(200, health.status());
        assertEquals(NAME, get("/v1/models").json().get("data").get(0).get("id").asText());
        assertTrue(get("/metrics").body().contains("laconic_mean_reasoning_tokens_per_answer"));
    }

    @Test
    void withAnApiKeyTheV1RoutesWantTheBearerKey() throws Exception {
        OpenAiServer keyed = OpenAiServer.start(model, GenerationDefaults.TRANSFORMERS, options("sesame"), new PrintStream(LOG, true, StandardCharsets.UTF_8));
        try {
            String body = "{\"prompt\": \"hi\", \"max_tokens\": 3}";
            assertError(post(keyed, "/v1/completions", body, null), 401, null, "invalid_api_key");
            assertError(post(keyed, "/v1/completions", body, "wrong"), 401, null, "invalid_api_key");
            Reply ok = post(keyed, "/v1/completions", body, "sesame");
            assertEquals(200, ok.status(), ok.body());
            assertEquals(3, ok.json().get("usage").get("completion_tokens").asInt());
        } finally {
            keyed.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void shutdownCutsAStreamWithAFinalChunkAndDone() throws Exception {
        OpenAiServer s = OpenAiServer.start(model, GenerationDefaults.TRANSFORMERS, options(null), new PrintStream(LOG, true, StandardCharsets.UTF_8));
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"hi\", \"max_tokens\": 400, \"ignore_eos\": true, \"stream\": true}")).build(),
                HttpResponse.BodyHandlers.ofLines());
        var lines = r.body().iterator();
        assertTrue(lines.next().startsWith("data: "), "the stream started");
        Thread stopper = Thread.ofVirtual().start(() -> s.shutdown(Duration.ZERO));
        List<String> rest = new ArrayList<>();
        lines.forEachRemaining(rest::add);
        stopper.join();
        rest.removeIf(String::isEmpty);
        assertEquals("data: [DONE]", rest.getLast());
        ObjectNode fin = (ObjectNode) Jsonl.JSON.readTree(rest.get(rest.size() - 2).substring(6));
        assertEquals("abort", fin.get("choices").get(0).get("finish_reason").asText(), "cut, and said so");
    }
}
