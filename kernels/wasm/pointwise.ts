/**
 * The memory-bound kernels of pointwise.as on the calling thread, and the bias gradients
 * of convolutions and linear layers (plain loops, no call of the module).
 */
import { allocate } from '../pool.js';
import type { Conv2dDims } from '../dims.js';
import type { LinearDims } from '../dims.js';
import type { MapDims } from '../dims.js';
import type { GemmModule } from './module.js';
import { place, view, withFastPath } from './runtime.js';

// ---------------------------------------------------------------------------------------
// Memory-bound kernels (pointwise.as), on the calling thread, block by block.

/** The most floats of one buffer of a memory-bound kernel's block (128 KiB: the block's buffers stay in L2). */
const FLAT_BLOCK = 1 << 15;

/** an input of `blockwise`: the array, and its floats per item */
export interface Stream {
  data: Float32Array;
  per: number;
}

/**
 * Runs a memory-bound kernel over `items` items (elements; planes of a pooling) in blocks
 * of whole items, at most FLAT_BLOCK floats per buffer (one item when an item is bigger):
 * copies each input's block into the memory, calls `kernel(module, [...input addresses,
 * ...output addresses], items in the block)`, and copies each output's block (`outputs[i]` floats
 * per item) out. Returns the outputs.
 */
export function blockwise(items: number, inputs: Stream[], outputs: number[], kernel: (m: GemmModule, at: number[], count: number) => void): Promise<Float32Array[]> {
  return withFastPath(async (fp) => {
    const widest = Math.max(1, ...inputs.map((s) => s.per), ...outputs);
    const block = Math.max(1, Math.min(items, Math.floor(FLAT_BLOCK / widest)));
    const at = place(fp, ...inputs.map((s) => block * s.per), ...outputs.map((per) => block * per));
    const results = outputs.map((per) => allocate(items * per));
    for (let start = 0; start < items; start += block) {
      const count = Math.min(block, items - start);
      inputs.forEach((s, i) => view(fp, at[i], count * s.per).set(s.data.subarray(start * s.per, (start + count) * s.per)));
      kernel(fp.m, at, count);
      outputs.forEach((per, i) => results[i].set(view(fp, at[inputs.length + i], count * per), start * per));
    }
    return results;
  });
}

/** y = max(x, 0) */
export async function reluForward(x: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(x.length, [{ data: x, per: 1 }], [1], (m, [xAt, yAt], n) => m.reluForward(xAt, yAt, n));
  return y;
}

/** dx = dy · [x > 0] */
export async function reluBackward(dy: Float32Array, x: Float32Array): Promise<Float32Array> {
  const [dx] = await blockwise(x.length, [{ data: dy, per: 1 }, { data: x, per: 1 }], [1], (m, [dyAt, xAt, dxAt], n) => m.reluBackward(dyAt, xAt, dxAt, n));
  return dx;
}

/** y [N, C, H/2, W/2] = the maximum of each 2×2 window of x [N, C, H, W]; blocks of whole planes */
export async function maxPool2dForward(x: Float32Array, d: MapDims): Promise<Float32Array> {
  const HW = d.H * d.W, out = Math.floor(d.H / 2) * Math.floor(d.W / 2);
  const [y] = await blockwise(d.N * d.C, [{ data: x, per: HW }], [out], (m, [xAt, yAt], planes) => m.maxPool2dForward(xAt, planes, d.H, d.W, yAt));
  return y;
}

/** dx: each window's dy to its first maximum (row-major), 0 elsewhere; blocks of whole planes */
export async function maxPool2dBackward(dy: Float32Array, x: Float32Array, d: MapDims): Promise<Float32Array> {
  const HW = d.H * d.W, out = Math.floor(d.H / 2) * Math.floor(d.W / 2);
  const [dx] = await blockwise(d.N * d.C, [{ data: dy, per: out }, { data: x, per: HW }], [HW],
    (m, [dyAt, xAt, dxAt], planes) => m.maxPool2dBackward(dyAt, xAt, planes, d.H, d.W, dxAt));
  return dx;
}

/** a + b */
export async function add(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: b, per: 1 }], [1], (m, [aAt, bAt, yAt], n) => m.add(aAt, bAt, yAt, n));
  return y;
}

/** a · b */
export async function mul(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: b, per: 1 }], [1], (m, [aAt, bAt, yAt], n) => m.mul(aAt, bAt, yAt, n));
  return y;
}

/** a · s, the product in float64 */
export async function scale(a: Float32Array, s: number): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }], [1], (m, [aAt, yAt], n) => m.scale(aAt, s, yAt, n));
  return y;
}

/** Σ a, added in float64, as one float32 */
export async function sum(a: Float32Array): Promise<Float32Array> {
  let total = 0;
  await blockwise(a.length, [{ data: a, per: 1 }], [], (m, [aAt], n) => { total += m.sum(aAt, n); });
  return Float32Array.of(total);
}

/** SGD with momentum and weight decay: v = momentum·v + g + weightDecay·p;  p = p − lr·v (kernels/elementwise.ts) */
export async function sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array, o: { lr: number; momentum: number; weightDecay: number }) {
  const [param, velocity] = await blockwise(p.length, [{ data: p, per: 1 }, { data: g, per: 1 }, { data: v, per: 1 }], [1, 1],
    (m, [pAt, gAt, vAt, paramAt, velocityAt], n) => m.sgdUpdate(pAt, gAt, vAt, paramAt, velocityAt, n, o.lr, o.momentum, o.weightDecay));
  return { param, velocity };
}

/** a · keep / (1 − p), keep ∈ {0, 1} made on the host (kernels/dropout.ts) */
export async function dropoutApply(a: Float32Array, keep: Float32Array, p: number): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: keep, per: 1 }], [1], (m, [aAt, keepAt, yAt], n) => m.dropoutApply(aAt, keepAt, 1 / (1 - p), yAt, n));
  return y;
}

// ---------------------------------------------------------------------------------------
// Bias gradients: sums over dy on the calling thread, in JavaScript.

/** db[co] = Σ_n Σ_pixels dy[n, co] */
export async function conv2dBackwardBias(dy: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const HW = d.H * d.W;
  const db = new Float32Array(d.Cout);
  for (let co = 0; co < d.Cout; co++) {
    let s = 0;
    for (let n = 0; n < d.N; n++) {
      const base = (n * d.Cout + co) * HW;
      for (let p = 0; p < HW; p++) s += dy[base + p];
    }
    db[co] = s;
  }
  return db;
}

/** db[o] = Σ_n dy[n, o] */
export async function linearBackwardBias(dy: Float32Array, d: LinearDims): Promise<Float32Array> {
  const db = new Float32Array(d.Out);
  for (let o = 0; o < d.Out; o++) {
    let s = 0;
    for (let n = 0; n < d.N; n++) s += dy[n * d.Out + o];
    db[o] = s;
  }
  return db;
}
