package dev.laconic.training;

import dev.laconic.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {
    /*
     * Expected values from torch 2.13 in float64:
     *   a = Parameter([1.0, -2.0, 0.5]); b = Parameter([[0.25, -0.75]])
     *   opt = torch.optim.AdamW([a, b], lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
     *   for each (ga, gb): a.grad, b.grad = ga, gb; n = clip_grad_norm_([a, b], 2.0); opt.step()
     */
    static final float[][][] GRADS = {
            {{0.5f, -1.0f, 3.0f}, {2.0f, 0.0f}},
            {{-0.25f, 0.5f, 1.0f}, {-1.0f, 4.0f}},
            {{0.0f, 2.0f, -0.5f}, {0.5f, 0.5f}}};
    static final double[] NORMS = {3.774917217635375, 4.2793106921559225, 2.179449471770337};
    static final double[][][] AFTER = {
            {{0.8900000037749181, -1.880000001887459, 0.395000000629153}, {0.14750000094372953, -0.7424999999999999}},
            {{0.8495718513382988, -1.8296718486929702, 0.3048499791202528}, {0.11449684737030584, -0.8085709996813721}},
            {{0.8163896593834185, -1.8639368031688313, 0.2544027677280438}, {0.06665175016080492, -0.8715087986516099}}};

    static List<Param> params() {
        return List.of(Param.of("a", Tensor.of(new float[]{1.0f, -2.0f, 0.5f}, 3)),
                Param.of("b", Tensor.of(new float[]{0.25f, -0.75f}, 1, 2)));
    }

    static void setGrads(List<Param> ps, float[][] g) {
        for (int i = 0; i < ps.size(); i++)
            for (int j = 0; j < g[i].length; j++) ps.get(i).grad().setFloat(j, g[i][j]);
    }

    @Test
    void matchesTorchAdamWWithClipping() {
        List<Param> ps = params();
        AdamW opt = new AdamW(ps, new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1));
        for (int k = 0; k < GRADS.length; k++) {
            setGrads(ps, GRADS[k]);
            double norm = AdamW.clipGradNorm(ps, 2.0);
            assertEquals(NORMS[k], norm, 1e-6 * NORMS[k]);
            opt.step(0.1);
            for (int i = 0; i < ps.size(); i++)
                for (int j = 0; j < AFTER[k][i].length; j++)
                    assertEquals(AFTER[k][i][j], ps.get(i).value().getFloat(j), 2e-7 * Math.max(1, Math.abs(AFTER[k][i][j])), "step " + (k + 1) + " " + ps.get(i).name() + "[" + j + "]");
        }
        assertEquals(3, opt.step());
    }

    @Test
    void clippingScalesOnlyAboveTheThreshold() {
        List<Param> ps = params();
        setGrads(ps, new float[][]{{3, 0, 0}, {0, 4}});           // ‖g‖ = 5
        assertEquals(5.0, AdamW.clipGradNorm(ps, 10), 1e-12);
        assertEquals(3f, ps.get(0).grad().getFloat(0));
        assertEquals(5.0, AdamW.clipGradNorm(ps, 1), 1e-12);
        assertEquals(3 / (5 + 1e-6), ps.get(0).grad().getFloat(0), 1e-7);
        assertEquals(4 / (5 + 1e-6), ps.get(1).grad().getFloat(1), 1e-7);
        assertEquals(1.0, AdamW.gradNorm(ps), 1e-6);
    }

    @Test
    void stateRoundTripContinuesIdentically() {
        List<Param> straight = params(), resumed = params();
        AdamW a = new AdamW(straight, new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1));
        setGrads(straight, GRADS[0]);
        a.step(0.1);
        // a second optimizer on copies of the parameters and state continues exactly like the first
        for (int i = 0; i < 2; i++) resumed.get(i).value().copyFrom(straight.get(i).value());
        AdamW b = new AdamW(resumed, new AdamW.Hyper(0.9, 0.95, 1e-8, 0.1));
        Map<String, Tensor> st = a.state();
        assertEquals(4, st.size());
        b.load(st, a.step());
        setGrads(straight, GRADS[1]);
        setGrads(resumed, GRADS[1]);
        a.step(0.1);
        b.step(0.1);
        for (int i = 0; i < 2; i++)
            assertArrayEquals(straight.get(i).value().toFloatArray(), resumed.get(i).value().toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> b.load(Map.of(), 1));
    }
}
