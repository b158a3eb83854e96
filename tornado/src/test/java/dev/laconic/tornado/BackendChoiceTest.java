package dev.laconic.tornado;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.Ops;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code Backend.named("tornado")} with this module on the class path: TornadoOps on its device when
 * the runtime is there; without it, the one-line message saying how to install and run TornadoVM
 * (never a TornadoVM stack trace). Exactly one of the two tests runs in a given JVM.
 */
class BackendChoiceTest {

    @Test
    void tornadoWithTheRuntimeIsTornadoOpsOnItsDevice() {
        Device.assumeRuntime();
        Ops ops = Backend.named("tornado").ops();
        assertTrue(Backend.named("tornado").extension(dev.laconic.transformer.DeviceDecoder.Source.class).isPresent());
        TornadoOps t = assertInstanceOf(TornadoOps.class, ops);
        assertFalse(t.device().isBlank(), "the default device has a name");
    }

    @Test
    void tornadoWithoutTheRuntimeSaysHowToGetIt() {
        assumeFalse(Device.present(), "a TornadoVM runtime is present: the other test of this class runs");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backend.named("tornado").ops());
        assertEquals(TornadoBackend.NO_RUNTIME, e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertTrue(e.getMessage().contains("TORNADOVM_HOME") && e.getMessage().contains("tornado-argfile"), e.getMessage());
    }
}
