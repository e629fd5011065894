/**
 * The kernel checks, written once and run by two runners: test/kernels.test.ts registers
 * them with tape on the Node modes, and test/browser/checks.ts runs them inside Chromium on
 * webgl2 and webgpu (test/browser.test.ts). So this file imports no tape and no Node module.
 *
 * Every kernel family, forward and every backward, on every mode that runs here:
 *  1. the kernel (through its op) against the float64 reference;
 *  2. the gradients from autograd against the reference backward;
 *  3. the gradcheck: autograd against central finite differences of the reference forward;
 *  4. once per family, the reference backward itself against finite differences.
 * Shapes cover odd sizes, batch > 1, a single channel and padding edges.
 */
import { setBackend, runRegistered, type Mode } from '../lib/core/backend.js';
import { Tensor } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import * as conv from '../kernels/conv2d.js';
import * as pool from '../kernels/maxpool2d.js';
import * as act from '../kernels/relu.js';
import * as norm from '../kernels/lrn.js';
import * as fc from '../kernels/linear.js';
import * as sm from '../kernels/softmax.js';
import * as drop from '../kernels/dropout.js';
import * as ew from '../kernels/elementwise.js';
import { expectClose, finiteDifferences, gradcheck, randomArray, REF_TOL, type Assert } from './helpers.js';
import type { Conv2dDims, MapDims } from '../kernels/dims.js';
import { runKernelSum, setKernelProfiling, kernelProfile } from '../kernels/gpujs.js';

const F = {
  conv: 'conv2d 3×3 and 1×1',
  pool: 'max-pool 2×2',
  relu: 'ReLU',
  lrn: 'LRN (sum and mean α)',
  fc: 'fully connected',
  softmax: 'softmax',
  ce: 'softmax cross-entropy',
  dropout: 'dropout',
  ew: 'add, mul, scale, sum',
  sgd: 'SGD momentum + weight decay',
};

const CONV_SHAPES: Conv2dDims[] = [
  { N: 2, Cin: 3, Cout: 4, H: 5, W: 7, K: 3 }, // odd sizes, batch > 1
  { N: 1, Cin: 1, Cout: 1, H: 1, W: 1, K: 3 }, // single channel, every tap in the padding
  { N: 3, Cin: 2, Cout: 5, H: 4, W: 3, K: 1 }, // 1×1
  { N: 1, Cin: 4, Cout: 2, H: 2, W: 6, K: 3 },
  // enough channels and tiles for the wasm fast path's Winograd, whose 'auto' takes F(4×4, 3×3)
  // here (13 = 3·4 + 1: the last tile row and column hang over the edge); too big for the
  // finite-difference check of the reference, which the shapes above make
  { N: 1, Cin: 16, Cout: 16, H: 13, W: 13, K: 3 },
  // the gpu.js launchers' register-blocked 3×3 kernels compute four neighbouring outputs per
  // thread on rows padded to a multiple of 4: widths of 4 (both image edges in one group), 8
  // (no padding) and 5, 7, 13 above (padded)
  { N: 2, Cin: 3, Cout: 5, H: 5, W: 8, K: 3 },
  { N: 1, Cin: 2, Cout: 3, H: 3, W: 4, K: 3 },
];

const dimsText = (d: object) => Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' ');

/** Runs forward, then backward with a random dy, and returns the output and input grads. */
async function forwardBackward(op: (ts: Tensor[]) => Tensor, inputs: { data: Float32Array; shape: number[] }[], seed: number) {
  const ts = inputs.map((i) => Tensor.from(i.data, i.shape, { requiresGrad: true }));
  const y = op(ts);
  const dy = randomArray(y.size, seed);
  await y.backward(Tensor.from(dy, y.shape));
  const out = { y: await y.data(), dy, grads: await Promise.all(ts.map((x) => x.grad!.data())) };
  ts.forEach((x) => { x.grad!.dispose(); x.dispose(); });
  y.dispose();
  return out;
}

