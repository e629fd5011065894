/**
 * Fully connected layer (matmul plus bias), PyTorch's layout:
 *
 *   x [N, In]   w [Out, In]   b [Out]   y [N, Out]     y[n,o] = b[o] + Σ_i x[n,i]·w[o,i]
 *   dx[n,i] = Σ_o dy[n,o]·w[o,i]     dw[o,i] = Σ_n dy[n,o]·x[n,i]     db[o] = Σ_n dy[n,o]
 *
 * Flat indices are row-major: x n*In + i, w o*In + i, y n*Out + o.
 * Thread mapping: one thread per output element of the launch; the reduction runs in the
 * thread. The forward computes four neighbouring outputs per thread where the block's Out
 * is a multiple of 4 and the mode returns four values per thread (vec4Outputs), reading
 * each input once for four of them. VGG's FC6 weight has 25088 × 4096 = 102,760,448 elements, more than gpu.js can
 * index (2^24), so every launch takes a block of rows of w (output features) and a block
 * of rows of x (images), each below 2^24 elements; the input gradient adds the partial
 * sums of the output-feature blocks. Every in-thread loop also stays within LOOP_BUDGET
 * iterations (kernels/gpujs.ts): longer reductions are split into blocks whose partial sums
 * are added (the gradients' with runKernelSum: on the GPU on the GL and WebGPU modes).
 *
 * In the 'wasm' mode the registry (kernels/registry.ts) dispatches these passes to the
 * WebAssembly SIMD fast path (kernels/wasm/) instead, with the same layouts and results.
 */
import { runKernel, runKernelSum, vec4Outputs, LOOP_BUDGET } from './gpujs.js';
import { addInto, chunksOf } from './chunks.js';
import type { LinearDims } from './dims.js';

/** thread = (n, o) of the block: y = x·wᵀ + b */
function linearForwardKernel(this: any, x: number[], w: number[], b: number[]): number {
  const n = Math.floor(this.thread.x / this.constants.Out);
  const o = this.thread.x - n * this.constants.Out;
  let sum = b[o];
  for (let i = 0; i < this.constants.In; i++) sum += x[n * this.constants.In + i] * w[o * this.constants.In + i];
  return sum;
}

/**
 * thread = (n, o..o+3) of the block, register-blocked (the block's Out a multiple of 4):
 * four neighbouring outputs of one image, flat outputs 4t..4t+3 as in the one-output
 * kernel. Each input value is read once for four multiply-adds: five reads per four, where
 * the one-output kernel reads eight.
 */
function linearForward4Kernel(this: any, x: number[], w: number[], b: number[]): number[] {
  const O4 = this.constants.Out / 4;
  const n = Math.floor(this.thread.x / O4);
  const o = (this.thread.x - n * O4) * 4;
  let s0 = b[o];
  let s1 = b[o + 1];
  let s2 = b[o + 2];
  let s3 = b[o + 3];
  const xi = n * this.constants.In;
  const w0 = o * this.constants.In;
  for (let i = 0; i < this.constants.In; i++) {
    const v = x[xi + i];
    s0 += v * w[w0 + i];
    s1 += v * w[w0 + this.constants.In + i];
    s2 += v * w[w0 + 2 * this.constants.In + i];
    s3 += v * w[w0 + 3 * this.constants.In + i];
  }
  return [s0, s1, s2, s3];
}

/** thread = (n, i) of the block: dx = dy·w over this block's output features */
function linearBackwardInputKernel(this: any, dy: number[], w: number[]): number {
  const n = Math.floor(this.thread.x / this.constants.In);
  const i = this.thread.x - n * this.constants.In;
  let sum = 0;
  for (let o = 0; o < this.constants.Out; o++) sum += dy[n * this.constants.Out + o] * w[o * this.constants.In + i];
  return sum;
}

/** thread = (o, i) of the block: dw = dyᵀ·x over this block's images */
function linearBackwardWeightKernel(this: any, dy: number[], x: number[]): number {
  const o = Math.floor(this.thread.x / this.constants.In);
  const i = this.thread.x - o * this.constants.In;
  let sum = 0;
  for (let n = 0; n < this.constants.N; n++) sum += dy[n * this.constants.Out + o] * x[n * this.constants.In + i];
  return sum;
}

/** thread = o: db = Σ_n dy over this block's images */
function linearBackwardBiasKernel(this: any, dy: number[]): number {
  let sum = 0;
  for (let n = 0; n < this.constants.N; n++) sum += dy[n * this.constants.Out + this.thread.x];
  return sum;
}

/** the columns [c0, c0+cn) of a row-major [rows, cols] matrix, as a contiguous copy */
function columnBlock(a: Float32Array, rows: number, cols: number, c0: number, cn: number): Float32Array {
  if (c0 === 0 && cn === cols) return a.subarray(0, rows * cols);
  const out = new Float32Array(rows * cn);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * cols + c0, r * cols + c0 + cn), r * cn);
  return out;
}

/** blocks of output features: rows of w below 2^24 elements; the input gradient loops over them */
function featureBlocks(d: LinearDims, where: string) {
  return chunksOf(d.Out, d.In, where, undefined, LOOP_BUDGET);
}

/** blocks of images: rows of x (and of the output block) below 2^24; the weight gradient loops over them */
function imageBlocks(d: LinearDims, outBlock: number, where: string) {
  return chunksOf(d.N, Math.max(d.In, outBlock), where, undefined, LOOP_BUDGET);
}

/** blocks of input features: the forward loops over them (only FC rows longer than LOOP_BUDGET split) */
function inputBlocks(d: LinearDims) {
  return chunksOf(d.In, 1, 'linear', undefined, LOOP_BUDGET);
}

