package dev.laconic.bench.decode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from Linux {@code /proc/self}: the peak (VmHWM, the high-water mark
 * of VmRSS) is what "generation fits in weights + 1 GB" is about, because it counts everything the
 * process touched: Java heap, off-heap KV caches and activations, and the pages of memory-mapped
 * weights that were read. Elsewhere (not Linux) every figure is -1.
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    /** VmHWM in bytes: the most resident memory this process has had (since start or the last reset). */
    public static long peakRssBytes() {
        return statusKb("VmHWM:") * 1024;
    }

    /** VmRSS in bytes: resident memory now. */
    public static long rssBytes() {
        return statusKb("VmRSS:") * 1024;
    }

    /**
     * Resets VmHWM to the current VmRSS (writing 5 to /proc/self/clear_refs, Linux 4.0+), so that a
     * later {@link #peakRssBytes()} covers only what happens from here: not, e.g., the 1 GiB buffer the
     * bandwidth measurement touched and already freed. False when the kernel refused.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The Java heap's share of the peak: Σ over heap pools (eden, survivor, old) of each pool's peak
     * committed bytes since the last {@link #resetHeapPeaks()}. An upper bound on the heap's part of
     * VmHWM (the pools need not peak together); committed pages that were never touched count here
     * but not in RSS.
     */
    static long heapPeakCommittedBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getCommitted();
        return sum;
    }

    /** Σ over heap pools of each pool's peak used bytes since the last reset: the live data plus garbage not yet collected. */
    static long heapPeakUsedBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        return sum;
    }

    static void resetHeapPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    private static long statusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String v = line.substring(key.length()).strip();          // "12345 kB"
                    return Long.parseLong(v.substring(0, v.indexOf(' ')));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc is not mounted
        }
        return -1;
    }
}
