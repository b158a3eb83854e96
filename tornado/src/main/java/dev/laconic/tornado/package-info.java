/**
 * The GPU backend on TornadoVM ({@code --backend tornado}), built only with the Maven profile
 * {@code tornado}: {@link dev.laconic.tornado.TornadoOps} (chosen through
 * {@link dev.laconic.tornado.TornadoBackend}, found by {@code dev.laconic.tensor.Backend.named}), the whole-model decode step
 * {@link dev.laconic.tornado.TornadoDecoder} with its kernels
 * {@link dev.laconic.tornado.DecodeKernels}, and the device GEMMs of prefill and training
 * ({@link dev.laconic.tornado.DeviceGemm}).
 * tornado/README.md says how to install TornadoVM and run it.
 */
package dev.laconic.tornado;
