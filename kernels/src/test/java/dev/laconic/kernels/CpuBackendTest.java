package dev.laconic.kernels;

import dev.laconic.tensor.Backend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend is chosen by name in {@link Backend#named} alone, from what ServiceLoader finds. In this
 * module the TornadoVM backend is never on the class path (it is built only with -Ptornado), so
 * "tornado" must end in the one-line message that says how to build and run it.
 */
class CpuBackendTest {

    @Test
    void cpuIsTheVectorApiKernelsOnce() {
        Backend b = Backend.named("cpu");
        assertEquals("cpu", b.name());
        assertInstanceOf(VectorOps.class, b.ops());
        assertSame(b.ops(), b.ops(), "one Ops per backend instance");
        assertSame(b, Backend.named("cpu"), "one backend instance per JVM");
        assertInstanceOf(VectorOps.class, Backend.named(" CPU ").ops());
        assertTrue(b.extension(Object.class).isEmpty(), "the CPU offers no device extensions");
    }

    @Test
    void noNameReadsTheSystemPropertyElseCpu() {
        String old = System.getProperty(Backend.PROPERTY);
        try {
            System.clearProperty(Backend.PROPERTY);
            assertEquals("cpu", Backend.named(null).name());
            System.setProperty(Backend.PROPERTY, "tornado");
            assertThrows(IllegalStateException.class, () -> Backend.named(null));
        } finally {
            if (old == null) System.clearProperty(Backend.PROPERTY);
            else System.setProperty(Backend.PROPERTY, old);
        }
    }

    @Test
    void tornadoWithoutItsModuleSaysHowToBuildAndRunIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backend.named("tornado"));
        assertEquals(Backend.HOW_TO_BUILD_TORNADO, e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertTrue(e.getMessage().contains("-Ptornado") && e.getMessage().contains("TORNADOVM_HOME"), e.getMessage());
    }

    @Test
    void anUnknownNameListsTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.named("cuda"));
        assertEquals("unknown backend 'cuda': choose cpu or tornado", e.getMessage());
    }
}
