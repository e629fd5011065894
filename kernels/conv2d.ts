/**
 * 2-D convolution, stride 1, "same" padding P = (K - 1) / 2: the 3×3 (P = 1) and 1×1
 * (P = 0) convolutions of VGG (Table 1). Any N, Cin, Cout, H, W.
 *
 * Shapes (NCHW, row-major, as in PyTorch):
 *   x  [N, Cin, H, W]      flat ((n*Cin + ci)*H + y)*W + x
 *   w  [Cout, Cin, K, K]   flat ((co*Cin + ci)*K + ky)*K + kx
 *   b  [Cout]
 *   y  [N, Cout, H, W]     y[n,co,y,x] = b[co] + Σ_ci Σ_ky Σ_kx w[co,ci,ky,kx] · x[n,ci,y+ky-P,x+kx-P]
 *   (x outside the image reads as 0)
 *
 * Thread mapping: one thread per output element, `this.thread.x` = the flat index of the
 * element within the launch; for the 3×3 forward and input gradient, four neighbouring
 * outputs per thread where the mode allows (register blocking: kernels/conv2d-blocked.ts,
 * whose launchers run first). Forward and the input gradient launch per chunk of whole
 * images (kernels/chunks.ts keeps each launch below 2^24 elements); the weight and bias
 * gradients launch one thread per weight (bias) element and loop over a block of images
 * and rows (at most LOOP_BUDGET iterations, kernels/gpujs.ts), then the blocks' partial
 * sums are added (on the GPU where it can keep them: runKernelSum).
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel, runKernelSum, LOOP_BUDGET } from './gpujs.js';
import { BackendError } from './errors.js';
import { conv2dForwardBlocked, conv2dBackwardInputBlocked, constantsFor, imageChunks } from './conv2d-blocked.js';
import type { Conv2dDims } from './dims.js';

// ---------------------------------------------------------------------------------------
// gpu.js kernels. Loop bounds are constants (never arguments: GPUJS.md trap 1).

/** forward: thread = output element (n, co, y, x) of the chunk */
function conv2dForwardKernel(this: any, x: number[], w: number[], b: number[]): number {
  const HW = this.constants.H * this.constants.W;
  const t = this.thread.x;
  const n = Math.floor(t / (this.constants.Cout * HW));
  const r = t - n * this.constants.Cout * HW;
  const co = Math.floor(r / HW);
  const p = r - co * HW;
  const oy = Math.floor(p / this.constants.W);
  const ox = p - oy * this.constants.W;
  let sum = b[co];
  for (let ci = 0; ci < this.constants.Cin; ci++) {
    for (let ky = 0; ky < this.constants.K; ky++) {
      const iy = oy + ky - this.constants.P;
      if (iy >= 0 && iy < this.constants.H) {
        for (let kx = 0; kx < this.constants.K; kx++) {
          const ix = ox + kx - this.constants.P;
          if (ix >= 0 && ix < this.constants.W) {
            sum += x[((n * this.constants.Cin + ci) * this.constants.H + iy) * this.constants.W + ix] * w[((co * this.constants.Cin + ci) * this.constants.K + ky) * this.constants.K + kx];
          }
        }
      }
    }
  }
  return sum;
}

/** gradient to the input: thread = input element (n, ci, y, x); a transposed convolution */
function conv2dBackwardInputKernel(this: any, dy: number[], w: number[]): number {
  const HW = this.constants.H * this.constants.W;
  const t = this.thread.x;
  const n = Math.floor(t / (this.constants.Cin * HW));
  const r = t - n * this.constants.Cin * HW;
  const ci = Math.floor(r / HW);
  const p = r - ci * HW;
  const iy = Math.floor(p / this.constants.W);
  const ix = p - iy * this.constants.W;
  let sum = 0;
  for (let co = 0; co < this.constants.Cout; co++) {
    for (let ky = 0; ky < this.constants.K; ky++) {
      const oy = iy - ky + this.constants.P; // the output row that read x[iy] through tap ky
      if (oy >= 0 && oy < this.constants.H) {
        for (let kx = 0; kx < this.constants.K; kx++) {
          const ox = ix - kx + this.constants.P;
          if (ox >= 0 && ox < this.constants.W) {
            sum += dy[((n * this.constants.Cout + co) * this.constants.H + oy) * this.constants.W + ox] * w[((co * this.constants.Cin + ci) * this.constants.K + ky) * this.constants.K + kx];
          }
        }
      }
    }
  }
  return sum;
}