function referenceBackwardCheck(t: Assert, family: string, pass: string, f: (xs: Float64Array[]) => ArrayLike<number>,
  inputs: ArrayLike<number>[], dy: ArrayLike<number>, k: number, analytic: ArrayLike<number>) {
  const [fd] = finiteDifferences(f, inputs, dy, [k]);
  expectClose(t, analytic, fd, { family, pass, mode: 'reference', what: 'float64 reference backward vs finite differences' }, REF_TOL);
}

/** How a runner registers one named check: tape's `test`, or the browser's recorder. */
export type DefineTest = (name: string, fn: (t: Assert) => Promise<void>) => void;

/** The kernel checks on each of `modes`; the float64 references are also checked on the first. */
export function defineKernelTests(modes: Mode[], test: DefineTest): void {
  for (const mode of modes) {
    test(`[${mode}] conv2d forward and backward`, async (t) => {
      await setBackend(mode);
      for (const d of CONV_SHAPES) {
        const x = randomArray(d.N * d.Cin * d.H * d.W, 1);
        const w = randomArray(d.Cout * d.Cin * d.K * d.K, 2);
        const b = randomArray(d.Cout, 3);
        const r = await forwardBackward(([xt, wt, bt]) => ops.conv2d(xt, wt, bt),
          [{ data: x, shape: [d.N, d.Cin, d.H, d.W] }, { data: w, shape: [d.Cout, d.Cin, d.K, d.K] }, { data: b, shape: [d.Cout] }], 4);
        const ref = conv.conv2dBackwardRef(r.dy, x, w, d);
        expectClose(t, r.y, conv.conv2dForwardRef(x, w, b, d), { family: F.conv, pass: 'forward', mode, what: dimsText(d) });
        expectClose(t, r.grads[0], ref.dx, { family: F.conv, pass: 'backward input', mode, what: dimsText(d) });
        expectClose(t, r.grads[1], ref.dw, { family: F.conv, pass: 'backward weight', mode, what: dimsText(d) });
        expectClose(t, r.grads[2], ref.db, { family: F.conv, pass: 'backward bias', mode, what: dimsText(d) });
        if (mode === modes[0] && d.Cin * d.Cout <= 64) {
          const f = ([xv, wv, bv]: Float64Array[]) => conv.conv2dForwardRef(xv, wv, bv, d);
          referenceBackwardCheck(t, F.conv, 'backward input', f, [x, w, b], r.dy, 0, ref.dx);
          referenceBackwardCheck(t, F.conv, 'backward weight', f, [x, w, b], r.dy, 1, ref.dw);
          referenceBackwardCheck(t, F.conv, 'backward bias', f, [x, w, b], r.dy, 2, ref.db);
        }
      }
      const d = CONV_SHAPES[0];
      await gradcheck(t, F.conv, mode, ([xt, wt, bt]) => ops.conv2d(xt, wt, bt), ([xv, wv, bv]) => conv.conv2dForwardRef(xv, wv, bv, d), [
        { data: randomArray(d.N * d.Cin * d.H * d.W, 5), shape: [d.N, d.Cin, d.H, d.W] },
        { data: randomArray(d.Cout * d.Cin * 9, 6), shape: [d.Cout, d.Cin, 3, 3] },
        { data: randomArray(d.Cout, 7), shape: [d.Cout] },
      ]);
    });

    test(`[${mode}] maxPool2d forward and backward (odd sizes drop the last row/column)`, async (t) => {
      await setBackend(mode);
      for (const d of [{ N: 2, C: 3, H: 5, W: 7 }, { N: 1, C: 1, H: 2, W: 2 }, { N: 3, C: 2, H: 4, W: 3 }]) {
        const x = randomArray(d.N * d.C * d.H * d.W, 8);
        const r = await forwardBackward(([xt]) => ops.maxPool2d(xt), [{ data: x, shape: [d.N, d.C, d.H, d.W] }], 9);
        expectClose(t, r.y, pool.maxPool2dForwardRef(x, d).y, { family: F.pool, pass: 'forward', mode, what: dimsText(d) });
        expectClose(t, r.grads[0], pool.maxPool2dBackwardRef(r.dy, x, d), { family: F.pool, pass: 'backward input', mode, what: dimsText(d) });
        if (mode === modes[0]) {
          referenceBackwardCheck(t, F.pool, 'backward input', ([xv]) => pool.maxPool2dForwardRef(xv, d).y, [x], r.dy, 0, pool.maxPool2dBackwardRef(r.dy, x, d));
        }
      }
      // ties: the first maximum of the window in row-major order takes the whole gradient
      const tied = await forwardBackward(([xt]) => ops.maxPool2d(xt), [{ data: Float32Array.of(1, 1, 1, 1), shape: [1, 1, 2, 2] }], 1);
      t.deepEqual(Array.from(tied.grads[0]), [tied.dy[0], 0, 0, 0], `maxPool2d on ${mode}: a tie sends the gradient to the first maximum only`);
      const d = { N: 1, C: 2, H: 5, W: 4 };
      await gradcheck(t, F.pool, mode, ([xt]) => ops.maxPool2d(xt), ([xv]) => pool.maxPool2dForwardRef(xv, d).y, [{ data: randomArray(40, 10), shape: [1, 2, 5, 4] }]);
    });

    test(`[${mode}] relu forward and backward`, async (t) => {
      await setBackend(mode);
      const x = randomArray(37, 11);
      x[3] = 0; // the gradient at exactly 0 is 0
      const r = await forwardBackward(([xt]) => ops.relu(xt), [{ data: x, shape: [37] }], 12);
      expectClose(t, r.y, act.reluForwardRef(x), { family: F.relu, pass: 'forward', mode, what: '37 elements' });
      expectClose(t, r.grads[0], act.reluBackwardRef(r.dy, x), { family: F.relu, pass: 'backward input', mode, what: '37 elements, one exact 0' });
      t.equal(r.grads[0][3], 0, `relu on ${mode}: gradient at 0 is 0`);
      if (mode === modes[0]) referenceBackwardCheck(t, F.relu, 'backward input', ([xv]) => act.reluForwardRef(xv), [x.map((v) => v || 0.5)], r.dy, 0, act.reluBackwardRef(r.dy, x.map((v) => v || 0.5)));
      await gradcheck(t, F.relu, mode, ([xt]) => ops.relu(xt), ([xv]) => act.reluForwardRef(xv), [{ data: randomArray(24, 13), shape: [2, 3, 4] }]);
    });

    test(`[${mode}] lrn forward and backward, both α conventions`, async (t) => {
      await setBackend(mode);
      const cases: [MapDims, Partial<norm.LrnOptions>][] = [
        [{ N: 2, C: 7, H: 3, W: 2 }, {}], // the paper's k=2, n=5, α=1e-4, β=0.75, α summed
        [{ N: 2, C: 7, H: 3, W: 2 }, { alphaMode: 'mean', k: 1, alpha: 0.5 }],
        [{ N: 1, C: 6, H: 2, W: 3 }, { size: 4, alpha: 0.3, beta: 0.6 }], // an even window
        [{ N: 1, C: 1, H: 3, W: 3 }, { alpha: 0.2 }], // a single channel
      ];
      for (const [d, partial] of cases) {
        const o = { ...ops.LRN_PAPER_DEFAULTS, ...partial } as norm.LrnOptions;
        const x = randomArray(d.N * d.C * d.H * d.W, 14, 3);
        const r = await forwardBackward(([xt]) => ops.lrn(xt, o), [{ data: x, shape: [d.N, d.C, d.H, d.W] }], 15);
        const what = `${dimsText(d)} size=${o.size} α=${o.alpha} β=${o.beta} k=${o.k} ${o.alphaMode}`;
        expectClose(t, r.y, norm.lrnForwardRef(x, o, d).y, { family: F.lrn, pass: 'forward', mode, what });
        expectClose(t, r.grads[0], norm.lrnBackwardRef(r.dy, x, o, d), { family: F.lrn, pass: 'backward input', mode, what });
        if (mode === modes[0]) referenceBackwardCheck(t, F.lrn, 'backward input', ([xv]) => norm.lrnForwardRef(xv, o, d).y, [x], r.dy, 0, norm.lrnBackwardRef(r.dy, x, o, d));
        await gradcheck(t, F.lrn, mode, ([xt]) => ops.lrn(xt, o), ([xv]) => norm.lrnForwardRef(xv, o, d).y, [{ data: x, shape: [d.N, d.C, d.H, d.W] }]);
      }
      // the two conventions differ exactly by α → α/n
      const x = Tensor.from(randomArray(2 * 5 * 2 * 2, 16, 4), [2, 5, 2, 2]);
      const mean = await ops.lrn(x, { alpha: 0.5, alphaMode: 'mean' }).data();
      const sum = await ops.lrn(x, { alpha: 0.1, alphaMode: 'sum' }).data();
      expectClose(t, mean, sum, { family: F.lrn, pass: 'forward', mode, what: "'mean' with α=0.5, n=5 equals 'sum' with α=0.1" });
    });

    test(`[${mode}] linear forward and backward`, async (t) => {
      await setBackend(mode);
      // In = 70,000 > LOOP_BUDGET: the forward splits the reduction over input features
      for (const d of [{ N: 3, In: 7, Out: 5 }, { N: 1, In: 1, Out: 1 }, { N: 4, In: 33, Out: 10 }, { N: 2, In: 70000, Out: 3 },
        { N: 3, In: 9, Out: 8 }, { N: 2, In: 70000, Out: 4 }]) { // Out a multiple of 4: the gpu.js launcher's four-output kernel
        const x = randomArray(d.N * d.In, 17), w = randomArray(d.Out * d.In, 18), b = randomArray(d.Out, 19);
        const r = await forwardBackward(([xt, wt, bt]) => ops.linear(xt, wt, bt),
          [{ data: x, shape: [d.N, d.In] }, { data: w, shape: [d.Out, d.In] }, { data: b, shape: [d.Out] }], 20);
        const ref = fc.linearBackwardRef(r.dy, x, w, d);
        expectClose(t, r.y, fc.linearForwardRef(x, w, b, d), { family: F.fc, pass: 'forward', mode, what: dimsText(d) });
        expectClose(t, r.grads[0], ref.dx, { family: F.fc, pass: 'backward input', mode, what: dimsText(d) });
        expectClose(t, r.grads[1], ref.dw, { family: F.fc, pass: 'backward weight', mode, what: dimsText(d) });
        expectClose(t, r.grads[2], ref.db, { family: F.fc, pass: 'backward bias', mode, what: dimsText(d) });
        if (mode === modes[0] && d.In < 1000) {
          const f = ([xv, wv, bv]: Float64Array[]) => fc.linearForwardRef(xv, wv, bv, d);
          referenceBackwardCheck(t, F.fc, 'backward input', f, [x, w, b], r.dy, 0, ref.dx);
          referenceBackwardCheck(t, F.fc, 'backward weight', f, [x, w, b], r.dy, 1, ref.dw);
          referenceBackwardCheck(t, F.fc, 'backward bias', f, [x, w, b], r.dy, 2, ref.db);
        }
      }
      const d = { N: 2, In: 6, Out: 3 };
      await gradcheck(t, F.fc, mode, ([xt, wt, bt]) => ops.linear(xt, wt, bt), ([xv, wv, bv]) => fc.linearForwardRef(xv, wv, bv, d), [
        { data: randomArray(12, 21), shape: [2, 6] }, { data: randomArray(18, 22), shape: [3, 6] }, { data: randomArray(3, 23), shape: [3] },
      ]);
    });

    test(`[${mode}] softmax and softmax cross-entropy`, async (t) => {
      await setBackend(mode);
      for (const d of [{ N: 3, K: 5 }, { N: 1, K: 1 }, { N: 2, K: 10 }]) {
        const x = randomArray(d.N * d.K, 24, 5);
        const r = await forwardBackward(([xt]) => ops.softmax(xt), [{ data: x, shape: [d.N, d.K] }], 25);
        const y = sm.softmaxForwardRef(x, d);
        expectClose(t, r.y, y, { family: F.softmax, pass: 'forward', mode, what: dimsText(d) });
        expectClose(t, r.grads[0], sm.softmaxBackwardRef(r.dy, y, d), { family: F.softmax, pass: 'backward input', mode, what: dimsText(d) });
        if (mode === modes[0]) referenceBackwardCheck(t, F.softmax, 'backward input', ([xv]) => sm.softmaxForwardRef(xv, d), [x], r.dy, 0, sm.softmaxBackwardRef(r.dy, y, d));
        await gradcheck(t, F.softmax, mode, ([xt]) => ops.softmax(xt), ([xv]) => sm.softmaxForwardRef(xv, d), [{ data: x, shape: [d.N, d.K] }]);

        const labels = Array.from({ length: d.N }, (_, i) => (i * 7 + 3) % d.K);
        const logits = Tensor.from(x, [d.N, d.K], { requiresGrad: true });
        const loss = ops.softmaxCrossEntropy(logits, labels);
        t.deepEqual(loss.shape, [], 'softmaxCrossEntropy returns a scalar');
        await loss.backward();
        expectClose(t, [await loss.item()], [sm.crossEntropyRef(x, labels, d)], { family: F.ce, pass: 'forward', mode, what: dimsText(d) });
        expectClose(t, await logits.grad!.data(), sm.crossEntropyBackwardRef(x, labels, 1, d), { family: F.ce, pass: 'backward input', mode, what: dimsText(d) });
        await gradcheck(t, F.ce, mode, ([xt]) => ops.softmaxCrossEntropy(xt, labels), ([xv]) => [sm.crossEntropyRef(xv, labels, d)], [{ data: x, shape: [d.N, d.K] }]);
      }
      // stability: huge logits give a finite loss (log-sum-exp)
      const big = ops.softmaxCrossEntropy(Tensor.from([1000, -1000, 0, 900], [2, 2]), Int32Array.of(0, 1));
      expectClose(t, [await big.item()], [sm.crossEntropyRef([1000, -1000, 0, 900], [0, 1], { N: 2, K: 2 })], { family: F.ce, pass: 'forward', mode, what: 'logits of ±1000 stay finite' });
    });

    test(`[${mode}] dropout forward and backward`, async (t) => {
      await setBackend(mode);
      const n = 4000, p = 0.5, seed = 7;
      const x = randomArray(n, 26);
      const r = await forwardBackward(([xt]) => ops.dropout(xt, p, seed), [{ data: x, shape: [n] }], 27);
      expectClose(t, r.y, drop.dropoutRef(x, p, seed), { family: F.dropout, pass: 'forward', mode, what: `n=${n} p=${p}` });
      expectClose(t, r.grads[0], drop.dropoutRef(r.dy, p, seed), { family: F.dropout, pass: 'backward input', mode, what: 'dy · the forward mask / (1−p)' });
      const kept = drop.dropoutMask(n, p, seed).reduce((a, v) => a + v, 0) / n;
      t.ok(Math.abs(kept - (1 - p)) < 0.03, `dropout keeps ${(kept * 100).toFixed(1)}% at p=${p}`);
      const other = await ops.dropout(Tensor.from(x), p, seed + 1).data();
      t.notDeepEqual(Array.from(other), Array.from(r.y), 'another seed gives another mask');
      await gradcheck(t, F.dropout, mode, ([xt]) => ops.dropout(xt, 0.3, 5), ([xv]) => drop.dropoutRef(xv, 0.3, 5), [{ data: randomArray(50, 28), shape: [5, 10] }]);
    });

    test(`[${mode}] add, mul, scale, sum and the SGD update`, async (t) => {
      await setBackend(mode);
      const a = randomArray(3001, 29), b = randomArray(3001, 30);
      const r = await forwardBackward(([at, bt]) => ops.sum(ops.mul(ops.add(at, bt), at)), [{ data: a, shape: [3001] }, { data: b, shape: [3001] }], 31);
      const s = ew.sumRef(ew.mulRef(ew.addRef(a, b), a));
      expectClose(t, r.y, s, { family: F.ew, pass: 'forward', mode, what: 'sum((a + b) · a), 3001 elements' });
      // d/da = dy · (2a + b), d/db = dy · a
      expectClose(t, r.grads[0], Float64Array.from(a, (v, i) => r.dy[0] * (2 * v + b[i])), { family: F.ew, pass: 'backward input', mode, what: 'd/da of sum((a + b) · a)' });
      expectClose(t, r.grads[1], Float64Array.from(a, (v) => r.dy[0] * v), { family: F.ew, pass: 'backward input', mode, what: 'd/db of sum((a + b) · a)' });
      const scaled = await ops.mul(Tensor.from(a), 2.5).data();
      expectClose(t, scaled, ew.scaleRef(a, 2.5), { family: F.ew, pass: 'forward', mode, what: 'scale by 2.5' });
      await gradcheck(t, F.ew, mode, ([x, y]) => ops.mul(ops.add(x, y), 0.5), ([xv, yv]) => ew.scaleRef(ew.addRef(xv, yv), 0.5), [
        { data: randomArray(9, 32), shape: [3, 3] }, { data: randomArray(9, 33), shape: [3, 3] },
      ]);
      const p = randomArray(2049, 34), g = randomArray(2049, 35), v = randomArray(2049, 36);
      const o = { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 };
      const got = await runRegistered('sgdUpdate', p, g, v, o);
      const ref = ew.sgdUpdateRef(p, g, v, o);
      expectClose(t, got.param, ref.param, { family: F.sgd, pass: 'update', mode, what: 'parameter, lr=0.01 momentum=0.9 wd=5e-4' });
      expectClose(t, got.velocity, ref.velocity, { family: F.sgd, pass: 'update', mode, what: 'velocity' });
    });

    // The launchers add the partial sums of split reductions (weight and bias gradients past
    // LOOP_BUDGET) with runKernelSum: on the GL and WebGPU modes on the GPU, in pipeline mode.
    // A VGG-sized case takes seconds on a software renderer; this one is exact (small integers).
    test(`[${mode}] runKernelSum: partial sums of several launches, kept on the GPU where the mode can`, async (t) => {
      await setBackend(mode);
      const size = 37;
      const a = Float32Array.from({ length: size }, (_, i) => i - 18.5);
      const launches = [1, 10, 100, -1000].map((scale) => ({ constants: { S: scale }, args: [a] }));
      setKernelProfiling(true);
      const got = await runKernelSum('scaledCopy', scaledCopyKernel, size, launches);
      const sums = kernelProfile()['scaledCopy (sum)']?.calls ?? 0;
      setKernelProfiling(false);
      const onGpu = ['headlessgl', 'webgl2', 'webgpu'].includes(mode);
      t.equal(sums, onGpu ? 3 : 0, `runKernelSum on ${mode}: ${onGpu ? 'three additions on the GPU' : 'the additions on the host'}`);
      t.deepEqual(Array.from(got), Array.from(a, (v) => v * -889), `runKernelSum on ${mode}: four launches summed exactly`);
      const one = await runKernelSum('scaledCopy', scaledCopyKernel, size, launches.slice(0, 1));
      t.deepEqual(Array.from(one), Array.from(a), `runKernelSum on ${mode}: one launch is its result`);
    });
  }
}

function scaledCopyKernel(this: any, a: number[]): number {
  return a[this.thread.x] * this.constants.S;
}