export async function linearForward(x: Float32Array, w: Float32Array, b: Float32Array, d: LinearDims): Promise<Float32Array> {
  const y = new Float32Array(d.N * d.Out);
  const zeroBias = new Float32Array(d.Out);
  const four = await vec4Outputs();
  for (const ib of inputBlocks(d)) {
    // a block of input features is a column block of x and w (no copy when it is all of them)
    const xIn = columnBlock(x, d.N, d.In, ib.start, ib.count);
    const wIn = columnBlock(w, d.Out, d.In, ib.start, ib.count);
    const bias = ib.start === 0 ? b : zeroBias;
    const dIn = { ...d, In: ib.count };
    for (const ob of featureBlocks(dIn, 'linear')) {
      const wBlock = wIn.subarray(ob.start * dIn.In, (ob.start + ob.count) * dIn.In);
      for (const nb of imageBlocks(dIn, ob.count, 'linear')) {
        const args = [xIn.subarray(nb.start * dIn.In, (nb.start + nb.count) * dIn.In), wBlock, bias.subarray(ob.start, ob.start + ob.count)];
        const part = four && ob.count % 4 === 0
          ? await runKernel('linearForward4', linearForward4Kernel, nb.count * ob.count, { In: dIn.In, Out: ob.count }, args, { vec4: true })
          : await runKernel('linearForward', linearForwardKernel, nb.count * ob.count, { In: dIn.In, Out: ob.count }, args);
        for (let n = 0; n < nb.count; n++) {
          addInto(y.subarray((nb.start + n) * d.Out + ob.start, (nb.start + n) * d.Out + ob.start + ob.count), part.subarray(n * ob.count, (n + 1) * ob.count));
        }
      }
    }
  }
  return y;
}

export async function linearBackwardInput(dy: Float32Array, w: Float32Array, d: LinearDims): Promise<Float32Array> {
  const dx = new Float32Array(d.N * d.In);
  const blocks = featureBlocks(d, 'linear (backward input)').map((ob) => ({
    ob, w: w.subarray(ob.start * d.In, (ob.start + ob.count) * d.In), dy: columnBlock(dy, d.N, d.Out, ob.start, ob.count),
  }));
  // images below 2^24 per launch for the largest feature block (a block's launches share one output size)
  const widest = Math.max(...blocks.map((b) => b.ob.count));
  for (const nb of chunksOf(d.N, Math.max(d.In, widest), 'linear (backward input)')) {
    // the feature blocks' partial sums, added on the GPU where it can keep them (runKernelSum)
    const part = await runKernelSum('linearBackwardInput', linearBackwardInputKernel, nb.count * d.In, blocks.map((b) => ({
      constants: { In: d.In, Out: b.ob.count },
      args: [b.dy.subarray(nb.start * b.ob.count, (nb.start + nb.count) * b.ob.count), b.w],
    })));
    dx.set(part, nb.start * d.In);
  }
  return dx;
}

export async function linearBackwardWeight(dy: Float32Array, x: Float32Array, d: LinearDims): Promise<Float32Array> {
  const dw = new Float32Array(d.Out * d.In);
  for (const ob of chunksOf(d.Out, d.In, 'linear (backward weight)')) {
    const dyBlock = columnBlock(dy, d.N, d.Out, ob.start, ob.count);
    const part = await runKernelSum('linearBackwardWeight', linearBackwardWeightKernel, ob.count * d.In, imageBlocks(d, ob.count, 'linear (backward weight)').map((nb) => ({
      constants: { N: nb.count, In: d.In, Out: ob.count },
      args: [dyBlock.subarray(nb.start * ob.count, (nb.start + nb.count) * ob.count), x.subarray(nb.start * d.In, (nb.start + nb.count) * d.In)],
    })));
    dw.set(part, ob.start * d.In);
  }
  return dw;
}

export async function linearBackwardBias(dy: Float32Array, d: LinearDims): Promise<Float32Array> {
  return runKernelSum('linearBackwardBias', linearBackwardBiasKernel, d.Out, chunksOf(d.N, d.Out, 'linear (backward bias)', undefined, LOOP_BUDGET).map((nb) => ({
    constants: { N: nb.count, Out: d.Out },
    args: [dy.subarray(nb.start * d.Out, (nb.start + nb.count) * d.Out)],
  })));
}

// float64 references
/** y = x·wᵀ + b in float64: x [N, In], w [Out, In], b [Out] → y [N, Out]. */
export function linearForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, d: LinearDims): Float64Array {
  const y = new Float64Array(d.N * d.Out);
  for (let n = 0; n < d.N; n++)
    for (let o = 0; o < d.Out; o++) {
      let s = b[o];
      for (let i = 0; i < d.In; i++) s += x[n * d.In + i] * w[o * d.In + i];
      y[n * d.Out + o] = s;
    }
  return y;
}

/** The three gradients in float64: dx = dy·w [N, In], dw = dyᵀ·x [Out, In], db = Σₙ dy [Out]. */
export function linearBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, d: LinearDims) {
  const dx = new Float64Array(d.N * d.In), dw = new Float64Array(d.Out * d.In), db = new Float64Array(d.Out);
  for (let n = 0; n < d.N; n++)
    for (let o = 0; o < d.Out; o++) {
      const g = dy[n * d.Out + o];
      db[o] += g;
      for (let i = 0; i < d.In; i++) {
        dx[n * d.In + i] += g * w[o * d.In + i];
        dw[o * d.In + i] += g * x[n * d.In + i];
      }
    }
  return {
    /** dL/dx [N, In] */ dx,
    /** dL/dw [Out, In] */ dw,
    /** dL/db [Out] */ db,
  };
}
