/**
 * The wasm backend's kernels: the WebAssembly SIMD fast path, registered under the
 * registry's names (fastpath.ts exports them under those names). It registers every
 * kernel of the registry (softmax, cross-entropy and LRN included), so nothing falls back
 * to gpu.js on this backend; getBackendInfo().kernels says 'wasm' for each.
 */
import { registerKernels } from '../registry.js';
import { dropoutPasses } from '../dropout.js';
import * as fast from './fastpath.js';

/** Registers the fast path's kernels (once: a second call does nothing). */
export function registerWasmKernels(): void {
  registerKernels('wasm', { ...fast, ...dropoutPasses(fast.dropoutApply) });
}
