package dev.laconic.cluster;

import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.Callable;

/** One chunk, run on a worker's single chunk thread. */
record ChunkTask(Wire.PolicySpec policy, Wire.Sampling sampling, int[][] prompts, int[] streams, int index)
        implements Callable<Wire.Result>, Serializable {
    @Serial private static final long serialVersionUID = 1;

    @Override
    public Wire.Result call() throws Exception {
        Worker w = Worker.current();
        if (w == null) throw new IllegalStateException("this member is not a Laconic worker");
        return w.run(this);
    }
}
