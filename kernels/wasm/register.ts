/**
 * The wasm backend's kernels: the WebAssembly SIMD fast path, registered under the
 * registry's names (fastpath.ts exports them under those names). It has no softmax,
 * cross-entropy or LRN kernel: for those the backend falls back, explicitly, to the gpujs
 * backend on gpu.js's cpu mode (getBackendInfo().kernels says which runs where).
 */
import { registerKernels } from '../registry.js';
import { dropoutMask } from '../dropout.js';
import * as fast from './fastpath.js';

/** Registers the fast path's kernels (once: a second call does nothing). */
export function registerWasmKernels(): void {
  registerKernels('wasm', {
    ...fast,
    // the mask is drawn in JS (kernels/dropout.ts), the same bits on every backend
    dropoutForward: (x, p, seed) => fast.dropoutApply(x, dropoutMask(x.length, p, seed), p),
    dropoutBackward: (dy, p, seed) => fast.dropoutApply(dy, dropoutMask(dy.length, p, seed), p),
  });
}
