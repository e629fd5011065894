/**
 * Softmax over the last axis, and softmax cross-entropy over integer labels, computed
 * stably through the log-sum-exp of each row:
 *
 *   lse[n] = m + log Σ_k exp(x[n,k] − m),  m = max_k x[n,k]
 *   softmax:  y[n,k] = exp(x[n,k] − lse[n])
 *             dx[n,k] = y[n,k] · (dy[n,k] − Σ_j dy[n,j]·y[n,j])
 *   cross-entropy (mean over the batch):  L = (1/N) Σ_n (lse[n] − x[n, label[n]])
 *             dx[n,k] = g · (y[n,k] − [k = label[n]]) / N,  g = dL upstream
 *
 * Shapes: x, y, dy, dx [N, K] row-major (n*K + k); lse [N]; labels [N] (integers in
 * [0, K), passed as float32, exact below 2^24).
 * Thread mapping: the row kernels (log-sum-exp, row dot, per-row loss) run one thread per
 * row and loop over K; the element kernels one thread per element. Launches per block of
 * rows below 2^24 elements.
 */
import { runKernel, LOOP_BUDGET } from './gpujs.js';
import { chunksOf } from './chunks.js';
import { BackendError } from './errors.js';
import type { SoftmaxDims } from './dims.js';

function rowLogSumExpKernel(this: any, x: number[]): number {
  const row = this.thread.x * this.constants.K;
  let m = x[row];
  for (let k = 1; k < this.constants.K; k++) m = Math.max(m, x[row + k]);
  let s = 0;
  for (let k = 0; k < this.constants.K; k++) s += Math.exp(x[row + k] - m);
  return m + Math.log(s);
}

function softmaxFromLseKernel(this: any, x: number[], lse: number[]): number {
  const n = Math.floor(this.thread.x / this.constants.K);
  return Math.exp(x[this.thread.x] - lse[n]);
}

function rowDotKernel(this: any, a: number[], b: number[]): number {
  const row = this.thread.x * this.constants.K;
  let s = 0;
  for (let k = 0; k < this.constants.K; k++) s += a[row + k] * b[row + k];
  return s;
}

function softmaxBackwardKernel(this: any, dy: number[], y: number[], dot: number[]): number {
  const n = Math.floor(this.thread.x / this.constants.K);
  return y[this.thread.x] * (dy[this.thread.x] - dot[n]);
}

/** per-row loss: lse[n] − x[n, label[n]] */
function crossEntropyRowKernel(this: any, x: number[], lse: number[], labels: number[]): number {
  const n = this.thread.x;
  return lse[n] - x[n * this.constants.K + labels[n]];
}

/** g · (softmax − onehot) / N; g is the upstream gradient (one value) */
function crossEntropyBackwardKernel(this: any, x: number[], lse: number[], labels: number[], g: number[]): number {
  const n = Math.floor(this.thread.x / this.constants.K);
  const k = this.thread.x - n * this.constants.K;
  let onehot = 0;
  if (k === labels[n]) onehot = 1;
  return g[0] * (Math.exp(x[this.thread.x] - lse[n]) - onehot) / this.constants.BATCH;
}

/** Runs `launch(rowStart, rowCount)` per block of rows and concatenates the results. */
async function perRowBlocks(d: SoftmaxDims, perRowOut: number, where: string,
  launch: (r0: number, rn: number) => Promise<Float32Array>): Promise<Float32Array> {
  if (2 * d.K > LOOP_BUDGET) throw new BackendError(`${where}: rows of ${d.K} classes exceed one kernel's loop budget (${LOOP_BUDGET / 2} classes)`);
  const out = new Float32Array(d.N * perRowOut);
  for (const { start, count } of chunksOf(d.N, d.K, where)) out.set(await launch(start, count), start * perRowOut);
  return out;
}

const rows = (a: Float32Array, K: number, r0: number, rn: number) => a.subarray(r0 * K, (r0 + rn) * K);

export const rowLogSumExp = (x: Float32Array, d: SoftmaxDims) =>
  perRowBlocks(d, 1, 'logSumExp', (r0, rn) => runKernel('rowLogSumExp', rowLogSumExpKernel, rn, { K: d.K }, [rows(x, d.K, r0, rn)]));

