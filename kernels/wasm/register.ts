/**
 * The wasm backend's kernels: the WebAssembly SIMD fast path, registered under the
 * registry's names (fastpath.ts exports them under those names). It has no softmax,
 * cross-entropy or LRN kernel: for those the backend falls back, explicitly, to the gpujs
 * backend on gpu.js's cpu mode (getBackendInfo().kernels says which runs where).
 */
import { registerKernels } from '../registry.js';
import { dropoutPasses } from '../dropout.js';
import * as fast from './fastpath.js';

/** Registers the fast path's kernels (once: a second call does nothing). */
export function registerWasmKernels(): void {
  registerKernels('wasm', { ...fast, ...dropoutPasses(fast.dropoutApply) });
}
