/**
 * Benchmarks of the kernels against this machine's limits.
 *
 * <ul>
 *   <li>{@link dev.laconic.bench.Roofline}: {@code ./laconic bench roofline}, one process that
 *       measures read bandwidth and FMA peak ({@link dev.laconic.bench.MachineLimits}), times the
 *       GEMM/matvec kernels ({@link dev.laconic.bench.GemmCase}, {@link dev.laconic.bench.Timing}) and
 *       numpy/OpenBLAS on the same shapes ({@link dev.laconic.bench.OpenBlasPeer}), and prints
 *       achieved / limit ({@link dev.laconic.bench.RooflineReport}).</li>
 *   <li>{@link dev.laconic.bench.GemmBench}, {@link dev.laconic.bench.GemmBackwardBench}: JMH, via
 *       {@code ./laconic bench jmh}.</li>
 * </ul>
 */
package dev.laconic.bench;
