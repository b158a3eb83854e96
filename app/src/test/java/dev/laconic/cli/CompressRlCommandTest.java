package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.laconic.compression.rl.RlTrainer;
import dev.laconic.compression.rl.TinyPolicy;
import dev.laconic.training.Export;
import dev.laconic.training.Jsonl;
import dev.laconic.training.RunDir;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** `compress rl` through the command line on the tiny EOS-prone policy (its answers are never right: rewards are 0). */
class CompressRlCommandTest {
    @TempDir static Path tmp;
    static Path model, train, dev;

    @BeforeAll
    static void files() throws IOException {
        model = tmp.resolve("model");
        TinyPolicy.writeHf(model, 0.5, 3);
        train = tmp.resolve("train.jsonl");
        dev = tmp.resolve("dev.jsonl");
        StringBuilder t = new StringBuilder(), d = new StringBuilder();
        for (int i = 0; i < 6; i++)
            t.append("{\"prompt\": \"What is ").append(i).append(" + 2?\", \"answer\": ").append(i + 2).append(", \"difficulty\": 1}\n");
        for (int i = 0; i < 3; i++) d.append("{\"prompt\": \"What is ").append(i).append(" + 9?\", \"answer\": \"").append(i + 9).append("\", \"difficulty\": 2}\n");
        Files.writeString(train, t);
        Files.writeString(dev, d);
    }

    record Run(int exit, String err) {}

