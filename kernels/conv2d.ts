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
 * element within the launch. Forward and the input gradient launch per chunk of whole
 * images (kernels/chunks.ts keeps each launch below 2^24 elements); the weight and bias
 * gradients launch one thread per weight (bias) element and loop over a block of images
 * and rows (at most LOOP_BUDGET iterations, kernels/gpujs.ts), then the blocks' partial
 * sums are added.
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel, runKernelSum, vec4Outputs, vec4Inputs, packVec4, LOOP_BUDGET } from './gpujs.js';
import { chunksOf } from './chunks.js';
import { BackendError } from './errors.js';
import { isSettled, onRelease } from './pool.js';
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

/**
 * forward, register-blocked (K = 3): thread = four neighbouring outputs (n, co, y,
 * x0..x0+3) of an output whose rows are padded to WP, the width rounded up to a multiple
 * of 4 (flat outputs 4t..4t+3; the launcher drops the padding columns). Per
 * input channel and kernel row the thread reads six inputs and three weights for twelve
 * multiply-adds, where four one-output threads read 24 values: texture reads, not the
 * arithmetic, are what a shader pays for (the reads outside the image are skipped, never
 * made: an out-of-bounds read differs per mode, GPUJS.md trap 6).
 */
function conv2dForward3x4Kernel(this: any, x: number[], w: number[], b: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cout + co)*H + y
  const x0 = (t - row * W4) * 4;
  const nco = Math.floor(row / this.constants.H);
  const oy = row - nco * this.constants.H;
  const n = Math.floor(nco / this.constants.Cout);
  const co = nco - n * this.constants.Cout;
  const bias = b[co];
  let s0 = bias;
  let s1 = bias;
  let s2 = bias;
  let s3 = bias;
  for (let ci = 0; ci < this.constants.Cin; ci++) {
    const xPlane = (n * this.constants.Cin + ci) * this.constants.H;
    const wBase = (co * this.constants.Cin + ci) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const iy = oy + ky - 1;
      if (iy >= 0 && iy < this.constants.H) {
        const xi = (xPlane + iy) * this.constants.W + x0;
        let vl = 0;
        if (x0 > 0) vl = x[xi - 1];
        const v0 = x[xi];
        let v1 = 0;
        if (x0 + 1 < this.constants.W) v1 = x[xi + 1];
        let v2 = 0;
        if (x0 + 2 < this.constants.W) v2 = x[xi + 2];
        let v3 = 0;
        if (x0 + 3 < this.constants.W) v3 = x[xi + 3];
        let vr = 0;
        if (x0 + 4 < this.constants.W) vr = x[xi + 4];
        const wk = wBase + ky * 3;
        const w0 = w[wk];
        const w1 = w[wk + 1];
        const w2 = w[wk + 2];
        s0 += w0 * vl + w1 * v0 + w2 * v1;
        s1 += w0 * v0 + w1 * v1 + w2 * v2;
        s2 += w0 * v1 + w1 * v2 + w2 * v3;
        s3 += w0 * v2 + w1 * v3 + w2 * vr;
      }
    }
  }
  return [s0, s1, s2, s3];
}

/**
 * forward on the GL modes, register-blocked and channel-packed (K = 3): thread = four
 * neighbouring outputs like conv2dForward3x4Kernel, but `x` and `w` arrive as groups of
 * four input channels (packConvInput, packConvWeight), so one texture read yields four
 * values: per group of four input channels and kernel row, six reads of x and three of w
 * for 48 multiply-adds (the one-output kernel makes 96 reads for them). The host pads x
 * with a zero border (rows of WP + 2, H + 2 rows), so no read needs a bounds test.
 */
