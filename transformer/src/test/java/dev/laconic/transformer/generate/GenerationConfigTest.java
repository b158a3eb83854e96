package dev.laconic.transformer.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GenerationConfigTest {
    @Test
    void theBuilderStartsFromGreedyAndSetsEachField() {
        assertEquals(new GenerationConfig(GenerationConfig.Builder.MAX_TOKENS, Sampler.greedy(), 1, 0, false, List.of(), -1),
                GenerationConfig.builder().build());
        GenerationConfig c = GenerationConfig.builder().maxTokens(64).temperature(0.6).topP(0.95).topK(20).samples(3).seed(7)
                .ignoreEos(true).stop("\n\n", "END").thinkBudget(16).build();
        assertEquals(new GenerationConfig(64, new Sampler(0.6f, 0.95f, 20), 3, 7, true, List.of("\n\n", "END"), 16), c);
        assertEquals(c, c.toBuilder().build(), "toBuilder round-trips");
        assertEquals(c.sampler(), GenerationConfig.builder().sampler(c.sampler()).build().sampler());
        assertEquals(128, c.toBuilder().maxTokens(128).build().maxTokens());
    }

    @Test
    void buildChecksTheValues() {
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().maxTokens(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().samples(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().topP(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().temperature(-1).build());
    }
}