    /** Runs the command as ./laconic does: a user fault (bad flag, bad file, a guard rail) ends as "error: message", exit 1. */
    static Run rl(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new CompressRlCommand());
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (!(e instanceof Jsonl.BadInput || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof IOException)) throw e;
            cmd.getErr().println("error: " + e.getMessage());
            return 1;
        });
        return new Run(cl.execute(args), err.toString());
    }

    static String[] common(Path out, String... more) {
        return Stream.concat(Stream.of("--model", model.toString(), "--data", train.toString(), "--format", "gym", "--alpha", "0.2",
                "--out", out.toString(), "--prompts-per-rollout", "2", "--samples", "3", "--max-tokens", "24", "--lr", "1e-3",
                "--minibatch", "6", "--threads", "2"), Stream.of(more)).toArray(String[]::new);
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) out.add(RunDir.JSON.readTree(l));
        return out;
    }

    @Test
    void fullFineTuningWritesTheRunDirectoryAndResumes() throws IOException {
        Path out = tmp.resolve("full");
        Run r = rl(common(out, "--full", "--rollouts", "2", "--save-every", "1", "--eval", dev.toString(),
                "--eval-every", "1", "--eval-limit", "2", "--eval-max-tokens", "16"));
        assertEquals(0, r.exit(), r.err());
        JsonNode config = RunDir.JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(0.2, config.get("alpha").asDouble());
        assertEquals("full", config.get("mode").asText());
        assertEquals(24, config.get("max_tokens").asInt());
        assertEquals("{problem}", config.get("template").asText(), "gym prompts are the whole user turn");
        List<JsonNode> m = lines(out.resolve("metrics.jsonl"));
        assertEquals(2, m.size());
        for (String f : List.of("reward", "accuracy", "mean_length", "mean_length_correct", "mean_length_terminated", "clipped_ratio",
                "kl", "all_wrong_groups", "policy_loss", "clip_fraction", "grad_norm"))
            assertTrue(m.get(1).has(f), f + " in " + m.get(1));
        assertEquals(2, m.get(0).get("all_wrong_groups").asInt(), "a random model answers nothing right");
        assertEquals(0.0, m.get(0).get("reward").asDouble());
        assertEquals(List.of(0L, 1L, 2L), lines(out.resolve(RlTrainer.EVAL_LOG)).stream().map(n -> n.get("step").asLong()).toList());
        assertEquals(2, lines(out.resolve(RlTrainer.EVAL_LOG)).get(1).get("problems").asInt());
        byte[] png = Files.readAllBytes(out.resolve(RlTrainer.CURVES));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json"))
            assertTrue(Files.exists(out.resolve("final").resolve(f)), f);
        assertEquals("float32", RunDir.JSON.readTree(out.resolve("final/config.json").toFile()).get("torch_dtype").asText(),
                "saved in the base's dtype by default");
        assertEquals(List.of(1L, 2L), new RunDir(out).checkpointSteps());

        // more rollouts on resume; any other change is refused
        Run resumed = rl(common(out, "--full", "--rollouts", "3", "--save-every", "1", "--eval", dev.toString(), "--eval-every", "1",
                "--eval-limit", "2", "--eval-max-tokens", "16", "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertEquals(3, lines(out.resolve("metrics.jsonl")).size());
        assertEquals(4, lines(out.resolve(RlTrainer.EVAL_LOG)).size());
        String[] other = common(out, "--full", "--rollouts", "3", "--resume");
        other[7] = "0.3";                                                  // --alpha
        Run changed = rl(other);
        assertEquals(1, changed.exit());
        assertTrue(changed.err().contains("--alpha 0.2 in the run, 0.3 now"), changed.err());
        Run again = rl(common(out, "--full", "--rollouts", "3"));
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("already holds a run"), again.err());
    }

    @Test
    void loraWritesTheAdapterAndTheMergedModel() throws IOException {
        Path out = tmp.resolve("lora");
        Run r = rl(common(out, "--rollouts", "1", "--lora-rank", "2", "--dtype", "f32"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.exists(out.resolve("final").resolve(Export.ADAPTER_CONFIG)));
        assertTrue(Files.exists(out.resolve("final").resolve(Export.ADAPTER_WEIGHTS)));
        assertTrue(Files.exists(out.resolve(RlTrainer.MERGED).resolve("model.safetensors")));
        assertEquals(2, RunDir.JSON.readTree(out.resolve("config.json").toFile()).get("lora_rank").asInt());
    }

    @Test
    void badInputEndsWithOneClearLine() throws IOException {
        record Case(String expect, String[] args) {}
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"What is 1 + 1?\", \"answer\": 2, \"difficulty\": 1}\n{\"prompt\": 3\n");
        Path cutModel = tmp.resolve("never-ends");
        TinyPolicy.writeHf(cutModel, -2, 3);
        List<Case> cases = List.of(
                new Case("--alpha must be in [0, 1), got 1.0", with(common(tmp.resolve("b1")), "--alpha", "1")),
                new Case("--samples must be ≥ 2", with(common(tmp.resolve("b2")), "--samples", "1")),
                new Case("exceed the model's context of 256", with(common(tmp.resolve("b3")), "--max-tokens", "1000")),
                new Case("--eval-every needs --eval", with(common(tmp.resolve("b4"), "--eval-every", "2"))),
                new Case("--loss-agg must be seq-mean or token-mean", with(common(tmp.resolve("b5"), "--loss-agg", "sum"))),
                new Case("bad.jsonl:2", with(common(tmp.resolve("b6")), "--data", bad.toString())),
                new Case("missing.jsonl", with(common(tmp.resolve("b7")), "--data", tmp.resolve("missing.jsonl").toString())),
                new Case("--lora-rank is a LoRA option", with(common(tmp.resolve("b8"), "--full", "--lora-rank", "4"))),
                new Case("rollout 1: all 6 samples were cut at --max-tokens 3",
                        with(common(tmp.resolve("b9"), "--full"), "--model", cutModel.toString(), "--max-tokens", "3")));
        for (Case c : cases) {
            Run r = rl(c.args());
            assertEquals(1, r.exit(), c.expect() + ": " + r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains(c.expect()), "expected '" + c.expect() + "' in: " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        }
    }

    /** Replaces the value of each flag given as (flag, value) pairs, or appends it. */
    static String[] with(String[] args, String... pairs) {
        List<String> l = new ArrayList<>(List.of(args));
        for (int k = 0; k < pairs.length; k += 2) {
            int i = l.indexOf(pairs[k]);
            if (i >= 0) l.set(i + 1, pairs[k + 1]);
            else { l.add(pairs[k]); l.add(pairs[k + 1]); }
        }
        return l.toArray(new String[0]);
    }
}
