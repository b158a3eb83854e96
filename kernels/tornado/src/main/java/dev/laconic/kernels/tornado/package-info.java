/**
 * The GPU backend on TornadoVM ({@code --backend tornado}), built only with the Maven profile
 * {@code tornado}: {@link dev.laconic.kernels.tornado.TornadoOps} (chosen through
 * {@code dev.laconic.kernels.Backends}), the whole-model decode step
 * {@link dev.laconic.kernels.tornado.TornadoDecoder} with its kernels
 * {@link dev.laconic.kernels.tornado.DecodeKernels}, and the device GEMMs of prefill and training
 * ({@link dev.laconic.kernels.tornado.DeviceGemm}).
 * kernels/tornado/README.md says how to install TornadoVM and run it.
 */
package dev.laconic.kernels.tornado;
