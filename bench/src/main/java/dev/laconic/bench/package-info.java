/**
 * Benchmarks of the kernels against this machine's limits.
 *
 * <ul>
 *   <li>{@link dev.laconic.bench.Roofline}: {@code ./laconic bench roofline}, one process that
 *       measures read bandwidth and FMA peak ({@link dev.laconic.bench.MachineLimits}), times the
 *       GEMM/matvec kernels ({@link dev.laconic.bench.GemmCase}, {@link dev.laconic.bench.Timing}) and
 *       numpy/OpenBLAS on the same shapes ({@link dev.laconic.bench.OpenBlasPeer}), and prints
 *       achieved / limit ({@link dev.laconic.bench.RooflineReport}).</li>
 *   <li>{@code bench decode} ({@link dev.laconic.bench.decode}) and {@code bench train}
 *       ({@link dev.laconic.bench.train}): the decode and training benchmarks, with their peers.</li>
 *   <li>GemmBench, GemmBackwardBench: JMH, via {@code ./laconic bench jmh}. They and Jlama live in
 *       bench/peers and run in a child JVM on the peers' class path ({@link dev.laconic.bench.Peers}):
 *       this module compiles against neither JMH nor Jlama.</li>
 * </ul>
 */
package dev.laconic.bench;
