/**
 * Element-wise and reduction ops that autograd and SGD need: add, mul, scale, sum, and the
 * momentum / weight-decay update.
 *
 * Shapes: every input is a flat float32 array of the same length L (any tensor shape,
 * row-major), except `sum`, which returns one value.
 * Thread mapping: one thread per element; launches are split into flat chunks below 2^24
 * elements (kernels/chunks.ts). `sum` reduces in rounds: each thread adds SUM_BLOCK
 * consecutive values, until one value is left.
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these to the WebAssembly
 * SIMD fast path (kernels/wasm/pointwise.ts), with the same results (bit for bit, except
 * `sum`, which adds in float64 throughout there) and one pass for the SGD update.
 */
import { runKernel } from './gpujs.js';
import { chunksOf, mapFlatChunks } from './chunks.js';

function addKernel(this: any, a: number[], b: number[]): number {
  return a[this.thread.x] + b[this.thread.x];
}

function mulKernel(this: any, a: number[], b: number[]): number {
  return a[this.thread.x] * b[this.thread.x];
}

function scaleKernel(this: any, a: number[], s: number): number {
  return a[this.thread.x] * s;
}

/** thread = one block of the input; adds this.constants.B consecutive values (the last block may be short) */
function sumBlockKernel(this: any, a: number[]): number {
  let s = 0;
  for (let i = 0; i < this.constants.B; i++) {
    const k = this.thread.x * this.constants.B + i;
    if (k < this.constants.L) s += a[k];
  }
  return s;
}

/**
 * SGD with momentum and weight decay, PyTorch's semantics (torch.optim.SGD):
 *   d = g + weightDecay · p;  v = momentum · v + d;  p = p − lr · v
 * Two launches (a gpu.js kernel has one output): the velocity, then the parameter.
 */
function sgdVelocityKernel(this: any, v: number[], g: number[], p: number[], momentum: number, weightDecay: number): number {
  const i = this.thread.x;
  return momentum * v[i] + g[i] + weightDecay * p[i];
}

function sgdParamKernel(this: any, p: number[], v: number[], lr: number): number {
  const i = this.thread.x;
  return p[i] - lr * v[i];
}

/** Runs a one-thread-per-element kernel over flat arrays of equal length, chunk by chunk. */
function elementwise(name: string, source: (this: any, ...args: any[]) => number, arrays: Float32Array[], scalars: number[] = []): Promise<Float32Array> {
  const L = arrays[0].length;
  return mapFlatChunks(L, name, (start, count) =>
    runKernel(name, source, count, {}, [...arrays.map((a) => a.subarray(start, start + count)), ...scalars]));
}

export async function add(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  return elementwise('add', addKernel, [a, b]);
}

export async function mul(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  return elementwise('mul', mulKernel, [a, b]);
}

export async function scale(a: Float32Array, s: number): Promise<Float32Array> {
  return elementwise('scale', scaleKernel, [a], [s]);
}

export const SUM_BLOCK = 1024;

export async function sum(a: Float32Array): Promise<Float32Array> {
  let partials: Float32Array[] = [];
  for (const { start, count } of chunksOf(a.length, 1, 'sum')) partials.push(a.subarray(start, start + count));
  // Reduce each chunk, then the concatenated chunk sums, until one value is left.
  for (;;) {
    const next: Float32Array[] = [];
    for (const part of partials) {
      const blocks = Math.ceil(part.length / SUM_BLOCK);
      next.push(await runKernel('sum', sumBlockKernel, blocks, { B: SUM_BLOCK, L: part.length }, [part]));
    }
    const total = next.reduce((n, p) => n + p.length, 0);
    const joined = new Float32Array(total);
    let o = 0;
    for (const p of next) { joined.set(p, o); o += p.length; }
    if (total === 1) return joined;
    partials = [joined];
  }
}

export async function sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array, o: { lr: number; momentum: number; weightDecay: number }) {
  const velocity = await elementwise('sgdVelocity', sgdVelocityKernel, [v, g, p], [o.momentum, o.weightDecay]);
  const param = await elementwise('sgdParam', sgdParamKernel, [p, velocity], [o.lr]);
  return { param, velocity };
}

// float64 references
/** a + b element-wise, in float64. */
export const addRef = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);
/** a · b element-wise, in float64. */
export const mulRef = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v * b[i]);
/** a · s for a number s, in float64. */
export const scaleRef = (a: ArrayLike<number>, s: number) => Float64Array.from(a, (v) => v * s);
/** The sum of all values, in float64, as a one-element array (the shape the sum op returns). */
export function sumRef(a: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return Float64Array.of(s);
}
/** One SGD step in float64: v = momentum·v + g + weightDecay·p, then p − lr·v (PyTorch's order). */
export function sgdUpdateRef(p: ArrayLike<number>, g: ArrayLike<number>, v: ArrayLike<number>, o: { lr: number; momentum: number; weightDecay: number }) {
  const velocity = Float64Array.from(v, (vi, i) => o.momentum * vi + g[i] + o.weightDecay * p[i]);
  const param = Float64Array.from(p, (pi, i) => pi - o.lr * velocity[i]);
  return {
    /** the updated parameter */ param,
    /** the updated velocity */ velocity,
  };
}
