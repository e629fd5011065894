/**
 * The layouts of verydeep and tfjs, and how far two results differ: the pieces of the tfjs
 * peer that need no Node module, so that both the Node bench (bench/tfjs-peer.ts re-exports
 * them) and the browser benchmark page (examples/web/bench*.ts) use them.
 */
import type * as TF from '@tensorflow/tfjs-core';

/** tfjs-core's namespace, as either side loads it */
export type Tf = typeof TF;

// Layouts: verydeep is NCHW with OIHW filters and [Out, In] linear weights; tfjs is NHWC
// with HWIO filters and [In, Out] dense kernels.

/** [N, C, H, W] → [N, H, W, C] */
export function nchwToNhwc(a: Float32Array, N: number, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(a.length);
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const src = (n * C + c) * HW;
      for (let p = 0; p < HW; p++) out[(n * HW + p) * C + c] = a[src + p];
    }
  }
  return out;
}

/** [Cout, Cin, K, K] → [K, K, Cin, Cout] */
export function oihwToHwio(w: Float32Array, Cout: number, Cin: number, K: number): Float32Array {
  const out = new Float32Array(w.length);
  const KK = K * K;
  for (let co = 0; co < Cout; co++) {
    for (let ci = 0; ci < Cin; ci++) {
      const src = (co * Cin + ci) * KK;
      for (let k = 0; k < KK; k++) out[(k * Cin + ci) * Cout + co] = w[src + k];
    }
  }
  return out;
}

/** [rows, cols] → [cols, rows] */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  const B = 64; // blocks, so that neither side strides through memory a float at a time
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(rows, r0 + B), c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c];
    }
  }
  return out;
}

/**
 * How far two results of the same workload differ: max |ours − theirs| over max |ours|,
 * with `index(i)` the position in theirs of ours' element i.
 */
export function relativeDifference(ours: Float32Array, theirs: Float32Array, index: (i: number) => number = (i) => i): number {
  if (ours.length !== theirs.length) return Number.POSITIVE_INFINITY;
  let diff = 0, scale = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i], b = theirs[index(i)];
    diff = Math.max(diff, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(a));
  }
  if (!Number.isFinite(diff)) return Number.POSITIVE_INFINITY;
  return scale > 0 ? diff / scale : diff;
}

/** index in NHWC of element i of an NCHW array */
export function nchwIndex(C: number, H: number, W: number): (i: number) => number {
  const HW = H * W, per = C * HW;
  return (i) => {
    const n = Math.floor(i / per), r = i - n * per, c = Math.floor(r / HW), p = r - c * HW;
    return (n * HW + p) * C + c;
  };
}

/** index in the [cols, rows] transpose of element i of a [rows, cols] array */
export function transposedIndex(rows: number, cols: number): (i: number) => number {
  return (i) => {
    const r = Math.floor(i / cols), c = i - r * cols;
    return c * rows + r;
  };
}

/** index in HWIO [K, K, Cin, Cout] of element i of an OIHW [Cout, Cin, K, K] filter (a weight gradient) */
export function hwioIndex(Cout: number, Cin: number, K: number): (i: number) => number {
  const KK = K * K;
  return (i) => {
    const co = Math.floor(i / (Cin * KK)), r = i - co * Cin * KK, ci = Math.floor(r / KK), k = r - ci * KK;
    return (k * Cin + ci) * Cout + co;
  };
}
