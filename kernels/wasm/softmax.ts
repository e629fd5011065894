/**
 * The fast path's softmax and softmax cross-entropy (softmax-lrn.as), with the signatures
 * and results of the gpu.js launchers of kernels/softmax.ts, on the calling thread, in
 * blocks of whole rows (pointwise.ts's blockwise): a classifier's logits are a few
 * thousand floats, too few to share out between threads.
 */
import type { SoftmaxDims } from '../dims.js';
import { blockwise } from './pointwise.js';

/** y = softmax(x) per row of K */
export async function softmaxForward(x: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const [y] = await blockwise(d.N, [{ data: x, per: d.K }], [d.K], (m, [xAt, yAt], rows) => m.softmaxForward(xAt, yAt, rows, d.K));
  return y;
}

/** dx = y · (dy − Σ dy·y) per row */
export async function softmaxBackward(dy: Float32Array, y: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const [dx] = await blockwise(d.N, [{ data: dy, per: d.K }, { data: y, per: d.K }], [d.K],
    (m, [dyAt, yAt, dxAt], rows) => m.softmaxBackward(dyAt, yAt, dxAt, rows, d.K));
  return dx;
}

/** per-row losses lse[n] − x[n, label[n]] (the op averages them) */
export async function crossEntropyRows(x: Float32Array, labels: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const [out] = await blockwise(d.N, [{ data: x, per: d.K }, { data: labels, per: 1 }], [1],
    (m, [xAt, labelsAt, outAt], rows) => m.crossEntropyRows(xAt, labelsAt, outAt, rows, d.K));
  return out;
}

/** g · (softmax(x) − onehot(label)) / N, g the upstream gradient (one value) */
export async function crossEntropyBackward(x: Float32Array, labels: Float32Array, g: Float32Array, d: SoftmaxDims): Promise<Float32Array> {
  const s = g[0] / d.N;
  const [dx] = await blockwise(d.N, [{ data: x, per: d.K }, { data: labels, per: 1 }], [d.K],
    (m, [xAt, labelsAt, dxAt], rows) => m.crossEntropyBackward(xAt, labelsAt, s, dxAt, rows, d.K));
  return dx;
}
