/**
 * The fully connected rows of `npm run bench` (bench/run.ts): a linear layer In → Out at one
 * batch, forward, input gradient and weight gradient, on verydeep and tfjs-wasm (PyTorch has
 * no workload for them).
 */
import { settle } from '../kernels/pool.js';
import { runRegistered } from '../lib/core/backend.js';
import type { LinearDims } from '../kernels/dims.js';
import { relativeDifference, transposedIndex } from './tfjs-peer.js';
import { state, runRow, addCase, readback, randomArray } from './rows.js';
import type * as TF from '@tensorflow/tfjs-core';

export function linearCase(tag: string, In: number, Out: number, N: number) {
  const d: LinearDims = { N, In, Out };
  const base = `${tag}/b${N}`;
  const name = `${tag.toUpperCase()} ${In}→${Out} b${N}`;
  const ids: Record<'fwd' | 'dx' | 'dw', [string, string]> = {
    fwd: [`${base}/fwd`, `${name} forward`], dx: [`${base}/dx`, `${name} grad input`], dw: [`${base}/dw`, `${name} grad weight`],
  };
  addCase(Object.values(ids), async (want) => {
    const flops = 2 * N * In * Out;
    const x = randomArray(N * In, 5), dy = randomArray(N * Out, 6);
    const w = randomArray(Out * In, 7, 1 / Math.sqrt(In)), b = randomArray(Out, 8, 0.1);
    settle(w); // a parameter's weight (see convCase)
    let t: { x: TF.Tensor2D; dy: TF.Tensor2D; w: TF.Tensor2D; b: TF.Tensor1D } | null = null;
    if (state.peer) {
      const tf = state.peer.tf;
      const wOI = tf.tensor2d(w, [Out, In]);
      t = { x: tf.tensor2d(x, [N, In]), dy: tf.tensor2d(dy, [N, Out]), w: tf.transpose(wOI), b: tf.tensor1d(b) }; // tfjs's dense layout: [In, Out]
      wOI.dispose();
    }
    const tf = state.peer?.tf;
    const common = { group: 'fc', batch: N, flops, bytes: null, notes: [] as string[] };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward',
          ours: () => runRegistered('linearForward', x, w, b, d),
          peer: () => readback(tf!.fused.matMul({ a: t!.x, b: t!.w, bias: t!.b })),
          compare: (o, th) => relativeDifference(o, th),
        });
      }
      if (want(ids.dx[0])) {
        await runRow({
          ...common, id: ids.dx[0], label: ids.dx[1], pass: 'grad input',
          ours: () => runRegistered('linearBackwardInput', dy, w, d),
          peer: () => readback(tf!.matMul(t!.dy, t!.w, false, true)),
          compare: (o, th) => relativeDifference(o, th),
        });
      }
      if (want(ids.dw[0])) {
        await runRow({
          ...common, id: ids.dw[0], label: ids.dw[1], pass: 'grad weight',
          ours: () => runRegistered('linearBackwardWeight', dy, x, d),
          peer: () => readback(tf!.matMul(t!.x, t!.dy, true, false)),
          compare: (o, th) => relativeDifference(o, th, transposedIndex(Out, In)),
        });
      }
    } finally {
      if (t) state.peer!.tf.dispose([t.x, t.dy, t.w, t.b]);
    }
  });
}
