package dev.laconic.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --backend on the model commands (through ModelOptions): cpu runs as before; tornado in a build
 * without the TornadoVM module (the default build) fails with exit 1 and one "error:" line that says
 * how to get it, never a stack trace.
 */
class BackendFlagTest {

    @Test
    void cpuGeneratesAsBefore() throws Exception {
        ModelCommandsTest.Run r = ModelCommandsTest.run("generate", "--model", ModelCommandsTest.MODEL.toString(), "--backend", "cpu",
                "--prompt", "Hello", "--max-tokens", "2", "--temperature", "0");
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void tornadoWithoutTheModuleIsOneClearLine() {
        ModelCommandsTest.Run r = ModelCommandsTest.run("generate", "--model", ModelCommandsTest.MODEL.toString(), "--backend", "tornado",
                "--prompt", "Hello", "--max-tokens", "2");
        assertEquals(1, r.exit());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("error: the tornado backend is not in this build") && err.contains("TORNADOVM_HOME"), err);
    }
}
