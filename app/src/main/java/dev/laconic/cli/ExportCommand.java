package dev.laconic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.bench.BackendOption;
import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DType;
import dev.laconic.training.Checkpoints;
import dev.laconic.training.Export;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.RunDir;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "export", mixinStandardHelpOptions = true, description = {"Writes a checkpoint of a train-sft run as a Hugging Face model directory (full fine-tuning, "
        + "or LoRA with --merge) or as a PEFT adapter directory (LoRA)."})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "run directory of train-sft") Path runDir;
    @Option(names = "--step", description = "checkpoint step (default: the newest)") Long step;
    @Option(names = "--out", required = true, description = "directory to write (must not exist or be empty)") Path out;
    @Option(names = "--merge", description = "LoRA: fold the adapter into the base weights and write a model directory") boolean merge;
    @Option(names = "--save-dtype", defaultValue = "auto", description = "model directory weights: auto (the base model's own), bf16 or f32 (default: ${DEFAULT-VALUE})") String saveDtype;

    @Mixin ThreadsOption threads;
    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        Backend chosen = backend.backend();   // the one choice of this command, passed down
        RunDir run = new RunDir(runDir);
        ObjectNode c = run.readConfig();
        List<Long> steps = run.checkpointSteps();
        if (steps.isEmpty()) throw new IllegalArgumentException(run.dir() + ": no checkpoint yet");
        long s = step != null ? step : steps.getLast();
        if (!steps.contains(s)) throw new IllegalArgumentException(run.dir() + ": no checkpoint of step " + s + " (there are " + steps + ")");
        if (Files.isDirectory(out)) {
            try (Stream<Path> files = Files.list(out)) {
                if (files.findAny().isPresent()) throw new IllegalArgumentException(out + ": exists and is not empty");
            }
        } else if (Files.exists(out)) {
            throw new IllegalArgumentException(out + ": exists and is not a directory");
        }
        Path base = Path.of(c.path("model").asText());
        DType dtype = Dtypes.save(saveDtype, base, "--save-dtype");
        boolean lora = c.path("mode").asText().equals("lora");
        try (Model m = Model.load(base, Dtypes.weights(c.path("dtype").asText("f32"), base, "dtype in config.json"), chosen)) {
            TrainableModel tm = lora ? TrainableModel.lora(m, loraConfig(c), c.path("seed").asLong()) : TrainableModel.full(m);
            Checkpoints.loadTrainable(tm, run.checkpoint(s));
            if (lora && !merge) {
                Export.adapter(tm, base.toString(), out);
                System.out.println("wrote PEFT adapter of step " + s + " to " + out);
            } else {
                Export.model(tm, base, out, dtype);
                System.out.println("wrote " + (lora ? "merged " : "") + "model of step " + s + " (" + Dtypes.label(dtype) + ") to " + out);
            }
        }
        return 0;
    }

    static LoraConfig loraConfig(JsonNode c) {
        Set<String> targets = new LinkedHashSet<>();
        c.path("lora_targets").forEach(t -> targets.add(t.asText()));
        return new LoraConfig(c.path("lora_rank").asInt(), (float) c.path("lora_alpha").asDouble(), targets);
    }
}