/**
 * gradient to the weight: thread = weight element (co, ci, ky, kx); loops over the launch's
 * N images and its ROWS output rows from y0 (a block of the image, see weightGradBlocks)
 */
function conv2dBackwardWeightKernel(this: any, dy: number[], x: number[], y0: number): number {
  const KK = this.constants.K * this.constants.K;
  const t = this.thread.x;
  const co = Math.floor(t / (this.constants.Cin * KK));
  const r = t - co * this.constants.Cin * KK;
  const ci = Math.floor(r / KK);
  const q = r - ci * KK;
  const ky = Math.floor(q / this.constants.K);
  const kx = q - ky * this.constants.K;
  let sum = 0;
  for (let n = 0; n < this.constants.N; n++) {
    for (let row = 0; row < this.constants.ROWS; row++) {
      const oy = y0 + row;
      const iy = oy + ky - this.constants.P;
      if (oy < this.constants.H && iy >= 0 && iy < this.constants.H) {
        for (let ox = 0; ox < this.constants.W; ox++) {
          const ix = ox + kx - this.constants.P;
          if (ix >= 0 && ix < this.constants.W) {
            sum += dy[((n * this.constants.Cout + co) * this.constants.H + oy) * this.constants.W + ox] * x[((n * this.constants.Cin + ci) * this.constants.H + iy) * this.constants.W + ix];
          }
        }
      }
    }
  }
  return sum;
}