function conv2dForwardPackedKernel(this: any, x: number[][], w: number[][], b: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cout + co)*H + y
  const x0 = (t - row * W4) * 4;
  const nco = Math.floor(row / this.constants.H);
  const oy = row - nco * this.constants.H;
  const n = Math.floor(nco / this.constants.Cout);
  const co = nco - n * this.constants.Cout;
  const bias = b[co];
  let s0 = bias;
  let s1 = bias;
  let s2 = bias;
  let s3 = bias;
  for (let c4 = 0; c4 < this.constants.C4; c4++) {
    const xPlane = (n * this.constants.C4 + c4) * (this.constants.H + 2);
    const wBase = (co * this.constants.C4 + c4) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const xi = (xPlane + oy + ky) * (this.constants.WP + 2) + x0; // the padded column x0 is image column x0 - 1
      const wk = wBase + ky * 3;
      const a = w[wk];
      const c = w[wk + 1];
      const e = w[wk + 2];
      const vl = x[xi];
      const v0 = x[xi + 1];
      const v1 = x[xi + 2];
      const v2 = x[xi + 3];
      const v3 = x[xi + 4];
      const vr = x[xi + 5];
      s0 += a[0] * vl[0] + a[1] * vl[1] + a[2] * vl[2] + a[3] * vl[3] + c[0] * v0[0] + c[1] * v0[1] + c[2] * v0[2] + c[3] * v0[3] + e[0] * v1[0] + e[1] * v1[1] + e[2] * v1[2] + e[3] * v1[3];
      s1 += a[0] * v0[0] + a[1] * v0[1] + a[2] * v0[2] + a[3] * v0[3] + c[0] * v1[0] + c[1] * v1[1] + c[2] * v1[2] + c[3] * v1[3] + e[0] * v2[0] + e[1] * v2[1] + e[2] * v2[2] + e[3] * v2[3];
      s2 += a[0] * v1[0] + a[1] * v1[1] + a[2] * v1[2] + a[3] * v1[3] + c[0] * v2[0] + c[1] * v2[1] + c[2] * v2[2] + c[3] * v2[3] + e[0] * v3[0] + e[1] * v3[1] + e[2] * v3[2] + e[3] * v3[3];
      s3 += a[0] * v2[0] + a[1] * v2[1] + a[2] * v2[2] + a[3] * v2[3] + c[0] * v3[0] + c[1] * v3[1] + c[2] * v3[2] + c[3] * v3[3] + e[0] * vr[0] + e[1] * vr[1] + e[2] * vr[2] + e[3] * vr[3];
    }
  }
  return [s0, s1, s2, s3];
}

/**
 * x [N, C, H, W] as groups of four channels with a zero border: [N, C4, H + 2, WP + 2, 4],
 * C4 = ceil(C / 4) (the missing channels are zeros), WP the padded width.
 */
export function packConvInput(x: Float32Array, N: number, C: number, H: number, W: number, WP: number): Float32Array {
  const C4 = Math.ceil(C / 4), RW = WP + 2, HW = H * W;
  const out = new Float32Array(N * C4 * (H + 2) * RW * 4);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const src = (n * C + c) * HW;
      const plane = (n * C4 + (c >> 2)) * (H + 2);
      const lane = c & 3;
      for (let y = 0; y < H; y++) {
        let o = ((plane + y + 1) * RW + 1) * 4 + lane;
        const s0 = src + y * W;
        for (let xx = 0; xx < W; xx++, o += 4) out[o] = x[s0 + xx];
      }
    }
  return out;
}

/** w [Cout, C, 3, 3] as groups of four input channels: [Cout, C4, 3, 3, 4] (the missing channels are zeros) */
export function packConvWeight(w: Float32Array, Cout: number, C: number): Float32Array {
  const C4 = Math.ceil(C / 4);
  const out = new Float32Array(Cout * C4 * 9 * 4);
  for (let co = 0; co < Cout; co++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < 9; k++) out[((co * C4 + (c >> 2)) * 9 + k) * 4 + (c & 3)] = w[(co * C + c) * 9 + k];
  return out;
}

/**
 * w [Cout, Cin, 3, 3] transposed and turned by 180°, as groups of four output channels:
 * [Cin, Cout4, 3, 3, 4], entry (ci, co, ky, kx) = w[co, ci, 2 - ky, 2 - kx]: the filters of
 * the input gradient as a forward convolution of dy.
 */
export function packConvWeightTurned(w: Float32Array, Cout: number, Cin: number): Float32Array {
  const Co4 = Math.ceil(Cout / 4);
  const out = new Float32Array(Cin * Co4 * 9 * 4);
  for (let co = 0; co < Cout; co++)
    for (let ci = 0; ci < Cin; ci++)
      for (let k = 0; k < 9; k++) out[((ci * Co4 + (co >> 2)) * 9 + k) * 4 + (co & 3)] = w[(co * Cin + ci) * 9 + 8 - k];
  return out;
}

