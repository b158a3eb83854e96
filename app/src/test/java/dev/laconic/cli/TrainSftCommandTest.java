package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.safetensors.Checkpoint;
import dev.laconic.training.Export;
import dev.laconic.training.RunDir;
import dev.laconic.transformer.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TrainSftCommandTest {
    static final Path GOLDEN = Path.of("../transformer/src/test/resources/golden");
    static final Path QWEN = GOLDEN.resolve("qwen2-f32"), DATA = GOLDEN.resolve("train_data.jsonl");
    /** The golden curve's hyper-parameters (golden/README.md), batch 1 in file order. */
    static final String[] GOLDEN_ARGS = {"--betas", "0.9,0.95", "--eps", "1e-8", "--weight-decay", "0.1",
            "--clip", "1", "--no-shuffle", "--batch", "1"};

    record Run(int exit, String err) {}

    /** Runs a command as ./laconic does: a user fault ends as "error: message" and exit code 1. */
    static Run cli(Object command, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (!(e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof IOException)) throw e;
            cmd.getErr().println("error: " + e.getMessage());
            return 1;
        });
        return new Run(cl.execute(args), err.toString());
    }

    static Run train(String... args) {
        return cli(new TrainSftCommand(), args);
    }

    static String[] args(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    static List<JsonNode> metrics(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(RunDir.JSON.readTree(line));
        return out;
    }

    @Test
    void fullFineTuningFollowsTheGoldenCurveAndWritesAModelDirectory(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        String[] base = args(GOLDEN_ARGS, "--model", QWEN.toString(), "--data", DATA.toString(), "--out", run.toString(),
                "--full", "--save-every", "2");
        String[] lr = {"--lr", "1e-3"};
        Run r = train(args(args(base, lr), "--steps", "3"));
        assertEquals(0, r.exit(), r.err());

        JsonNode golden = RunDir.JSON.readTree(GOLDEN.resolve("qwen2-train.json").toFile()).path("adamw").path("batch1");
        List<JsonNode> m = metrics(run);
        assertEquals(3, m.size());
        for (int k = 0; k < 3; k++) {
            List<String> keys = new ArrayList<>();
            for (Iterator<String> it = m.get(k).fieldNames(); it.hasNext(); ) keys.add(it.next());
            assertEquals(List.of("step", "split", "time", "loss", "lr", "grad_norm", "tokens"), keys);
            assertEquals("train", m.get(k).get("split").asText());
            assertEquals(k + 1, m.get(k).get("step").asInt());
            double want = golden.path("losses").get(k).asDouble();
            assertEquals(want, m.get(k).get("loss").asDouble(), 2e-5 * want);
            assertEquals(golden.path("grad_norms_before_clip").get(k).asDouble(), m.get(k).get("grad_norm").asDouble(), 1e-3);
        }
        JsonNode data0 = RunDir.JSON.readTree(Files.readAllLines(DATA).getFirst());
        assertEquals(data0.get("ids").size(), m.getFirst().get("tokens").asInt());

        Path fin = run.resolve("final");
        try (Checkpoint ck = Checkpoint.open(fin)) {
            // --save-dtype auto: the base model's own dtype, F32 here (not rounded to BF16)
            assertEquals(DType.F32, ck.tensor("model.norm.weight").dtype());
            assertEquals(DType.F32, ck.tensor("model.layers.0.mlp.down_proj.weight").dtype());
        }
        assertEquals("f32", RunDir.JSON.readTree(run.resolve("config.json").toFile()).get("save_dtype").asText());
        try (Model back = Model.load(fin, DType.BF16, new VectorOps())) {
            assertEquals(384, back.tokenizer().vocabSize());
        }
        assertEquals(List.of(2L, 3L), new RunDir(run).checkpointSteps());

        // --resume: other options must match; --steps may grow
        r = train(args(base, "--steps", "4", "--resume", "--lr", "2e-3"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("--lr 0.001 in the run, 0.002 now"), r.err());
        r = train(args(args(base, lr), "--steps", "4", "--resume"));
        assertEquals(0, r.exit(), r.err());
        assertEquals(4, metrics(run).size());
        assertEquals(golden.path("losses").get(3).asDouble(), metrics(run).get(3).get("loss").asDouble(), 2e-5 * 9);

        // a fresh run into an existing run directory is refused
        r = train(args(args(base, lr), "--steps", "4"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("already holds a run"), r.err());

        // export of an older checkpoint, f32
        Path exported = dir.resolve("step2");
        r = cli(new ExportCommand(), "--run", run.toString(), "--step", "2", "--out", exported.toString(), "--save-dtype", "f32");
        assertEquals(0, r.exit(), r.err());
        try (Checkpoint ck = Checkpoint.open(exported);
             Checkpoint saved = Checkpoint.open(run.resolve("checkpoints/step-000002/trainable.safetensors"))) {
            for (String n : ck.names()) assertArrayEquals(saved.tensor(n).toFloatArray(), ck.tensor(n).toFloatArray(), n);
        }
        r = cli(new ExportCommand(), "--run", run.toString(), "--out", exported.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("not empty"), r.err());
        r = cli(new ExportCommand(), "--run", run.toString(), "--step", "1", "--out", dir.resolve("x").toString());
        assertTrue(r.err().contains("no checkpoint of step 1 (there are [2, 3, 4])"), r.err());
    }

    @Test
    void loraOnPromptResponseDataWritesAPeftAdapterAndAMergedModel(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("chat.jsonl"), run = dir.resolve("run");
        Files.writeString(data, """
                {"prompt": "What is two plus two?", "response": "It is four.</think>\\n\\nFour."}
                {"prompt": "Name a colour.", "response": "Red."}
                """);
        Run r = train("--model", QWEN.toString(), "--data", data.toString(), "--out", run.toString(), "--lora-rank", "2",
                "--lora-targets", "q,v,down", "--lr", "1e-2", "--steps", "2", "--batch", "2", "--schedule", "cosine", "--warmup-steps", "1");
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> m = metrics(run);
        assertEquals(0.0, m.get(0).get("lr").asDouble(), "cosine warm-up starts at 0, as transformers");
        JsonNode cfg = RunDir.JSON.readTree(run.resolve("final").resolve(Export.ADAPTER_CONFIG).toFile());
        assertEquals(2, cfg.get("r").asInt());
        assertEquals(4, cfg.get("lora_alpha").asInt());
        assertEquals("[\"down_proj\",\"q_proj\",\"v_proj\"]", cfg.get("target_modules").toString());

        Path merged = dir.resolve("merged");
        r = cli(new ExportCommand(), "--run", run.toString(), "--out", merged.toString(), "--merge", "--save-dtype", "f32");
        assertEquals(0, r.exit(), r.err());
        // the run trained on the base as stored (--dtype auto: F32 here), and --merge folds the adapter into that base
        assertEquals("f32", RunDir.JSON.readTree(run.resolve("config.json").toFile()).get("dtype").asText());
        try (Model base = Model.load(QWEN, DType.F32, new VectorOps()); Model mm = Model.load(merged, DType.F32, new VectorOps())) {
            var adapted = Export.loadAdapter(base, run.resolve("final"));
            int[] ids = {381, 40, 50, 60, 70, 378};
            float[] want = adapted.logProbs(ids), got = mm.transformer().score(ids);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-5);
        }
    }

    /**
     * TRL's SFTTrainer shapes train as they are: standard {"text"} and {"prompt", "completion"}, conversational
     * {"messages"} and {"prompt": [...], "completion": [...]}; step 1 (batch 4, file order) sees exactly the tokens
     * the data reader makes of the four lines.
     */
    @Test
    void trlDataOfEveryShapeTrains(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("trl.jsonl"), run = dir.resolve("run");
        Files.writeString(data, """
                {"text": "The sky is blue."}
                {"prompt": "The sky is", "completion": " blue."}
                {"messages": [{"role": "user", "content": "What colour is the sky?"}, {"role": "assistant", "content": "It scatters.</think>Blue."}]}
                {"prompt": [{"role": "user", "content": "What colour is grass?"}], "completion": [{"role": "assistant", "content": "Green."}]}
                """);
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        Run r;
        try {
            System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
            r = train("--model", QWEN.toString(), "--data", data.toString(), "--out", run.toString(), "--lora-rank", "2",
                    "--lr", "1e-2", "--steps", "2", "--batch", "4", "--no-shuffle");
        } finally {
            System.setErr(oldErr);
        }
        assertEquals(0, r.exit(), r.err());
        assertTrue(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains("data: 4 examples (0 skipped"), log.toString());
        List<JsonNode> m = metrics(run);
        assertEquals(2, m.size());
        try (Model base = Model.load(QWEN)) {
            var d = dev.laconic.training.SftData.load(data, base.tokenizer(), dev.laconic.training.SftData.Template.R1, 384, 512, false);
            assertEquals(d.examples().stream().mapToInt(e -> e.ids().length).sum(), m.getFirst().get("tokens").asInt());
        }
        assertTrue(m.get(1).get("loss").asDouble() < m.get(0).get("loss").asDouble(), "it learns: " + m);
        assertTrue(Files.isRegularFile(run.resolve("final").resolve(Export.ADAPTER_CONFIG)));

        Files.writeString(data, "{\"text\": \"ok\"}\n{\"messages\": [{\"role\": \"user\", \"content\": 1}]}\n");
        r = train("--model", QWEN.toString(), "--data", data.toString(), "--out", dir.resolve("bad").toString(), "--lr", "1e-2", "--steps", "1");
        assertEquals("error: " + data + ":2: field \"messages\": message 0: \"content\" is not a string", r.err().strip());
    }

    @Test
    void badInputEndsAsOneLine(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, Files.readAllLines(DATA).getFirst() + "\n{\"ids\": [1, 2,\n");
        Path run = dir.resolve("run");
        Run r = train("--model", QWEN.toString(), "--data", data.toString(), "--out", run.toString(), "--full", "--lr", "1e-3", "--steps", "1");
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("error: " + data + ":2: not valid JSON"), r.err());
        assertFalse(Files.exists(run), "no run directory for a run that never started");
        r = train("--model", QWEN.toString(), "--data", DATA.toString(), "--out", run.toString(), "--full", "--lora-rank", "4", "--lr", "1e-3", "--steps", "1");
        assertEquals("error: --lora-rank is a LoRA option; --full trains every weight", r.err().strip());
        r = train("--model", QWEN.toString(), "--data", DATA.toString(), "--out", run.toString(), "--max-len", "100000", "--lr", "1e-3", "--steps", "1");
        assertTrue(r.err().contains("--max-len 100000 exceeds the model's context of 512"), r.err());
        assertFalse(Files.exists(run));

        r = train(args(GOLDEN_ARGS, "--model", QWEN.toString(), "--data", DATA.toString(), "--out", run.toString(), "--full", "--steps", "3",
                "--lr", "1e30", "--save-every", "1"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("step 2: loss") && r.err().contains("last checkpoint is step 1"), r.err());
        assertEquals(1, metrics(run).size());
    }
}
