/**
 * The CPU fast path: convolutions and fully connected layers as im2col + GEMM on the
 * WebAssembly SIMD kernels of gemm.as (built with pointwise.as by scripts/build-wasm.mjs into
 * dist/kernels/wasm/), on one or more threads, in Node and in browsers (platform.ts: the
 * .wasm read from disk or fetched, worker_threads or Web Workers). The launchers take and return the same float32 layouts as the
 * gpu.js launchers of kernels/conv2d.ts and kernels/linear.ts:
 *
 *   conv  x [N, Cin, H, W]   w [Cout, Cin, K, K] = W[Cout × Cin·K·K]   y, dy [N, Cout, H, W]
 *     forward          y_n = W · col(x_n) + b          (col: im2col, [Cin·K·K × H·W])
 *     backward input   dx_n = col2im(Wᵀ · dy_n)
 *     backward weight  dW = Σ_n dy_n · col(x_n)ᵀ
 *     a 1×1 convolution uses x_n itself as col (no copy).
 *   linear  x [N, In]   w [Out, In]   y, dy [N, Out]
 *     y = x·wᵀ + b     dx = dy·w     dw = dyᵀ·x
 * Transposes are never made: the GEMM reads Wᵀ, col(x)ᵀ, wᵀ and dyᵀ through strides.
 * Where it saves (useWinograd, winogradWeightLayout), a 3×3 convolution runs Winograd's
 * F(4×4, 3×3) or F(2×2, 3×3) instead, forward and input gradient (winograd4.as,
 * winograd.as), and F(3×3, 2×2) for the weight gradient; a linear layer at batch ≤ 4 runs
 * the streaming matrix-vector kernels of gemv.as. Threads: every core by default.
 * softmax.ts and lrn.ts run softmax, the softmax cross-entropy and LRN (softmax-lrn.as:
 * exp and log as f32x4 polynomials), LRN on the threads, by images or by pixels.
 * It also runs the memory-bound kernels of pointwise.as (ReLU, max-pool 2×2, add / mul /
 * scale / sum, the SGD update, dropout) with the same signatures and results as the
 * launchers of kernels/relu.ts, maxpool2d.ts, elementwise.ts and dropout.ts, on the
 * calling thread only (they are limited by memory bandwidth, not arithmetic), block by
 * block (FLAT_BLOCK).
 *
 * Memory: one shared WebAssembly.Memory, grown as needed, never shrunk. From the module's
 * heap base: one GEMM scratch area per thread (packed panels), then the buffers of the
 * call that runs (weights, one image's input and output, a col buffer per thread), placed
 * anew by each call. Inputs are copied in per image, outputs copied out. Work that would
 * need a big col buffer runs in bands of output rows (BAND_FLOATS), a big linear weight in
 * blocks of output features (WEIGHT_BLOCK_FLOATS), so memory stays near the size of one
 * image's activations.
 *
 * Threads: with T threads, the work of each image (each weight block) is cut into T parts
 * that write disjoint outputs: the forward by rows of the output image, the input and
 * weight gradients by input channels, linear layers by columns of the result. Part 0 runs
 * on the calling thread, the others on worker threads that share the memory; each part
 * is a list of calls of the module's exports, posted through a channel of shared memory
 * (Helper). Winograd's work splits by channels instead (its transforms, then its GEMMs),
 * or, for thin layers on big images, by tile rows (winogradConv).
 *
 * Files, each importing only those before it: module.ts (the module's exports as TypeScript
 * sees them, the options, the tuning constants); platform.ts (what differs between Node and
 * a browser); threads.ts (the worker protocol: Helper, whose worker, wasm-worker.ts, runs
 * threads.ts's serveJobs) and resident.ts (the store of resident filters);
 * runtime.ts (loading and warm-up, the threads, the memory's buffers, runParts);
 * filters.ts (the filters as the launchers use them, resident or per call); the launchers:
 * winograd.ts, conv.ts (which hands 3×3 convolutions to winograd.ts), linear.ts,
 * pointwise.ts (with the bias gradients), softmax.ts and lrn.ts. This file re-exports their public API.
 */
export type { Conv3x3Algorithm, FastPathInfo, FastPathOptions, SimdBuild, WinogradTile } from './module.js';
export { WINOGRAD4_MAX_CHANNELS, WINOGRAD_MIN_CHANNELS } from './module.js';
export { RESIDENT_BYTES } from './resident.js';
export { getFastPathInfo, initFastPath } from './runtime.js';
export { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv.js';
export { linearBackwardInput, linearBackwardWeight, linearForward } from './linear.js';
export {
  add, conv2dBackwardBias, dropoutApply, linearBackwardBias, maxPool2dBackward, maxPool2dForward, mul, reluBackward, reluForward, scale, sgdUpdate, sum,
} from './pointwise.js';
export { crossEntropyBackward, crossEntropyRows, softmaxBackward, softmaxForward } from './softmax.js';
export { lrnBackward, lrnForward } from './lrn.js';
