package dev.laconic.tornado;

import dev.laconic.tensor.Tensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Test helpers for the device tests: the runtime assumption (device tests are skipped, with the
 * reason, when no TornadoVM runtime is on the JVM), one-graph runs, and FloatArray ↔ Tensor.
 */
final class Device {
    static final String SKIP = "no TornadoVM runtime on this JVM: run with TORNADOVM_HOME set to a TornadoVM SDK "
            + "(the tornado-runtime profile then adds its argfile to Surefire; tornado/README.md)";
    private static int graphs;

    private Device() {}

    static boolean present() {
        return System.getProperty("tornado.load.api.implementation") != null;
    }

    static void assumeRuntime() {
        assumeTrue(present(), SKIP);
    }

    /**
     * Runs the kernels either on the device (one task graph: inputs uploaded, outputs downloaded) or
     * as plain Java (the same {@code @Parallel} loops run sequentially).
     */
    static void run(boolean device, Consumer<TaskGraph> tasks, Runnable java, Object[] inputs, Object... outputs) {
        if (!device) {
            java.run();
            return;
        }
        TaskGraph g = new TaskGraph("test" + graphs++).transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs);
        tasks.accept(g);
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, outputs);
        try (TornadoExecutionPlan p = new TornadoExecutionPlan(g.snapshot())) {
            p.execute();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Object[] in(Object... a) { return a; }

    static FloatArray array(Tensor t) {
        return FloatArray.fromArray(t.toFloatArray());
    }

    static FloatArray nan(int n) {
        FloatArray a = new FloatArray(n);
        a.init(Float.NaN);
        return a;
    }

    static Tensor tensor(FloatArray a, int... shape) {
        return Tensor.of(a.toHeapArray(), shape);
    }

    /** Tensor of the elements [from, from + numel(shape)) of a. */
    static Tensor slice(FloatArray a, int from, int... shape) {
        float[] all = a.toHeapArray();
        int n = 1;
        for (int s : shape) n *= s;
        return Tensor.of(java.util.Arrays.copyOfRange(all, from, from + n), shape);
    }
}
