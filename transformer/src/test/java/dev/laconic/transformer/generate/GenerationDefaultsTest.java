package dev.laconic.transformer.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** generation_config.json as transformers reads it: do_sample decides, absent fields take GenerationConfig's defaults. */
class GenerationDefaultsTest {
    static GenerationDefaults parse(String json) throws Exception {
        return GenerationDefaults.fromJson(new ObjectMapper().readTree(json));
    }

    @Test
    void r1DistillSamplesAtItsOwnSettingsWithTransformersTopK() throws Exception {
        GenerationDefaults d = GenerationDefaults.load(Path.of("src/test/resources/golden/qwen2-f32"));
        assertEquals(new GenerationDefaults(true, 0.6f, 0.95f, 50, null), d);
        assertEquals(new Sampler(0.6f, 0.95f, 50), d.sampler());
        GenerationConfig gc = GenerationConfig.of(d);
        assertEquals(GenerationConfig.DEFAULT_MAX_TOKENS, gc.maxTokens());
        assertEquals(1, gc.samples());
        // the real DeepSeek-R1-Distill-Qwen-1.5B file reads the same way
        assertEquals(d, parse(Files.readString(Path.of("src/test/resources/config/r1-distill-qwen-1.5b-generation.json"))));
    }

    @Test
    void greedyUnlessDoSampleIsTrue() throws Exception {
        assertEquals(Sampler.greedy(), parse("{\"temperature\": 0.6, \"top_p\": 0.95}").sampler(), "do_sample absent: greedy, as transformers");
        assertEquals(Sampler.greedy(), parse("{\"do_sample\": false, \"temperature\": 0.6}").sampler());
        assertEquals(Sampler.greedy(), parse("{\"do_sample\": true, \"temperature\": 0}").sampler());
        assertEquals(Sampler.greedy(), GenerationDefaults.fromJson(null).sampler());
        assertEquals(new Sampler(1f, 1f, 50), parse("{\"do_sample\": true}").sampler(), "transformers' temperature 1, top_p 1, top_k 50");
        assertEquals(new Sampler(0.7f, 0.8f, 0), parse("{\"do_sample\": true, \"temperature\": 0.7, \"top_p\": 0.8, \"top_k\": 0}").sampler());
        assertEquals(1024, GenerationConfig.of(parse("{\"max_new_tokens\": 1024}")).maxTokens());
    }

    @Test
    void noFileIsTransformersDefaultsAndBadValuesNameTheFile(@TempDir Path dir) throws Exception {
        assertSame(GenerationDefaults.TRANSFORMERS, GenerationDefaults.load(dir));
        Files.writeString(dir.resolve(GenerationDefaults.FILE), "{\"do_sample\": true, \"top_p\": 1.5}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerationDefaults.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve(GenerationDefaults.FILE) + ": top_p must be in (0, 1]"), e.getMessage());
        Files.writeString(dir.resolve(GenerationDefaults.FILE), "{\"do_sample\": \"yes\"}");
        e = assertThrows(IllegalArgumentException.class, () -> GenerationDefaults.load(dir));
        assertTrue(e.getMessage().contains("do_sample: expected true or false"), e.getMessage());
    }
}
