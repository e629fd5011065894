/**
 * The memory-bound rows of `npm run bench` (bench/run.ts): max-pool 2×2 and LRN, forward and
 * backward, on verydeep and tfjs-wasm; their figure is GB/s of compulsory traffic.
 */
import { ops } from '../lib/index.js';
import { runRegistered } from '../lib/core/backend.js';
import type { MapDims } from '../kernels/dims.js';
import type { LrnOptions } from '../kernels/lrn.js';
import { nchwToNhwc, relativeDifference, nchwIndex } from './tfjs-peer.js';
import { state, runRow, addCase, readback, randomArray } from './rows.js';
import type * as TF from '@tensorflow/tfjs-core';

export function poolCase(C: number, S: number, N: number) {
  const d: MapDims = { N, C, H: S, W: S };
  const base = `maxpool/${C}@${S}/b${N}`;
  const name = `max-pool 2×2 ${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'bwd', [string, string]> = { fwd: [`${base}/fwd`, `${name} forward`], bwd: [`${base}/bwd`, `${name} backward`] };
  addCase(Object.values(ids), async (want) => {
    const n = N * C * S * S, So = Math.floor(S / 2);
    // positive inputs, as after a ReLU: tfjs-backend-wasm 4.22.0's MaxPoolGrad gives no gradient to a
    // window whose maximum is negative (checked here on a 4×4 input), so Δ would flag its bug, not ours
    const x = randomArray(n, 9).map(Math.abs), dy = randomArray(N * C * So * So, 10);
    let t: { x: TF.Tensor4D; y: TF.Tensor4D; dy: TF.Tensor4D } | null = null;
    if (state.peer) {
      const tf = state.peer.tf;
      const xt = tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]);
      t = { x: xt, y: tf.maxPool(xt, 2, 2, 'valid'), dy: tf.tensor4d(nchwToNhwc(dy, N, C, So, So), [N, So, So, C]) };
    }
    const tf = state.peer?.tf;
    const common = { group: 'pool', batch: N, flops: null, notes: ['inputs in [0, 1), as after a ReLU: tfjs-wasm 4.22.0\'s MaxPoolGrad drops the gradient of windows whose maximum is negative'] };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', bytes: 4 * (n + n / 4),
          ours: () => runRegistered('maxPool2dForward', x, d),
          peer: () => readback(tf!.maxPool(t!.x, 2, 2, 'valid')),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, So, So)),
        });
      }
      if (want(ids.bwd[0])) {
        await runRow({
          ...common, id: ids.bwd[0], label: ids.bwd[1], pass: 'backward', bytes: 4 * (n + n / 4 + n),
          ours: () => runRegistered('maxPool2dBackward', dy, x, d),
          peer: () => readback(tf!.engine().runKernel('MaxPoolGrad', { dy: t!.dy, input: t!.x, output: t!.y },
            { filterSize: 2, strides: 2, pad: 'valid' } as unknown as TF.NamedAttrMap)),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, S, S)),
        });
      }
    } finally {
      if (t) state.peer!.tf.dispose([t.x, t.y, t.dy]);
    }
  });
}

export function lrnCase(C: number, S: number, N: number) {
  const d: MapDims = { N, C, H: S, W: S };
  const o: LrnOptions = { ...ops.LRN_PAPER_DEFAULTS };
  const base = `lrn/${C}@${S}/b${N}`;
  const name = `LRN (n 5, k 2, α 1e-4, β 0.75) ${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'bwd', [string, string]> = { fwd: [`${base}/fwd`, `${name} forward`], bwd: [`${base}/bwd`, `${name} backward`] };
  addCase(Object.values(ids), async (want) => {
    const n = N * C * S * S;
    const x = randomArray(n, 11, 4), dy = randomArray(n, 12);
    let t: { x: TF.Tensor4D; y: TF.Tensor4D; dy: TF.Tensor4D } | null = null;
    const radius = (o.size - 1) / 2;
    if (state.peer) {
      const tf = state.peer.tf;
      const xt = tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]);
      t = { x: xt, y: tf.localResponseNormalization(xt, radius, o.k, o.alpha, o.beta), dy: tf.tensor4d(nchwToNhwc(dy, N, C, S, S), [N, S, S, C]) };
    }
    const tf = state.peer?.tf;
    const note = 'verydeep runs LRN on the fast path (kernels/wasm/lrn.ts: WebAssembly SIMD, blocks of 64 pixels across the channels)';
    const common = { group: 'lrn', batch: N, flops: null, notes: [note] };
    const same = (a: Float32Array, th: Float32Array) => relativeDifference(a, th, nchwIndex(C, S, S));
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', bytes: 8 * n,
          ours: () => runRegistered('lrnForward', x, o, d),
          peer: () => readback(tf!.localResponseNormalization(t!.x, radius, o.k, o.alpha, o.beta)),
          compare: same,
        });
      }
      if (want(ids.bwd[0])) {
        await runRow({
          ...common, id: ids.bwd[0], label: ids.bwd[1], pass: 'backward', bytes: 12 * n,
          ours: () => runRegistered('lrnBackward', dy, x, o, d),
          peer: () => readback(tf!.engine().runKernel('LRNGrad', { x: t!.x, y: t!.y, dy: t!.dy },
            { depthRadius: radius, bias: o.k, alpha: o.alpha, beta: o.beta } as unknown as TF.NamedAttrMap)),
          compare: same,
        });
      }
    } finally {
      if (t) state.peer!.tf.dispose([t.x, t.y, t.dy]);
    }
  });
}
