/**
 * The convolution rows of `npm run bench` (bench/run.ts): a K×K convolution, Cin = Cout,
 * stride 1, 'same' padding, at one shape and batch: forward (also with the mul + add build),
 * input gradient and weight gradient, on verydeep, tfjs-wasm (NHWC, no weight-gradient
 * kernel) and PyTorch.
 */
import { settle } from '../kernels/pool.js';
import { runRegistered } from '../lib/core/backend.js';
import type { Conv2dDims } from '../kernels/dims.js';
import type { TorchRow } from './torch-peer.js';
import { nchwToNhwc, oihwToHwio, relativeDifference, nchwIndex, hwioIndex } from './tfjs-peer.js';
import { state, runRow, addCase, readback, randomArray } from './rows.js';
import type * as TF from '@tensorflow/tfjs-core';

export function convCase(K: number, C: number, S: number, N: number, group: string) {
  const d: Conv2dDims = { N, Cin: C, Cout: C, H: S, W: S, K };
  const base = `conv${K}x${K}/${C}@${S}/b${N}`;
  const name = `conv ${K}×${K} ${C}→${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'dx' | 'dw', [string, string]> = {
    fwd: [`${base}/fwd`, `${name} forward`],
    dx: [`${base}/dx`, `${name} grad input`],
    dw: [`${base}/dw`, `${name} grad weight`],
  };
  addCase(Object.values(ids), async (want) => {
    const flops = 2 * N * C * C * K * K * S * S;
    const wScale = 1 / Math.sqrt(C * K * K);
    const x = randomArray(N * C * S * S, 1), dy = randomArray(N * C * S * S, 2);
    const w = randomArray(C * C * K * K, 3, wScale), b = randomArray(C, 4, 0.1);
    // the same values on torch's side: (seed, scale) of each formula input
    const torchConv = (pass: 'fwd' | 'dx' | 'dw'): TorchRow => ({ kind: 'conv', pass, N, C, S, K, x: [1, 1], dy: [2, 1], w: [3, wScale], b: [4, 0.1] });
    settle(w); // a parameter's filters, as the tensor core marks them: the fast path may keep them resident, as tfjs keeps its weights
    let t: { x: TF.Tensor4D; dy: TF.Tensor4D; f: TF.Tensor4D; b: TF.Tensor1D } | null = null;
    if (state.peer) {
      const tf = state.peer.tf;
      t = {
        x: tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]), dy: tf.tensor4d(nchwToNhwc(dy, N, C, S, S), [N, S, S, C]),
        f: tf.tensor4d(oihwToHwio(w, C, C, K), [K, K, C, C]), b: tf.tensor1d(b),
      };
    }
    const tf = state.peer?.tf;
    const same = (o: Float32Array, th: Float32Array) => relativeDifference(o, th, nchwIndex(C, S, S));
    const common = { group, batch: N, flops, bytes: null };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', mulAdd: true,
          ours: () => runRegistered('conv2dForward', x, w, b, d),
          torch: torchConv('fwd'),
          peer: () => readback(tf!.fused.conv2d({ x: t!.x, filter: t!.f, strides: 1, pad: 'same', bias: t!.b })),
          compare: same,
        });
      }
      if (want(ids.dx[0])) {
        await runRow({
          ...common, id: ids.dx[0], label: ids.dx[1], pass: 'grad input',
          ours: () => runRegistered('conv2dBackwardInput', dy, w, d),
          torch: torchConv('dx'),
          peer: () => readback(tf!.engine().runKernel('Conv2DBackpropInput', { dy: t!.dy, filter: t!.f },
            { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [N, S, S, C] } as unknown as TF.NamedAttrMap)),
          compare: same,
        });
      }
      if (want(ids.dw[0])) {
        const hasKernel = tf && tf.getKernel('Conv2DBackpropFilter', 'wasm');
        await runRow({
          ...common, id: ids.dw[0], label: ids.dw[1], pass: 'grad weight',
          ours: () => runRegistered('conv2dBackwardWeight', dy, x, d),
          torch: torchConv('dw'),
          peer: hasKernel
            ? () => readback(tf!.engine().runKernel('Conv2DBackpropFilter', { x: t!.x, dy: t!.dy },
              { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [K, K, C, C] } as unknown as TF.NamedAttrMap))
            : { none: `tfjs-backend-wasm ${state.peer?.backendVersion ?? ''} has no Conv2DBackpropFilter kernel` },
          compare: (o, th) => relativeDifference(o, th, hwioIndex(C, C, K)),
        });
      }
    } finally {
      if (t) state.peer!.tf.dispose([t.x, t.dy, t.f, t.b]);
    }
  });
}