/**
 * gradient to the input, register-blocked like the forward (K = 3, rows padded to WP):
 * thread = four neighbouring input elements (n, ci, y, x0..x0+3); the same six-reads-per-
 * row pattern over dy, with the kernel row reversed (dx[x] takes dy[x+1]·w[0] + dy[x]·w[1]
 * + dy[x-1]·w[2]).
 */
function conv2dBackwardInput3x4Kernel(this: any, dy: number[], w: number[]): number[] {
  const W4 = this.constants.WP / 4;
  const t = this.thread.x;
  const row = Math.floor(t / W4); // (n*Cin + ci)*H + y
  const x0 = (t - row * W4) * 4;
  const nci = Math.floor(row / this.constants.H);
  const iy = row - nci * this.constants.H;
  const n = Math.floor(nci / this.constants.Cin);
  const ci = nci - n * this.constants.Cin;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let co = 0; co < this.constants.Cout; co++) {
    const dyPlane = (n * this.constants.Cout + co) * this.constants.H;
    const wBase = (co * this.constants.Cin + ci) * 9;
    for (let ky = 0; ky < 3; ky++) {
      const oy = iy - ky + 1; // the output row that read x[iy] through tap ky
      if (oy >= 0 && oy < this.constants.H) {
        const gi = (dyPlane + oy) * this.constants.W + x0;
        let gl = 0;
        if (x0 > 0) gl = dy[gi - 1];
        const g0 = dy[gi];
        let g1 = 0;
        if (x0 + 1 < this.constants.W) g1 = dy[gi + 1];
        let g2 = 0;
        if (x0 + 2 < this.constants.W) g2 = dy[gi + 2];
        let g3 = 0;
        if (x0 + 3 < this.constants.W) g3 = dy[gi + 3];
        let gr = 0;
        if (x0 + 4 < this.constants.W) gr = dy[gi + 4];
        const wk = wBase + ky * 3;
        const w0 = w[wk];
        const w1 = w[wk + 1];
        const w2 = w[wk + 2];
        s0 += w0 * g1 + w1 * g0 + w2 * gl;
        s1 += w0 * g2 + w1 * g1 + w2 * g0;
        s2 += w0 * g3 + w1 * g2 + w2 * g1;
        s3 += w0 * gr + w1 * g3 + w2 * g2;
      }
    }
  }
  return [s0, s1, s2, s3];
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

function constantsFor(d: Conv2dDims, n: number): Record<string, number> {
  return { N: n, Cin: d.Cin, Cout: d.Cout, H: d.H, W: d.W, K: d.K, P: (d.K - 1) / 2 };
}

/** chunks of whole images below 2^24 elements, counting rows of `width` (the padded width of a blocked launch) */
function imageChunks(d: Conv2dDims, where: string, width = d.W) {
  const loops = Math.max(d.Cin, d.Cout) * (1 + d.K * (1 + d.K)); // iterations of one forward / input-gradient thread
  if (loops > LOOP_BUDGET) throw new BackendError(`${where}: ${Math.max(d.Cin, d.Cout)} channels with a ${d.K}×${d.K} kernel exceed one kernel's loop budget (${LOOP_BUDGET} iterations)`);
  return chunksOf(d.N, Math.max(d.Cin, d.Cout) * d.H * width, where);
}

/** `rows` rows of width WP (a blocked launch's output) copied into `out` at `at` as rows of width W */
function unpadRows(part: Float32Array, rows: number, W: number, WP: number, out: Float32Array, at: number): void {
  if (W === WP) {
    out.set(part, at);
    return;
  }
  for (let r = 0; r < rows; r++) out.set(part.subarray(r * WP, r * WP + W), at + r * W);
}

/**
 * Whether the register-blocked kernels apply: the 3×3 convolutions (all of VGG's but
 * config C's 1×1), on a mode that returns four values per thread (vec4Outputs).
 */
async function blocked(d: Conv2dDims): Promise<boolean> {
  return d.K === 3 && (await vec4Outputs());
}

/** Whether the channel-packed kernel applies: the blocked ones, on a mode that reads four-value groups (vec4Inputs: the GL modes). */
async function packed(d: Conv2dDims): Promise<boolean> {
  return (await blocked(d)) && (await vec4Inputs());
}

