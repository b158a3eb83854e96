package dev.laconic.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend is chosen by name in Backends alone. In this module the TornadoVM backend is never on
 * the class path (it is built only with -Ptornado), so "tornado" must end in the one-line message
 * that says how to build and run it.
 */
class BackendsTest {

    @Test
    void cpuIsTheVectorApiKernels() {
        assertInstanceOf(VectorOps.class, Backends.ops("cpu"));
        assertInstanceOf(VectorOps.class, Backends.ops(" CPU "));
    }

    @Test
    void noNameReadsTheSystemPropertyElseCpu() {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            System.clearProperty(Backends.PROPERTY);
            assertInstanceOf(VectorOps.class, Backends.ops(null));
            System.setProperty(Backends.PROPERTY, "tornado");
            assertThrows(IllegalStateException.class, () -> Backends.ops(null));
        } finally {
            if (old == null) System.clearProperty(Backends.PROPERTY);
            else System.setProperty(Backends.PROPERTY, old);
        }
    }

    @Test
    void tornadoWithoutItsModuleSaysHowToBuildAndRunIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.ops("tornado"));
        assertEquals(Backends.HOW_TO_BUILD, e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertTrue(e.getMessage().contains("-Ptornado") && e.getMessage().contains("TORNADOVM_HOME"), e.getMessage());
    }

    @Test
    void anUnknownNameListsTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.ops("cuda"));
        assertEquals("unknown backend 'cuda': choose cpu or tornado", e.getMessage());
    }
}
