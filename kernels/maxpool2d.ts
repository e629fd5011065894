/**
 * Max-pooling 2×2, stride 2 (VGG, §2.1).
 *
 * Shapes (NCHW): x [N, C, H, W] → y [N, C, Ho, Wo] with Ho = floor(H/2), Wo = floor(W/2).
 * An odd H or W drops the last row or column, as PyTorch does (MaxPool2d(2, 2), no
 * ceil_mode): those inputs reach no output and get a zero gradient.
 * Flat indices: x ((n*C + c)*H + y)*W + x, y ((n*C + c)*Ho + oy)*Wo + ox.
 * Ties: the first maximum in row-major order of the window wins (PyTorch's CPU rule), and
 * only it receives the gradient.
 *
 * Thread mapping: forward, one thread per output element; backward, one thread per input
 * element, which recomputes its window's argmax (no index tensor is stored). Both launch
 * per chunk of whole images below 2^24 elements.
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel } from './gpujs.js';
import { chunksOf } from './chunks.js';
import type { MapDims } from './dims.js';

function maxPool2dForwardKernel(this: any, x: number[]): number {
  const t = this.thread.x;
  const plane = Math.floor(t / (this.constants.Ho * this.constants.Wo)); // n*C + c
  const r = t - plane * this.constants.Ho * this.constants.Wo;
  const oy = Math.floor(r / this.constants.Wo);
  const ox = r - oy * this.constants.Wo;
  const base = (plane * this.constants.H + 2 * oy) * this.constants.W + 2 * ox;
  return Math.max(Math.max(x[base], x[base + 1]), Math.max(x[base + this.constants.W], x[base + this.constants.W + 1]));
}

function maxPool2dBackwardKernel(this: any, dy: number[], x: number[]): number {
  const t = this.thread.x;
  const plane = Math.floor(t / (this.constants.H * this.constants.W));
  const r = t - plane * this.constants.H * this.constants.W;
  const iy = Math.floor(r / this.constants.W);
  const ix = r - iy * this.constants.W;
  const oy = Math.floor(iy / 2);
  const ox = Math.floor(ix / 2);
  if (oy >= this.constants.Ho || ox >= this.constants.Wo) return 0; // dropped last row / column
  const base = (plane * this.constants.H + 2 * oy) * this.constants.W + 2 * ox;
  // argmax of the window, first maximum in row-major order: 0 1 / 2 3
  let best = x[base];
  let arg = 0;
  if (x[base + 1] > best) { best = x[base + 1]; arg = 1; }
  if (x[base + this.constants.W] > best) { best = x[base + this.constants.W]; arg = 2; }
  if (x[base + this.constants.W + 1] > best) { arg = 3; }
  const mine = (iy - 2 * oy) * 2 + (ix - 2 * ox);
  if (mine === arg) return dy[(plane * this.constants.Ho + oy) * this.constants.Wo + ox];
  return 0;
}

function dimsConstants(d: MapDims) {
  return { H: d.H, W: d.W, Ho: Math.floor(d.H / 2), Wo: Math.floor(d.W / 2) };
}

export async function maxPool2dForward(x: Float32Array, d: MapDims): Promise<Float32Array> {
  const { Ho, Wo } = dimsConstants(d);
  const inPer = d.C * d.H * d.W, outPer = d.C * Ho * Wo;
  const y = new Float32Array(d.N * outPer);
  for (const { start, count } of chunksOf(d.N, inPer, 'maxPool2d')) {
    y.set(await runKernel('maxPool2dForward', maxPool2dForwardKernel, count * outPer, dimsConstants(d),
      [x.subarray(start * inPer, (start + count) * inPer)]), start * outPer);
  }
  return y;
}

export async function maxPool2dBackward(dy: Float32Array, x: Float32Array, d: MapDims): Promise<Float32Array> {
  const { Ho, Wo } = dimsConstants(d);
  const inPer = d.C * d.H * d.W, outPer = d.C * Ho * Wo;
  const dx = new Float32Array(d.N * inPer);
  for (const { start, count } of chunksOf(d.N, inPer, 'maxPool2d (backward)')) {
    dx.set(await runKernel('maxPool2dBackward', maxPool2dBackwardKernel, count * inPer, dimsConstants(d),
      [dy.subarray(start * outPer, (start + count) * outPer), x.subarray(start * inPer, (start + count) * inPer)]), start * inPer);
  }
  return dx;
}

/** float64 reference: forward values and the argmax (flat input index) of each window */
export function maxPool2dForwardRef(x: ArrayLike<number>, d: MapDims) {
  const Ho = Math.floor(d.H / 2), Wo = Math.floor(d.W / 2);
  const y = new Float64Array(d.N * d.C * Ho * Wo);
  const argmax = new Int32Array(y.length);
  for (let plane = 0; plane < d.N * d.C; plane++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++) {
        let best = -Infinity, arg = -1;
        for (let ky = 0; ky < 2; ky++)
          for (let kx = 0; kx < 2; kx++) {
            const i = (plane * d.H + 2 * oy + ky) * d.W + 2 * ox + kx;
            if (x[i] > best) { best = x[i]; arg = i; }
          }
        const o = (plane * Ho + oy) * Wo + ox;
        y[o] = best;
        argmax[o] = arg;
      }
  return {
    /** the output [N, C, ⌊H/2⌋, ⌊W/2⌋] */ y,
    /** per output element, the flat index of its window's maximum in x */ argmax,
  };
}

/** dx in float64: each window's dy goes to its argmax, 0 elsewhere. */
export function maxPool2dBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, d: MapDims): Float64Array {
  const { argmax } = maxPool2dForwardRef(x, d);
  const dx = new Float64Array(d.N * d.C * d.H * d.W);
  argmax.forEach((i, o) => { dx[i] += dy[o]; });
  return dx;
}
