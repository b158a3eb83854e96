package dev.laconic.tensor.safetensors;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Our reader against a file written by Hugging Face's safetensors (tools/make_safetensors_fixtures.py). */
class SafetensorsReaderTest {
    static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    static Path resource(String name) {
        try {
            return Path.of(SafetensorsReaderTest.class.getResource("/safetensors/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readsHuggingFaceFileExactly() throws IOException {
        JsonNode expected = JSON.readTree(resource("hf_reference.json").toFile());
        try (Checkpoint ck = Checkpoint.open(resource("hf_reference.safetensors"))) {
            List<String> names = new ArrayList<>();
            expected.get("tensors").fieldNames().forEachRemaining(names::add);
            assertEquals(names.stream().sorted().toList(), List.copyOf(ck.names()));
            Map<String, String> md = new LinkedHashMap<>();
            expected.get("metadata").properties().forEach(e -> md.put(e.getKey(), e.getValue().asText()));
            assertEquals(md, ck.metadata());

            for (String name : names) {
                JsonNode want = expected.get("tensors").get(name);
                Tensor t = ck.tensor(name);
                assertEquals(want.get("dtype").asText(), t.dtype().safetensorsName, name);
                int[] shape = new int[want.get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = want.get("shape").get(i).asInt();
                assertArrayEquals(shape, t.shape(), name);
                assertEquals(want.get("bits").size(), t.numel(), name);
                for (int i = 0; i < t.numel(); i++) {
                    long bits = want.get("bits").get(i).asLong();
                    double value = want.get("values").get(i).asDouble();
                    String at = name + "[" + i + "]";
                    switch (t.dtype()) {
                        case F32 -> assertEquals(bits, Float.floatToRawIntBits(t.getFloat(i)) & 0xFFFFFFFFL, at);
                        case BF16, F16 -> assertEquals(bits, t.getBits16(i) & 0xFFFF, at);
                        case I32 -> assertEquals(bits, t.getInt(i), at);
                    }
                    if (t.dtype() == DType.I32) continue;
                    float got = t.getFloat(i);
                    if (Double.isNaN(value)) {
                        assertTrue(Float.isNaN(got), at);
                    } else {
                        assertEquals((float) value, got, 0f, at);
                        assertEquals(Math.copySign(1.0, value), Math.copySign(1.0f, got), at); // -0.0 is kept
                    }
                }
                // zero copy: a read-only view of the mapping
                assertTrue(t.segment().isMapped(), name);
                assertTrue(t.segment().isReadOnly(), name);
            }
        }
    }

    @Test
    void closeInvalidatesTensors() {
        Checkpoint ck = Checkpoint.open(resource("hf_reference.safetensors"));
        Tensor t = ck.tensor("f32");
        assertEquals(1.5f, t.getFloat(2));
        ck.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(2));
        assertThrows(IllegalStateException.class, () -> ck.tensor("f32"));
        ck.close(); // idempotent
    }

    @Test
    void unknownTensorNameIsReported() {
        try (Checkpoint ck = Checkpoint.open(resource("hf_reference.safetensors"))) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.tensor("nope"));
            assertEquals("nope", e.tensor());
            assertTrue(e.getMessage().contains("hf_reference.safetensors"), e.getMessage());
        }
    }

    /**
     * DeepSeek-R1-Distill-Qwen-1.5B's real layout (339 BF16 tensors, 3.55 GB): the header is built here
     * by hand, the data area is a sparse file, so this also checks mapping and offsets beyond 2 GiB.
     */
    @Test
    void modelSizedSparseFileOver2GiB(@TempDir Path dir) throws IOException {
        int c = 1536, f = 8960, v = 151936, kv = 256, layers = 28;
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new int[]{v, c});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            shapes.put(p + "input_layernorm.weight", new int[]{c});
            shapes.put(p + "post_attention_layernorm.weight", new int[]{c});
            shapes.put(p + "mlp.gate_proj.weight", new int[]{f, c});
            shapes.put(p + "mlp.up_proj.weight", new int[]{f, c});
            shapes.put(p + "mlp.down_proj.weight", new int[]{c, f});
            shapes.put(p + "self_attn.q_proj.weight", new int[]{c, c});
            shapes.put(p + "self_attn.q_proj.bias", new int[]{c});
            shapes.put(p + "self_attn.k_proj.weight", new int[]{kv, c});
            shapes.put(p + "self_attn.k_proj.bias", new int[]{kv});
            shapes.put(p + "self_attn.v_proj.weight", new int[]{kv, c});
            shapes.put(p + "self_attn.v_proj.bias", new int[]{kv});
            shapes.put(p + "self_attn.o_proj.weight", new int[]{c, c});
        }
        shapes.put("model.norm.weight", new int[]{c});
        shapes.put("lm_head.weight", new int[]{v, c});

        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0, params = 0, downBegin = -1;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            long n = 1;
            for (int d : e.getValue()) n *= d;
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "BF16");
            var s = t.putArray("shape");
            for (int d : e.getValue()) s.add(d);
            t.putArray("data_offsets").add(offset).add(offset + 2 * n);
            if (e.getKey().equals("model.layers.27.mlp.down_proj.weight")) downBegin = offset;
            offset += 2 * n;
            params += n;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        Path file = dir.resolve("model.safetensors");
        long dataStart = 8 + json.length;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            raf.write(json);
            raf.setLength(dataStart + offset); // sparse: no data blocks are written
            // markers: bf16 1.5 (0x3FC0) as the last element of lm_head, -2.0 (0xC000) at element 3 of layer 27's down_proj
            raf.seek(dataStart + offset - 2);
            raf.write(new byte[]{(byte) 0xC0, 0x3F});
            raf.seek(dataStart + downBegin + 6);
            raf.write(new byte[]{0x00, (byte) 0xC0});
        }
        assertEquals(339, shapes.size());
        assertTrue(offset > (3L << 30), "data area " + offset);

        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(339, ck.size());
            long total = 0;
            for (String n : ck.names()) total += ck.entry(n).numel();
            assertEquals(params, total);
            Tensor head = ck.tensor("lm_head.weight");
            assertArrayEquals(new int[]{v, c}, head.shape());
            assertEquals(1.5f, head.getFloat(head.numel() - 1));
            assertEquals(0f, head.getFloat(0));
            SafetensorsFile.Entry down = ck.entry("model.layers.27.mlp.down_proj.weight");
            assertEquals(downBegin, down.begin());
            assertTrue(down.begin() > Integer.MAX_VALUE, "offset past 2 GiB");
            assertEquals(-2.0f, ck.tensor("model.layers.27.mlp.down_proj.weight").getFloat(3));
            assertEquals(Map.of("format", "pt"), ck.metadata());
        }
    }

    @Test
    void shardedCheckpointThroughIndex(@TempDir Path dir) throws IOException {
        float[] a = {1, 2, 3, 4, 5, 6};
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"),
                Map.of("model.embed.weight", Tensor.of(a, 2, 3), "model.ids", Tensor.ofInts(new int[]{7, -8}, 2)), Map.of());
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"),
                Map.of("lm_head.weight", Tensor.of(new float[]{0.5f, -0.25f}, 1, 2).to(DType.BF16)), Map.of("format", "pt"));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), """
                {"metadata": {"total_size": 36},
                 "weight_map": {"model.embed.weight": "model-00001-of-00002.safetensors",
                                "model.ids": "model-00001-of-00002.safetensors",
                                "lm_head.weight": "model-00002-of-00002.safetensors"}}
                """, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("config.json"), "{}");
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(List.of("lm_head.weight", "model.embed.weight", "model.ids"), List.copyOf(ck.names()));
            assertEquals(Map.of("total_size", "36"), ck.metadata());
            assertEquals(2, ck.files().size());
            assertEquals("model-00002-of-00002.safetensors", ck.fileOf("lm_head.weight").path().getFileName().toString());
            assertEquals(Map.of("format", "pt"), ck.fileOf("lm_head.weight").metadata());
            assertArrayEquals(a, ck.tensor("model.embed.weight").toFloatArray());
            assertEquals(-8, ck.tensor("model.ids").getInt(1));
            assertEquals(-0.25f, ck.tensor("lm_head.weight").getFloat(1));
        }
        // the index itself may be given as well
        try (Checkpoint ck = Checkpoint.open(dir.resolve(Checkpoint.INDEX_FILE))) {
            assertEquals(3, ck.size());
        }
    }

    @Test
    void directoryWithSingleFileAndEmptyFile(@TempDir Path dir) {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of(), Map.of());
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(0, ck.size());
            assertEquals(Map.of(), ck.metadata());
        }
    }
}