/** gradient to the bias: thread = output channel co; Σ over the launch's images and rows */
function conv2dBackwardBiasKernel(this: any, dy: number[], y0: number): number {
  const co = this.thread.x;
  let sum = 0;
  for (let n = 0; n < this.constants.N; n++) {
    for (let row = 0; row < this.constants.ROWS; row++) {
      const oy = y0 + row;
      if (oy < this.constants.H) {
        for (let ox = 0; ox < this.constants.W; ox++) {
          sum += dy[((n * this.constants.Cout + co) * this.constants.H + oy) * this.constants.W + ox];
        }
      }
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------------------
// Launchers: split the batch into chunks below 2^24 elements and run the kernels.

export async function conv2dForward(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  const y = new Float32Array(d.N * outPer);
  if (await conv2dForwardBlocked(x, w, b, d, y)) return y;
  for (const { start, count } of imageChunks(d, 'conv2d')) {
    const part = await runKernel('conv2dForward', conv2dForwardKernel, count * outPer, constantsFor(d, count),
      [x.subarray(start * inPer, (start + count) * inPer), w, b]);
    y.set(part, start * outPer);
  }
  return y;
}

export async function conv2dBackwardInput(dy: Float32Array, w: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  const dx = new Float32Array(d.N * inPer);
  if (await conv2dBackwardInputBlocked(dy, w, d, dx)) return dx;
  for (const { start, count } of imageChunks(d, 'conv2d (backward input)')) {
    const part = await runKernel('conv2dBackwardInput', conv2dBackwardInputKernel, count * inPer, constantsFor(d, count),
      [dy.subarray(start * outPer, (start + count) * outPer), w]);
    dx.set(part, start * inPer);
  }
  return dx;
}

/**
 * The launches of a weight or bias gradient: chunks of images below 2^24 elements, and
 * within them blocks of images × rows whose loops stay within LOOP_BUDGET iterations.
 */
function* weightGradBlocks(d: Conv2dDims, where: string) {
  const perRow = 1 + d.W; // loop iterations per output row (the row loop and its pixels)
  if (1 + perRow > LOOP_BUDGET) throw new BackendError(`${where}: an image row of ${d.W} pixels is longer than one kernel's loop budget (${LOOP_BUDGET})`);
  const imageCost = 1 + d.H * perRow;
  const rows = imageCost <= LOOP_BUDGET ? d.H : Math.floor((LOOP_BUDGET - 1) / perRow);
  const imagesPerLaunch = imageCost <= LOOP_BUDGET ? Math.floor(LOOP_BUDGET / imageCost) : 1;
  for (const chunk of imageChunks(d, where)) {
    for (let n0 = chunk.start; n0 < chunk.start + chunk.count; n0 += imagesPerLaunch) {
      const count = Math.min(imagesPerLaunch, chunk.start + chunk.count - n0);
      for (let y0 = 0; y0 < d.H; y0 += rows) yield { n0, count, y0, rows };
    }
  }
}

export async function conv2dBackwardWeight(dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  const launches = [...weightGradBlocks(d, 'conv2d (backward weight)')].map((b) => ({
    constants: { ...constantsFor(d, b.count), ROWS: b.rows },
    args: [dy.subarray(b.n0 * outPer, (b.n0 + b.count) * outPer), x.subarray(b.n0 * inPer, (b.n0 + b.count) * inPer), b.y0],
  }));
  // the blocks' partial sums are added on the GPU where it can keep them (runKernelSum)
  return runKernelSum('conv2dBackwardWeight', conv2dBackwardWeightKernel, d.Cout * d.Cin * d.K * d.K, launches);
}

export async function conv2dBackwardBias(dy: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const outPer = d.Cout * d.H * d.W;
  const launches = [...weightGradBlocks(d, 'conv2d (backward bias)')].map((b) => ({
    constants: { N: b.count, Cout: d.Cout, H: d.H, W: d.W, ROWS: b.rows },
    args: [dy.subarray(b.n0 * outPer, (b.n0 + b.count) * outPer), b.y0],
  }));
  return runKernelSum('conv2dBackwardBias', conv2dBackwardBiasKernel, d.Cout, launches);
}

// ---------------------------------------------------------------------------------------
// float64 references: the plain loop nest that reads like the math.

export function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, d: Conv2dDims): Float64Array {
  const { N, Cin, Cout, H, W, K } = d;
  const P = (K - 1) / 2;
  const y = new Float64Array(N * Cout * H * W);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let oy = 0; oy < H; oy++)
        for (let ox = 0; ox < W; ox++) {
          let s = b[co];
          for (let ci = 0; ci < Cin; ci++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - P, ix = ox + kx - P;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += x[((n * Cin + ci) * H + iy) * W + ix] * w[((co * Cin + ci) * K + ky) * K + kx];
              }
          y[((n * Cout + co) * H + oy) * W + ox] = s;
        }
  return y;
}

/** All three gradients at once, scattering from each output element (the forward, inverted). */
export function conv2dBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, d: Conv2dDims) {
  const { N, Cin, Cout, H, W, K } = d;
  const P = (K - 1) / 2;
  const dx = new Float64Array(N * Cin * H * W);
  const dw = new Float64Array(Cout * Cin * K * K);
  const db = new Float64Array(Cout);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let oy = 0; oy < H; oy++)
        for (let ox = 0; ox < W; ox++) {
          const g = dy[((n * Cout + co) * H + oy) * W + ox];
          db[co] += g; // y = b + ...
          for (let ci = 0; ci < Cin; ci++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - P, ix = ox + kx - P;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const xi = ((n * Cin + ci) * H + iy) * W + ix;
                const wi = ((co * Cin + ci) * K + ky) * K + kx;
                dx[xi] += g * w[wi]; // y += w · x
                dw[wi] += g * x[xi];
              }
        }
  return {
    /** dL/dx [N, Cin, H, W] */ dx,
    /** dL/dw [Cout, Cin, K, K] */ dw,
    /** dL/db [Cout] */ db,
  };
}
