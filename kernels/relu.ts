/**
 * ReLU: y = max(0, x); dx = dy · [x > 0] (the gradient at exactly 0 is 0, as in PyTorch).
 *
 * Shapes: x, y, dy, dx are flat arrays of the same length (any tensor shape).
 * Thread mapping: one thread per element, in flat chunks below 2^24 elements.
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel } from './gpujs.js';
import { mapFlatChunks } from './chunks.js';

function reluForwardKernel(this: any, x: number[]): number {
  return Math.max(x[this.thread.x], 0);
}

function reluBackwardKernel(this: any, dy: number[], x: number[]): number {
  const i = this.thread.x;
  if (x[i] > 0) return dy[i];
  return 0;
}

export async function reluForward(x: Float32Array): Promise<Float32Array> {
  return mapFlatChunks(x.length, 'relu', (s, n) => runKernel('reluForward', reluForwardKernel, n, {}, [x.subarray(s, s + n)]));
}

export async function reluBackward(dy: Float32Array, x: Float32Array): Promise<Float32Array> {
  return mapFlatChunks(x.length, 'relu (backward)', (s, n) =>
    runKernel('reluBackward', reluBackwardKernel, n, {}, [dy.subarray(s, s + n), x.subarray(s, s + n)]));
}

/** max(0, x) element-wise, in float64. */
export const reluForwardRef = (x: ArrayLike<number>) => Float64Array.from(x, (v) => Math.max(v, 0));
/** dy where x > 0, else 0 (the gradient at 0 is taken as 0, as PyTorch does), in float64. */
export const reluBackwardRef = (dy: ArrayLike<number>, x: ArrayLike<number>) => Float64Array.from(x, (v, i) => (v > 0 ? dy[i] : 0));
