package dev.laconic.tensor;

/**
 * A backend's own limits, probed on its device: what a benchmark divides its rows by when the model
 * runs there rather than on this CPU ({@link Backend#extension}; the CPU backend has none, the bench
 * commands then probe the CPU themselves). Each probe is a simple kernel of the device's own, timed
 * after a warm-up: a copy for the read bandwidth, independent FMA chains for the arithmetic peak.
 */
public interface DeviceLimits {
    /** The device's name, as its runtime reports it. */
    String device();

    /** Read bandwidth in GB/s: bytes read (and as many written) per second by a device copy of {@code bytes}. */
    double readBandwidthGBs(long bytes);

    /** F32 FMA peak in GFLOP/s (2 flops an FMA), from independent FMA chains on every device thread. */
    double fmaPeakGflops();
}
