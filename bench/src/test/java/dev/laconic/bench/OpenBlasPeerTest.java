package dev.laconic.bench;

import dev.laconic.bench.GemmCase.Kind;
import dev.laconic.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The bundled numpy script answers for every case, when a Python with numpy exists (skipped otherwise). */
class OpenBlasPeerTest {

    @Test
    void peerTimesEveryCaseKind() throws Exception {
        String python = OpenBlasPeer.findPython(null, new ArrayList<>());
        assumeTrue(python != null, "no Python with numpy here");
        List<GemmCase> cases = List.of(
                new GemmCase("fwd a", Kind.FWD, 17, 40, 24, DType.F32),
                new GemmCase("dx a", Kind.DX, 17, 40, 24, DType.F32),
                new GemmCase("dw a", Kind.DW, 17, 40, 24, DType.F32));
        OpenBlasPeer.Result r = OpenBlasPeer.run(python, cases, 1, new Timing.Budget(1, 2, 0.0));
        assertEquals(List.of("fwd a", "dx a", "dw a"), List.copyOf(r.gflops().keySet()));
        for (double g : r.gflops().values()) assertTrue(Double.isFinite(g) && g > 0, r.gflops().toString());
        assertNotNull(r.blas().get("internal_api"), r.blas().toString());
    }

    @Test
    void aPythonWithoutNumpyIsNotChosen() {
        List<String> tried = new ArrayList<>();
        assertNull(OpenBlasPeer.findPython("/nonexistent/bin/python", tried));
        assertEquals(List.of("/nonexistent/bin/python"), tried);
    }
}
