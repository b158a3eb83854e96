package dev.laconic.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One persistent worker pool for every kernel, handed work through a spinning barrier.
 *
 * <p>Why not an ExecutorService: a hand-off through one costs ~45 µs on the 2-core machines this
 * was built on, and decoding one token makes ~200 parallel calls. Here the caller publishes a job
 * by bumping a volatile generation counter; workers that are spinning see it within a few hundred
 * nanoseconds, take chunks of the range from an atomic cursor, and count themselves done. The
 * caller works too, then closes the job and spins until every worker that joined it is done: it
 * never waits for a worker that has not started (on a loaded machine a descheduled worker used to
 * hold every call up until the OS ran it, only for it to find no chunk left; profiled under load,
 * that wait was half the caller's samples in a decode). Idle workers spin ~50 µs, then park, so an
 * idle pool costs no CPU.
 *
 * <p>Thread count: {@code -Dlaconic.threads=N}, else the number of available processors. Nested
 * calls (a kernel calling a kernel from inside a worker) and calls from a second thread while the
 * pool is busy run serially on the calling thread: never a deadlock, never oversubscription.
 */
public final class Parallel {
    /** A body over the index range [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private static final int THREADS = Math.max(1, Integer.getInteger("laconic.threads",
            Runtime.getRuntime().availableProcessors()));
    private static final long SPIN_NANOS = 50_000;

    private static final ReentrantLock OWNER = new ReentrantLock();
    private static final Thread[] WORKERS = new Thread[THREADS - 1];
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

    // The current job. Written by the caller before the generation bump (volatile write = release).
    private static Range body;
    private static int n, grain;
    private static final AtomicInteger cursor = new AtomicInteger();
    private static final AtomicInteger joined = new AtomicInteger();   // workers inside the current job
    private static volatile boolean open;                               // whether a worker may still join it
    private static volatile long generation;
    private static volatile Throwable failure;

    static {
        for (int w = 0; w < WORKERS.length; w++) {
            Thread t = new Thread(Parallel::workerLoop, "laconic-worker-" + (w + 1));
            t.setDaemon(true);
            WORKERS[w] = t;
            t.start();
        }
    }

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs body over [0, n) in chunks of {@code grain} indices, taken dynamically by the threads. */
    public static void forChunks(int n, int grain, Range body) {
        if (n <= 0) return;
        if (grain <= 0) throw new IllegalArgumentException("grain must be positive: " + grain);
        if (THREADS == 1 || n <= grain || INSIDE.get() || !OWNER.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Parallel.body = body;
            Parallel.n = n;
            Parallel.grain = grain;
            failure = null;
            cursor.set(0);
            open = true;                                 // publish (volatile write: the job's fields before it)
            generation++;
            for (Thread t : WORKERS) LockSupport.unpark(t);
            INSIDE.set(true);
            try {
                work();
            } finally {
                INSIDE.set(false);
            }
            // every chunk is taken; close the job, then wait for the workers inside it. A worker counts itself in
            // before it reads `open` and the caller closes before it reads the count (both volatile): either the
            // caller sees the worker and waits, or the worker sees the job closed and stays out.
            open = false;
            while (joined.get() != 0) Thread.onSpinWait();
            Parallel.body = null;
            Throwable f = failure;
            if (f != null) {
                if (f instanceof RuntimeException re) throw re;
                if (f instanceof Error e) throw e;
                throw new RuntimeException(f);
            }
        } finally {
            OWNER.unlock();
        }
    }

    private static void work() {
        Range b = body;
        int total = n, g = grain;
        try {
            for (int start; (start = cursor.getAndAdd(g)) < total; ) b.run(start, Math.min(total, start + g));
        } catch (Throwable t) {
            failure = t;
            cursor.set(total);
        }
    }

    private static void workerLoop() {
        INSIDE.set(true);
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(1_000_000);
            }
            seen = generation;
            joined.incrementAndGet();
            if (open) work();   // a later job's, if one opened meanwhile: its caller waits for it too
            joined.decrementAndGet();
        }
    }
}