export async function softmaxForward(x: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const lse = await rowLogSumExp(x, d);
  return perRowBlocks(d, d.K, 'softmax', (r0, rn) =>
    runKernel('softmaxFromLse', softmaxFromLseKernel, rn * d.K, { K: d.K }, [rows(x, d.K, r0, rn), lse.subarray(r0, r0 + rn)]));
}

export async function softmaxBackward(dy: Float32Array, y: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const dot = await perRowBlocks(d, 1, 'softmax (backward)', (r0, rn) =>
    runKernel('rowDot', rowDotKernel, rn, { K: d.K }, [rows(dy, d.K, r0, rn), rows(y, d.K, r0, rn)]));
  return perRowBlocks(d, d.K, 'softmax (backward)', (r0, rn) =>
    runKernel('softmaxBackward', softmaxBackwardKernel, rn * d.K, { K: d.K }, [rows(dy, d.K, r0, rn), rows(y, d.K, r0, rn), dot.subarray(r0, r0 + rn)]));
}

/** per-row losses lse[n] − x[n, label[n]] (the op averages them) */
export async function crossEntropyRows(x: Float32Array, labels: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const lse = await rowLogSumExp(x, d);
  return perRowBlocks(d, 1, 'softmaxCrossEntropy', (r0, rn) =>
    runKernel('crossEntropyRow', crossEntropyRowKernel, rn, { K: d.K }, [rows(x, d.K, r0, rn), lse.subarray(r0, r0 + rn), labels.subarray(r0, r0 + rn)]));
}

export async function crossEntropyBackward(x: Float32Array, labels: Float32Array, g: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const lse = await rowLogSumExp(x, d);
  return perRowBlocks(d, d.K, 'softmaxCrossEntropy (backward)', (r0, rn) =>
    runKernel('crossEntropyBackward', crossEntropyBackwardKernel, rn * d.K, { K: d.K, BATCH: d.N },
      [rows(x, d.K, r0, rn), lse.subarray(r0, r0 + rn), labels.subarray(r0, r0 + rn), g]));
}

// float64 references
function lseRef(x: ArrayLike<number>, n: number, K: number): number {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, x[n * K + k]);
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(x[n * K + k] - m);
  return m + Math.log(s);
}

/** Row-wise soft-max of logits [N, K] in float64, through the log-sum-exp (no overflow). */
export function softmaxForwardRef(x: ArrayLike<number>, d: SoftmaxDims): Float64Array {
  const y = new Float64Array(d.N * d.K);
  for (let n = 0; n < d.N; n++) {
    const l = lseRef(x, n, d.K);
    for (let k = 0; k < d.K; k++) y[n * d.K + k] = Math.exp(x[n * d.K + k] - l);
  }
  return y;
}

/** dx = y ⊙ (dy − Σₖ dy·y) per row, in float64: dy, y and dx [N, K]. */
export function softmaxBackwardRef(dy: ArrayLike<number>, y: ArrayLike<number>, d: SoftmaxDims): Float64Array {
  const dx = new Float64Array(d.N * d.K);
  for (let n = 0; n < d.N; n++) {
    let dot = 0;
    for (let k = 0; k < d.K; k++) dot += dy[n * d.K + k] * y[n * d.K + k];
    for (let k = 0; k < d.K; k++) dx[n * d.K + k] = y[n * d.K + k] * (dy[n * d.K + k] - dot);
  }
  return dx;
}

/** The mean over the batch of −log softmax(x)[label], in float64. */
export function crossEntropyRef(x: ArrayLike<number>, labels: ArrayLike<number>, d: SoftmaxDims): number {
  let total = 0;
  for (let n = 0; n < d.N; n++) total += lseRef(x, n, d.K) - x[n * d.K + labels[n]];
  return total / d.N;
}

/** The cross-entropy's gradient times `g`, in float64: (softmax(x) − onehot(label))·g/N. */
export function crossEntropyBackwardRef(x: ArrayLike<number>, labels: ArrayLike<number>, g: number, d: SoftmaxDims): Float64Array {
  const dx = softmaxForwardRef(x, d);
  for (let n = 0; n < d.N; n++) dx[n * d.K + labels[n]] -= 1;
  return dx.map((v) => (g * v) / d.N);
}
