package dev.laconic.compression.gym;

import dev.laconic.kernels.VectorOps;
import dev.laconic.tensor.DType;
import dev.laconic.transformer.Model;
import dev.laconic.transformer.generate.Completion;
import dev.laconic.transformer.generate.GenerationConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The shipped checkpoints extract to loadable HF directories and behave as their styles say. */
class ShippedModelsTest {
    @Test
    void theLongReasonerSolvesASumStepByStepAndTheShortModelAnswersDirectly(@TempDir Path dir) throws Exception {
        Path longDir = ShippedModels.extract(ShippedModels.LONG, dir.resolve("long"));
        Path shortDir = ShippedModels.extract(ShippedModels.SHORT, dir.resolve("short"));
        // 47 + 85: a level-1 problem the long reasoner gets right greedily on its dev set (1.00 on L1)
        Problem p = new Problem(1, new long[]{47, 85});
        try (Model m = Model.load(longDir, DType.F32, new VectorOps())) {
            Completion c = GymEval.generator(m.transformer(), m.tokenizer())
                    .generate(List.of(GymFormat.promptIds(m.tokenizer(), p)), GenerationConfig.greedy(600), null).getFirst();
            String text = m.tokenizer().decode(c.ids(), true);
            assertTrue(text.startsWith(System2Writer.HEADER), text);
            assertTrue(text.contains("\\boxed{132}"), text);
        }
        try (Model m = Model.load(shortDir, DType.F32, new VectorOps())) {
            Completion c = GymEval.generator(m.transformer(), m.tokenizer())
                    .generate(List.of(GymFormat.promptIds(m.tokenizer(), p)), GenerationConfig.greedy(60), null).getFirst();
            String text = m.tokenizer().decode(c.ids(), true);
            assertFalse(text.contains(System2Writer.HEADER), "no scratchpad: " + text);
            assertTrue(text.matches("(?s)[0-9 +]+ = [0-9]+\\.\n</think>\n\nThe answer is \\\\boxed\\{[0-9]+\\}\\..*"), "a System-1 answer: " + text);
            assertTrue(c.tokens() < 40, "short: " + c.tokens());
        }
        long size = Files.size(longDir.resolve("model.safetensors"));
        assertSame(longDir, ShippedModels.extract(ShippedModels.LONG, longDir), "a complete directory is reused");
        assertEquals(size, Files.size(longDir.resolve("model.safetensors")));
        assertThrows(IllegalStateException.class, () -> ShippedModels.extract("no-such-model", dir.resolve("x")));
    }
}