/**
 * Packed filters of settled weights (a parameter between two SGD steps: pool.ts), kept until
 * the array goes back to the pool: a forward pass of a trained network packs each layer's
 * filters once. Unsettled arrays are packed on every call.
 */
const packs = new WeakMap<Float32Array, Map<string, Float32Array[]>>();
onRelease((a) => packs.delete(a));

function cachedPack(w: Float32Array, kind: string, make: () => Float32Array): Float32Array[] {
  if (!isSettled(w)) return packVec4(make());
  let kinds = packs.get(w);
  if (!kinds) packs.set(w, (kinds = new Map()));
  let p = kinds.get(kind);
  if (!p) kinds.set(kind, (p = packVec4(make())));
  return p;
}

/**
 * The channel-packed 3×3 convolution (conv2dForwardPackedKernel) of `x` [N, Cin, H, W] with
 * packed filters `wp` (Cout groups), into `y` [N, Cout, H, W]: the forward, and with turned
 * filters the input gradient.
 */
async function packedConv(x: Float32Array, wp: Float32Array[], b: Float32Array, Cin: number, Cout: number, d: Conv2dDims, y: Float32Array, where: string): Promise<void> {
  const WP = paddedWidth(d.W);
  const C4 = Math.ceil(Cin / 4);
  const inPer = Cin * d.H * d.W, outPer = Cout * d.H * d.W;
  // the packed input has (H + 2)(WP + 2) groups per 4 channels: chunk by the larger of it and the output
  for (const { start, count } of chunksOf(d.N, Math.max(C4 * (d.H + 2) * (d.W + 6), Cout * d.H * WP), where)) {
    const xp = packVec4(packConvInput(x.subarray(start * inPer, (start + count) * inPer), count, Cin, d.H, d.W, WP));
    const part = await runKernel('conv2dForwardPacked', conv2dForwardPackedKernel, count * Cout * d.H * WP, { N: count, C4, Cout, H: d.H, W: d.W, WP },
      [xp, wp, b], { vec4: true });
    unpadRows(part, count * Cout * d.H, d.W, WP, y, start * outPer);
  }
}

/** the width rounded up to a multiple of 4: a blocked launch's rows (224, 112, 56, 28 stay; 14 → 16, 7 → 8) */
const paddedWidth = (W: number) => Math.ceil(W / 4) * 4;

export async function conv2dForward(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const inPer = d.Cin * d.H * d.W;
  const outPer = d.Cout * d.H * d.W;
  const y = new Float32Array(d.N * outPer);
  if (await packed(d)) {
    await packedConv(x, cachedPack(w, 'forward', () => packConvWeight(w, d.Cout, d.Cin)), b, d.Cin, d.Cout, d, y, 'conv2d');
    return y;
  }
  if (await blocked(d)) {
    const WP = paddedWidth(d.W);
    for (const { start, count } of imageChunks(d, 'conv2d', WP)) {
      const part = await runKernel('conv2dForward3x4', conv2dForward3x4Kernel, count * d.Cout * d.H * WP, { ...constantsFor(d, count), WP },
        [x.subarray(start * inPer, (start + count) * inPer), w, b], { vec4: true });
      unpadRows(part, count * d.Cout * d.H, d.W, WP, y, start * outPer);
    }
    return y;
  }
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
  if (await packed(d)) {
    // dx is the forward convolution of dy with w transposed (Cout ↔ Cin) and turned by 180°
    await packedConv(dy, cachedPack(w, 'input gradient', () => packConvWeightTurned(w, d.Cout, d.Cin)), new Float32Array(d.Cin), d.Cout, d.Cin, d, dx, 'conv2d (backward input)');
    return dx;
  }
  if (await blocked(d)) {
    const WP = paddedWidth(d.W);
    for (const { start, count } of imageChunks(d, 'conv2d (backward input)', WP)) {
      const part = await runKernel('conv2dBackwardInput3x4', conv2dBackwardInput3x4Kernel, count * d.Cin * d.H * WP, { ...constantsFor(d, count), WP },
        [dy.subarray(start * outPer, (start + count) * outPer), w], { vec4: true });
      unpadRows(part, count * d.Cin * d.H, d.W, WP, dx, start * inPer);
    }
    return dx;
  }
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
