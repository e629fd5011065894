/**
 * Local response normalisation across channels (AlexNet, Krizhevsky et al. 2012, §3.3),
 * used by VGG's A-LRN net (§2.2; the paper's k = 2, n = 5, α = 1e-4, β = 0.75):
 *
 *   s[c] = k + α' · Σ_{j ∈ win(c)} x[j]²        y[c] = x[c] · s[c]^(−β)
 *
 * over the channels j of the same image and pixel, win(c) = [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]
 * clipped to [0, C) (PyTorch's window, also for an even n).
 *
 * Two conventions for α' (the option `alphaMode`):
 *   'sum'  α' = α       AlexNet's paper, TensorFlow's tf.nn.local_response_normalization
 *                       (there `depth_radius` = ⌊n/2⌋, `bias` = k);   the default here, as the
 *                       formula VGG cites
 *   'mean' α' = α / n   PyTorch's nn.LocalResponseNorm and Caffe's LRN layer
 *
 * Backward:  dx[c] = dy[c]·s[c]^(−β) − 2β·α'·x[c] · Σ_{j : c ∈ win(j)} dy[j]·x[j]·s[j]^(−β−1)
 * where c ∈ win(j) ⇔ j ∈ [c − ⌊(n−1)/2⌋, c + ⌊n/2⌋].
 *
 * Shapes (NCHW): x, y, dy, dx [N, C, H, W], flat ((n*C + c)*H*W + p).
 * Thread mapping: one thread per element; the backward recomputes s[j] for the n channels
 * whose window holds c (n² reads per element). Launches per chunk of whole images.
 */
import { runKernel } from './gpujs.js';
import { chunksOf } from './chunks.js';
import type { MapDims } from './dims.js';

/** LRN's parameters, all given (ops.lrn fills in the paper's defaults): see the formula above. */
export interface LrnOptions {
  /** n, the channels in each window */
  size: number;
  /** α, the scale of the sum of squares */
  alpha: number;
  /** β, the exponent */
  beta: number;
  /** k, the additive constant (> 0) */
  k: number;
  /** 'sum': α' = α (AlexNet, TensorFlow); 'mean': α' = α/n (PyTorch, Caffe) */
  alphaMode: 'sum' | 'mean';
}

function lrnForwardKernel(this: any, x: number[]): number {
  const t = this.thread.x;
  const n = Math.floor(t / (this.constants.C * this.constants.HW));
  const r = t - n * this.constants.C * this.constants.HW;
  const c = Math.floor(r / this.constants.HW);
  const p = r - c * this.constants.HW;
  let sq = 0;
  for (let d = 0; d < this.constants.SIZE; d++) {
    const j = c - this.constants.LO + d;
    if (j >= 0 && j < this.constants.C) {
      const v = x[(n * this.constants.C + j) * this.constants.HW + p];
      sq += v * v;
    }
  }
  return x[t] * Math.pow(this.constants.k + this.constants.alpha * sq, -this.constants.beta);
}

function lrnBackwardKernel(this: any, dy: number[], x: number[]): number {
  const t = this.thread.x;
  const n = Math.floor(t / (this.constants.C * this.constants.HW));
  const r = t - n * this.constants.C * this.constants.HW;
  const c = Math.floor(r / this.constants.HW);
  const p = r - c * this.constants.HW;
  let acc = 0;
  let ownScale = 1;
  for (let d = 0; d < this.constants.SIZE; d++) {
    const j = c - this.constants.HI + d; // the channels j whose window holds c
    if (j >= 0 && j < this.constants.C) {
      let sq = 0;
      for (let e = 0; e < this.constants.SIZE; e++) {
        const m = j - this.constants.LO + e;
        if (m >= 0 && m < this.constants.C) {
          const v = x[(n * this.constants.C + m) * this.constants.HW + p];
          sq += v * v;
        }
      }
      const s = this.constants.k + this.constants.alpha * sq;
      const jt = (n * this.constants.C + j) * this.constants.HW + p;
      acc += dy[jt] * x[jt] * Math.pow(s, -this.constants.beta - 1);
      if (j === c) ownScale = Math.pow(s, -this.constants.beta);
    }
  }
  return dy[t] * ownScale - 2 * this.constants.beta * this.constants.alpha * x[t] * acc;
}

/**
 * The window and the scale every LRN implementation uses: channels c − lo … c + hi (lo =
 * ⌊n/2⌋, hi = ⌊(n−1)/2⌋, as PyTorch), and α' = α, or α/n where alphaMode is 'mean'.
 */
export function lrnWindow(o: LrnOptions): { lo: number; hi: number; alpha: number } {
  return { lo: Math.floor(o.size / 2), hi: Math.floor((o.size - 1) / 2), alpha: o.alphaMode === 'mean' ? o.alpha / o.size : o.alpha };
}

function constantsFor(o: LrnOptions, d: MapDims) {
  const { lo, hi, alpha } = lrnWindow(o);
  return { C: d.C, HW: d.H * d.W, SIZE: o.size, LO: lo, HI: hi, k: o.k, beta: o.beta, alpha };
}

async function launchPerImages(name: string, source: (this: any, ...a: any[]) => number, arrays: Float32Array[], o: LrnOptions, d: MapDims) {
  const per = d.C * d.H * d.W;
  const out = new Float32Array(d.N * per);
  for (const { start, count } of chunksOf(d.N, per, name)) {
    out.set(await runKernel(name, source, count * per, constantsFor(o, d),
      arrays.map((a) => a.subarray(start * per, (start + count) * per))), start * per);
  }
  return out;
}

export const lrnForward = (x: Float32Array, o: LrnOptions, d: MapDims) => launchPerImages('lrnForward', lrnForwardKernel, [x], o, d);
export const lrnBackward = (dy: Float32Array, x: Float32Array, o: LrnOptions, d: MapDims) =>
  launchPerImages('lrnBackward', lrnBackwardKernel, [dy, x], o, d);

/** float64 reference: the forward, and the backward by scattering each output's gradient */
export function lrnForwardRef(x: ArrayLike<number>, o: LrnOptions, d: MapDims) {
  const { C } = d, HW = d.H * d.W;
  const { lo, hi, alpha: a } = lrnWindow(o);
  const y = new Float64Array(x.length), s = new Float64Array(x.length);
  for (let n = 0; n < d.N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < HW; p++) {
        let sq = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) sq += x[(n * C + j) * HW + p] ** 2;
        const i = (n * C + c) * HW + p;
        s[i] = o.k + a * sq;
        y[i] = x[i] * s[i] ** -o.beta;
      }
  return {
    /** the output [N, C, H, W] */ y,
    /** the denominator's base s = k + α'·Σx² per element, which the backward reuses */ s,
  };
}

/** dx of LRN in float64, by the formula in this file's header: dy, x and dx [N, C, H, W]. */
export function lrnBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, o: LrnOptions, d: MapDims): Float64Array {
  const { C } = d, HW = d.H * d.W;
  const { lo, hi, alpha: a } = lrnWindow(o);
  const { s } = lrnForwardRef(x, o, d);
  const dx = new Float64Array(x.length);
  for (let n = 0; n < d.N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < HW; p++) {
        const i = (n * C + c) * HW + p;
        dx[i] += dy[i] * s[i] ** -o.beta; // ∂y[c]/∂x[c] through the numerator
        const common = dy[i] * x[i] * -o.beta * s[i] ** (-o.beta - 1) * a * 2;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) dx[(n * C + j) * HW + p] += common * x[(n * C + j) * HW + p];
      }
  return dx;
}
