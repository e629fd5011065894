/**
 * The CPU fast path: convolutions and fully connected layers as im2col + GEMM on the
 * WebAssembly SIMD kernels of gemm.as (built with pointwise.as by scripts/build-wasm.mjs into
 * dist/kernels/wasm/), on one or more threads. Node only (it reads the .wasm from disk and
 * runs worker_threads). The launchers take and return the same float32 layouts as the
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
 * F(2×2, 3×3) instead, forward and input gradient, and F(3×3, 2×2) for the weight
 * gradient (winograd.as); a linear layer at batch 1 runs gemv.
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
 */
import { allocate, isSettled } from '../../lib/pool.js';
import type { Conv2dDims } from '../conv2d.js';
import type { LinearDims } from '../linear.js';
import type { PoolDims } from '../maxpool2d.js';
import { type GemmModule, WEIGHT_BLOCK_FLOATS } from './module.js';
import type { Call } from './threads.js';
import { type FastPath, type Range, bands, copyOut, gemm, place, runParts, split, threadsFor, view, withFastPath } from './runtime.js';
import { plainFilters } from './filters.js';

export type { Conv3x3Algorithm, FastPathInfo, FastPathOptions, SimdBuild } from './module.js';
export { WINOGRAD_MIN_CHANNELS } from './module.js';
export { RESIDENT_BYTES } from './resident.js';
export { getFastPathInfo, initFastPath } from './runtime.js';
export { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv.js';

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

// ---------------------------------------------------------------------------------------
// Fully connected. The weight moves through the memory in blocks of output features.

/** blocks of rows of w [Out, In] of at most WEIGHT_BLOCK_FLOATS */
function weightBlocks(d: LinearDims): Range[] {
  return bands({ start: 0, count: d.Out }, Math.max(1, Math.floor(WEIGHT_BLOCK_FLOATS / Math.max(1, d.In))));
}

/**
 * Where the weight w [Out, In] of a linear layer is read from, block by block: resident
 * (kept between calls, one block) when it is settled and fits, else copied in per call, in
 * blocks of at most WEIGHT_BLOCK_FLOATS into one buffer. Call before placing buffers.
 */
async function linearWeights(fp: FastPath, w: Float32Array, d: LinearDims): Promise<{ blocks: Range[]; floats: number; at: (ob: Range, buffer: number) => number }> {
  if (isSettled(w) && w.length * 4 <= fp.residentBytes) {
    const wAt = await plainFilters(fp, w);
    return { blocks: d.Out ? [{ start: 0, count: d.Out }] : [], floats: 0, at: () => wAt };
  }
  const blocks = weightBlocks(d);
  return {
    blocks, floats: (blocks[0]?.count ?? 0) * d.In,
    at: (ob, buffer) => {
      view(fp, buffer, ob.count * d.In).set(w.subarray(ob.start * d.In, (ob.start + ob.count) * d.In));
      return buffer;
    },
  };
}

/** y = x·wᵀ + b; threads take columns of y (output features); one row of x is a matrix-vector product (gemv) */
export function linearForward(x: Float32Array, w: Float32Array, b: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const weights = await linearWeights(fp, w, d);
    const [xAt, yAt, bufferAt] = place(fp, d.N * d.In, d.N * d.Out, weights.floats);
    view(fp, xAt, d.N * d.In).set(x);
    const yv = view(fp, yAt, d.N * d.Out);
    for (let n = 0; n < d.N; n++) yv.set(b, n * d.Out);
    for (const ob of weights.blocks) {
      const wAt = weights.at(ob, bufferAt);
      const parts = split(ob.count, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t): Call[] => [d.N === 1
        ? ['gemv', p.count, d.In, xAt, wAt + p.start * d.In * 4, yAt + (ob.start + p.start) * 4]
        : gemm(d.N, p.count, d.In, { at: xAt, rs: d.In, cs: 1 }, { at: wAt + p.start * d.In * 4, rs: 1, cs: d.In }, yAt + (ob.start + p.start) * 4, d.Out, true, fp.scratch[t])]));
    }
    return copyOut(fp, yAt, d.N * d.Out);
  });
}

/** dx = dy·w, summed over the weight blocks; threads take columns of dx (input features) */
export function linearBackwardInput(dy: Float32Array, w: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const weights = await linearWeights(fp, w, d);
    const [dyAt, dxAt, bufferAt] = place(fp, d.N * d.Out, d.N * d.In, weights.floats);
    view(fp, dyAt, d.N * d.Out).set(dy);
    view(fp, dxAt, d.N * d.In).fill(0);
    for (const ob of weights.blocks) {
      const wAt = weights.at(ob, bufferAt);
      const parts = split(d.In, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t) => [gemm(d.N, p.count, ob.count, { at: dyAt + ob.start * 4, rs: d.Out, cs: 1 },
        { at: wAt + p.start * 4, rs: d.In, cs: 1 }, dxAt + p.start * 4, d.In, true, fp.scratch[t])]));
    }
    return copyOut(fp, dxAt, d.N * d.In);
  });
}

/** dw = dyᵀ·x, one weight block at a time; threads take columns of dw (input features) */
export function linearBackwardWeight(dy: Float32Array, x: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const blocks = weightBlocks(d);
    const [dyAt, xAt, dwAt] = place(fp, d.N * d.Out, d.N * d.In, (blocks[0]?.count ?? 0) * d.In);
    view(fp, dyAt, d.N * d.Out).set(dy);
    view(fp, xAt, d.N * d.In).set(x);
    const dw = allocate(d.Out * d.In);
    for (const ob of blocks) {
      const parts = split(d.In, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t) => [gemm(ob.count, p.count, d.N, { at: dyAt + ob.start * 4, rs: 1, cs: d.Out },
        { at: xAt + p.start * 4, rs: d.In, cs: 1 }, dwAt + p.start * 4, d.In, false, fp.scratch[t])]));
      dw.set(view(fp, dwAt, ob.count * d.In), ob.start * d.In);
    }
    return dw;
  });
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

// ---------------------------------------------------------------------------------------
// Memory-bound kernels (pointwise.as), on the calling thread, block by block.

/** The most floats of one buffer of a memory-bound kernel's block (128 KiB: the block's buffers stay in L2). */
const FLAT_BLOCK = 1 << 15;

/** an input of `blockwise`: the array, and its floats per item */
interface Stream {
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
function blockwise(items: number, inputs: Stream[], outputs: number[], kernel: (m: GemmModule, at: number[], count: number) => void): Promise<Float32Array[]> {
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
export async function maxPool2dForward(x: Float32Array, d: PoolDims): Promise<Float32Array> {
  const HW = d.H * d.W, out = Math.floor(d.H / 2) * Math.floor(d.W / 2);
  const [y] = await blockwise(d.N * d.C, [{ data: x, per: HW }], [out], (m, [xAt, yAt], planes) => m.maxPool2dForward(xAt, planes, d.H, d.W, yAt));
  return y;
}

/** dx: each window's dy to its first maximum (row-major), 0 elsewhere; blocks of whole planes */
export async function maxPool2dBackward(dy: Float32Array, x: Float32Array, d: PoolDims): Promise<Float32Array> {
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
