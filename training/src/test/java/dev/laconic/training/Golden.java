package dev.laconic.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import dev.laconic.tensor.safetensors.Checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Hugging Face goldens of transformer/src/test/resources/golden (README.md there; written by
 * tools/make_golden_models.py), read in place from the sibling module: nothing is copied.
 */
final class Golden {
    private Golden() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** The golden folder; Maven runs tests in the module directory, an IDE may run them elsewhere. */
    static Path dir() {
        for (Path base = Path.of("").toAbsolutePath(); base != null; base = base.getParent()) {
            Path p = base.resolve("transformer/src/test/resources/golden");
            if (Files.isDirectory(p)) return p;
        }
        throw new IllegalStateException("transformer/src/test/resources/golden not found above " + Path.of("").toAbsolutePath());
    }

    static JsonNode json(String file) {
        try {
            return JSON.readTree(dir().resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every tensor of a safetensors file (or checkpoint directory), copied to the heap as F32. */
    static Map<String, Tensor> tensors(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(file)) {
            for (String name : ck.names()) out.put(name, ck.tensor(name).to(DType.F32));
        }
        return out;
    }

    /** One line of train_data.jsonl: ids and the loss mask (one entry per id; mask[0] is never used). */
    record Example(int[] ids, int[] mask) {
        /** Cross-entropy weights of the predicted tokens ids[1..]: mask[1..]. */
        float[] weights() {
            float[] w = new float[ids.length - 1];
            for (int t = 1; t < ids.length; t++) w[t - 1] = mask[t];
            return w;
        }
    }

    static List<Example> trainData() {
        try {
            List<Example> out = new ArrayList<>();
            for (String line : Files.readAllLines(dir().resolve("train_data.jsonl"))) {
                JsonNode n = JSON.readTree(line);
                out.add(new Example(ints(n.get("ids")), ints(n.get("loss_mask"))));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The LoRA config of a PEFT adapter directory's adapter_config.json (target "q_proj" → "q"). */
    static LoraConfig loraConfig(Path adapterDir) {
        try {
            JsonNode c = JSON.readTree(adapterDir.resolve("adapter_config.json").toFile());
            Set<String> targets = new HashSet<>();
            for (JsonNode t : c.get("target_modules")) targets.add(t.asText().replace("_proj", ""));
            return new LoraConfig(c.get("r").asInt(), (float) c.get("lora_alpha").asDouble(), targets);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    /** ‖a − b‖ / ‖b‖ over all elements, in double. */
    static double relErr(Tensor a, Tensor b) {
        double num = 0, den = 0;
        for (long i = 0; i < b.numel(); i++) {
            double d = (double) a.getFloat(i) - b.getFloat(i);
            num += d * d;
            den += (double) b.getFloat(i) * b.getFloat(i);
        }
        return Math.sqrt(num / den);
    }
}
