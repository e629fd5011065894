/**
 * Inverted dropout (Srivastava et al. 2014; VGG's FC6 and FC7 use p = 0.5, §3.1):
 *
 *   keep[i] = 1 with probability 1 − p, else 0;   y = x · keep / (1 − p);   dx = dy · keep / (1 − p)
 *
 * so the expected activation is unchanged and evaluation needs no rescaling.
 * The mask is a pure function of (seed, i): a 32-bit integer hash of the pair, made on the
 * host, so every mode sees the same mask bit for bit, chunks need no generator state, and
 * the backward pass rebuilds the forward's mask from the seed instead of storing it.
 *
 * Shapes: x, y, dy, dx flat arrays of the same length; keep is 0/1 float32 of that length.
 * Thread mapping: one thread per element, in flat chunks below 2^24 elements.
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel } from './gpujs.js';
import { mapFlatChunks } from './chunks.js';

/** keep[i] ∈ {0, 1}: element i survives when hash(seed, i) / 2^32 ≥ p */
export function dropoutMask(length: number, p: number, seed: number): Float32Array {
  const keep = new Float32Array(length);
  const s = Math.imul(seed | 0, 0x9e3779b1) >>> 0;
  for (let i = 0; i < length; i++) {
    // lowbias32 (Wellons): a well-mixed 32-bit integer hash
    let h = (i ^ s) >>> 0;
    h ^= h >>> 16; h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15; h = Math.imul(h, 0x846ca68b);
    h ^= h >>> 16;
    keep[i] = (h >>> 0) / 4294967296 >= p ? 1 : 0;
  }
  return keep;
}

/** the same kernel serves forward (on x) and backward (on dy) */
function dropoutApplyKernel(this: any, a: number[], keep: number[], scale: number): number {
  return a[this.thread.x] * keep[this.thread.x] * scale;
}

/** y = a · keep / (1 − p); used for the forward on x and the backward on dy */
export async function dropoutApply(a: Float32Array, keep: Float32Array, p: number): Promise<Float32Array> {
  const scale = 1 / (1 - p);
  return mapFlatChunks(a.length, 'dropout', (s, n) =>
    runKernel('dropoutApply', dropoutApplyKernel, n, {}, [a.subarray(s, s + n), keep.subarray(s, s + n), scale]));
}

/** The forward and backward passes over an `apply` (this file's, or the fast path's): the mask is drawn here, the same bits on every backend. */
export const dropoutPasses = (apply: typeof dropoutApply) => ({
  dropoutForward: (x: Float32Array, p: number, seed: number) => apply(x, dropoutMask(x.length, p, seed), p),
  dropoutBackward: (dy: Float32Array, p: number, seed: number) => apply(dy, dropoutMask(dy.length, p, seed), p),
});

export const { dropoutForward, dropoutBackward } = dropoutPasses(dropoutApply);

/**
 * Inverted dropout of `a` in float64, with the kernels' mask for (`p`, `seed`): kept values times 1/(1−p), the rest 0.
 */
export function dropoutRef(a: ArrayLike<number>, p: number, seed: number): Float64Array {
  const keep = dropoutMask(a.length, p, seed);
  return Float64Array.from(a, (v, i) => (v * keep[i]) / (1 - p));
}
