/**
 * The tensor core: constructors, ndarray conversion, autograd, noGrad, tidy, memory(),
 * backends, and the errors that bad input gets.
 */
import test from 'tape';
import ndarray from 'ndarray';
import { Tensor, zeros, ones, randn, noGrad, isGradEnabled, tidy, keep, memory, setBackend, getBackend, getBackendInfo, ops } from '../lib/index.js';
import type { Mode } from '../lib/core/backend.js';
import { allocate, release, poolStats, setPoolLimit, clearPool, POOL_MIN_FLOATS } from '../kernels/pool.js';
import { opResult } from '../lib/core/tensor.js';
import { Vgg } from '../lib/models/vgg.js';
import * as optim from '../lib/optim/index.js';
import { initFastPath } from '../kernels/wasm/fastpath.js';
import { throwsNamed, rejectsNamed } from './helpers.js';
import { BackendError, DisposedError, ShapeError, ValueError } from '../lib/core/errors.js';

export function registerTensorTests(modes: Mode[]): void {
  test('Tensor constructors and conversions', async (t) => {
    await setBackend('cpu');
    const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    t.deepEqual(a.shape, [2, 3]);
    t.ok(a.requiresGrad);
    a.requiresGrad = false;
    t.notOk(a.requiresGrad, 'requiresGrad is writable on a leaf');
    t.deepEqual(Array.from(await a.data()), [1, 2, 3, 4, 5, 6]);
    t.deepEqual(Array.from(await zeros([2, 2]).data()), [0, 0, 0, 0]);
    t.deepEqual(Array.from(await ones([3]).data()), [1, 1, 1]);
    const r = await randn([20000], { seed: 3, std: 0.01 }).data();
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const std = Math.sqrt(r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length);
    t.ok(Math.abs(mean) < 3e-4 && Math.abs(std - 0.01) < 3e-4, `randn std=0.01: mean ${mean.toExponential(2)}, std ${std.toExponential(3)}`);
    t.deepEqual(Array.from(await randn([5], { seed: 9 }).data()), Array.from(await randn([5], { seed: 9 }).data()), 'randn with a seed repeats');
    const nd = await a.toNdarray();
    t.deepEqual(nd.shape, [2, 3]);
    t.equal(nd.get(1, 2), 6, 'toNdarray keeps row-major order');
    // a transposed (strided) view converts by its logical order
    const view = ndarray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]).transpose(1, 0);
    const back = Tensor.fromNdarray(view);
    t.deepEqual(back.shape, [3, 2]);
    t.deepEqual(Array.from(await back.data()), [1, 4, 2, 5, 3, 6], 'fromNdarray follows strides');
    throwsNamed(t, () => Tensor.from([1, 2, 3], [2, 2]), ShapeError, [/Tensor\.from/, /\[2, 2\]/, /3/], 'wrong element count');
  });

  test('noGrad: overlapping async calls leave recording on when the last one ends (A starts, B starts, A ends, B ends)', async (t) => {
    let endA!: () => void, endB!: () => void;
    const a = noGrad(() => new Promise<void>((r) => { endA = r; }));
    const b = noGrad(() => new Promise<void>((r) => { endB = r; }));
    t.notOk(isGradEnabled(), 'off while both run');
    endA();
    await a;
    t.notOk(isGradEnabled(), 'still off while B runs');
    endB();
    await b;
    t.ok(isGradEnabled(), 'on again after both');
    t.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/, 'a throwing fn');
    t.ok(isGradEnabled(), 'on again after a throw');
  });

  for (const mode of modes) {
    test(`[${mode}] autograd: a small graph, accumulation, noGrad`, async (t) => {
      await setBackend(mode);
      const a = Tensor.from([1, -2, 3], [3], { requiresGrad: true });
      const b = Tensor.from([4, 5, -6], [3], { requiresGrad: true });
      // L = Σ (a + b) · a  →  dL/da = 2a + b, dL/db = a
      const loss = ops.sum(ops.mul(ops.add(a, b), a));
      t.equal(await loss.item(), 1 * 5 + -2 * 3 + 3 * -3, 'forward value');
      await loss.backward();
      t.deepEqual(Array.from(await a.grad!.data()), [6, 1, 0], 'dL/da = 2a + b');
      t.deepEqual(Array.from(await b.grad!.data()), [1, -2, 3], 'dL/db = a');
      await ops.sum(ops.add(a, a)).backward();
      t.deepEqual(Array.from(await a.grad!.data()), [8, 3, 2], 'a second backward accumulates (add(a, a) gives 2 each)');
      const c = noGrad(() => ops.mul(a, 3));
      t.notOk(c.requiresGrad, 'noGrad records nothing');
      t.equal(c.node, null);
      await rejectsNamed(t, () => c.backward(), ValueError, [/backward/, /does not require grad/], 'backward without a graph');
      await rejectsNamed(t, () => ops.add(a, b).backward(), ShapeError, [/backward/, /\[3\]/], 'backward of a non-scalar without gradOutput');
    });

    test(`[${mode}] memory returns to its baseline after forward, backward and dispose`, async (t) => {
      await setBackend(mode);
      const base = memory();
      const x = Tensor.from(new Float32Array(2 * 3 * 6 * 6).fill(0.5), [2, 3, 6, 6]);
      const w = randn([4, 3, 3, 3], { seed: 1, requiresGrad: true });
      const b = zeros([4], { requiresGrad: true });
      const fcw = randn([5, 4 * 3 * 3], { seed: 2, requiresGrad: true });
      await tidy(async () => {
        const h = ops.maxPool2d(ops.relu(ops.conv2d(x, w, b)));
        const loss = ops.softmaxCrossEntropy(ops.linear(ops.flatten(h), fcw), [1, 4]);
        await loss.backward();
      });
      const afterBackward = memory();
      t.equal(afterBackward.tensors, base.tensors + 4 + 3, 'tidy leaves the 4 inputs and the 3 gradients');
      for (const p of [w, b, fcw]) p.grad!.dispose();
      [x, w, b, fcw].forEach((p) => p.dispose());
      t.deepEqual(memory(), base, `back to ${base.tensors} tensors, ${base.bytes} bytes`);
    });
  }

  test('tidy: sync and async, returned and kept tensors survive', async (t) => {
    await setBackend('cpu');
    const base = memory().tensors;
    const kept: Tensor[] = [];
    const r = tidy(() => {
      const a = ones([4]);
      const b = ops.mul(a, 2);
      kept.push(keep(ops.add(b, b)));
      ops.relu(b);
      return { b };
    });
    t.equal(memory().tensors, base + 2, 'the returned and the kept tensor live');
    t.deepEqual(Array.from(await r.b.data()), [2, 2, 2, 2]);
    const s = await tidy(async () => {
      const a = ones([2]);
      await a.data();
      return ops.mul(a, 5);
    });
    t.deepEqual(Array.from(await s.data()), [5, 5], 'async tidy returns its tensor');
    t.equal(memory().tensors, base + 3);
    [r.b, kept[0], s].forEach((x) => x.dispose());
    t.equal(memory().tensors, base, 'all freed');
    const gone = ones([1]);
    gone.dispose();
    await rejectsNamed(t, () => gone.data(), DisposedError, [/disposed/], 'reading a disposed tensor');
    throwsNamed(t, () => ops.relu(gone), DisposedError, [/relu/, /disposed/], 'an op on a disposed tensor');
  });

  test('bad input: clear errors that name the op, the expected and the actual', async (t) => {
    await setBackend('cpu');
    const x = zeros([2, 3, 4, 4]);
    throwsNamed(t, () => ops.conv2d(zeros([3, 4, 4]), zeros([8, 3, 3, 3])), ShapeError, [/conv2d/, /rank 4/, /\[3, 4, 4\]/], 'conv2d, wrong rank');
    throwsNamed(t, () => ops.conv2d(x, zeros([8, 5, 3, 3])), ShapeError, [/conv2d/, /3 channels/, /expects 5/], 'conv2d, channel mismatch');
    throwsNamed(t, () => ops.conv2d(x, zeros([8, 3, 3, 3]), zeros([7])), ShapeError, [/conv2d/, /bias/, /\[8\]/, /\[7\]/], 'conv2d, bias shape');
    throwsNamed(t, () => ops.linear(zeros([2, 10]), zeros([4, 9])), ShapeError, [/linear/, /10 features/, /9/], 'linear, feature mismatch');
    throwsNamed(t, () => ops.maxPool2d(zeros([1, 1, 1, 4])), ShapeError, [/maxPool2d/, /at least 2/], 'maxPool2d, too small');
    throwsNamed(t, () => ops.add(zeros([2]), zeros([3])), ShapeError, [/add/, /\[2\]/, /\[3\]/], 'add, shape mismatch');
    const logits = zeros([2, 5]);
    throwsNamed(t, () => ops.softmaxCrossEntropy(logits, [1.5, 2]), ValueError, [/softmaxCrossEntropy/, /integer labels in \[0, 4\]/, /1\.5/], 'non-integer label');
    throwsNamed(t, () => ops.softmaxCrossEntropy(logits, [1, 5]), ValueError, [/softmaxCrossEntropy/, /\[0, 4\]/, /got 5/], 'label out of range');
    throwsNamed(t, () => ops.softmaxCrossEntropy(logits, [1]), ShapeError, [/softmaxCrossEntropy/, /expected 2 labels/, /got 1/], 'label count');
    throwsNamed(t, () => ops.softmaxCrossEntropy(logits, 'ab' as never), ValueError, [/softmaxCrossEntropy/, /number\[\] or an Int32Array/], 'labels of the wrong type');
    throwsNamed(t, () => ops.dropout(x, 1, 1), ValueError, [/dropout/, /\[0, 1\)/, /got 1/], 'dropout p out of range');
    throwsNamed(t, () => ops.lrn(x, { k: 0 }), ValueError, [/lrn/, /k > 0/], 'lrn with k = 0');
    await rejectsNamed(t, () => setBackend('metal' as never), BackendError, [/setBackend/, /unknown mode 'metal'/, /cpu, webasm/], 'unknown backend mode');
    await rejectsNamed(t, () => setBackend('webgl2'), BackendError, [/setBackend\('webgl2'\)/, /browser/], 'webgl2 in Node');
  });

  test('backends: getBackend tells the mode that runs; auto says why', async (t) => {
    for (const mode of modes) {
      await setBackend(mode);
      t.equal(getBackend(), mode, `setBackend('${mode}') runs ${mode}`);
    }
    const info = await setBackend('auto');
    t.ok(info.mode && info.reason.startsWith('auto:'), `auto picked ${info.mode}: ${info.reason}`);
    t.deepEqual(getBackendInfo(), info);
    // results do not depend on the mode beyond the kernel tolerance
    const outs: Float32Array[] = [];
    for (const mode of modes) {
      await setBackend(mode);
      const x = randn([2, 3, 5, 5], { seed: 4 });
      outs.push(await ops.relu(ops.conv2d(x, randn([2, 3, 3, 3], { seed: 5 }), zeros([2]))).data());
    }
    const worst = Math.max(...outs.map((o) => Math.max(...o.map((v, i) => Math.abs(v - outs[0][i])))));
    t.ok(worst < 1e-4, `${modes.join(', ')} agree within ${worst.toExponential(2)}`);
  });

  // the storage pool (kernels/pool.ts) and the tensor core's rules (lib/core/storage.ts) for giving arrays back -----
  const big = POOL_MIN_FLOATS * 2;
  /** a tensor computed by an op, so its array comes from allocate() and may be pooled */
  const computedOnes = (n: number) => opResult('test fill', [n], [], () => allocate(n).fill(1));
  const released = () => poolStats().released;

  test('pool: allocate reuses a released array of the same length; small and foreign arrays never enter; the limit evicts the oldest', async (t) => {
    clearPool();
    const a = allocate(big);
    release(a);
    t.equal(allocate(big), a, 'the same array comes back for the same length');
    t.notEqual(allocate(big), a, 'and only once');
    const foreign = new Float32Array(big);
    const before = released();
    release(foreign);
    t.equal(released(), before, 'an array that allocate() did not make is ignored');
    const small = allocate(POOL_MIN_FLOATS - 1);
    release(small);
    t.notEqual(allocate(POOL_MIN_FLOATS - 1), small, `arrays under ${POOL_MIN_FLOATS} floats are not pooled`);
    release(a);
    release(a);
    t.equal(poolStats().arrays, 1, 'releasing twice keeps one entry');
    setPoolLimit(big * 4 * 2);
    const [x, y, z] = [allocate(big), allocate(big), allocate(big)];
    release(x); release(y); release(z);
    t.ok(poolStats().bytes <= big * 4 * 2, `over the limit the oldest go: ${poolStats().arrays} arrays kept`);
    t.notEqual(allocate(big), a, 'the oldest (released first) was evicted');
    setPoolLimit(0);
    const w = allocate(big);
    release(w);
    t.equal(poolStats().arrays, 0, 'limit 0 turns the pool off');
    setPoolLimit(1 << 30);
    t.throws(() => setPoolLimit(-1), /setPoolLimit: expected a finite number of bytes >= 0, got -1/, 'a bad limit says so');
    clearPool();
  });

  test('pool: a disposed tensor gives its array back only when no op still reads it', async (t) => {
    await setBackend('cpu');
    clearPool();
    let resolve!: (v: Float32Array) => void;
    const gate = new Promise<Float32Array>((r) => (resolve = r));
    const x = computedOnes(big);
    await x.settled('test');
    // an op that waits for a second input, so x is pinned while it is pending
    const pending = new Tensor([big], gate);
    const y = opResult('test add', [big], [x, pending], ([a, b]) => {
      const out = allocate(big);
      for (let i = 0; i < big; i++) out[i] = a[i] + b[i];
      return out;
    });
    const before = released();
    x.dispose();
    t.equal(released(), before, 'x is disposed but still pinned by the pending op: its array is not released');
    // churn the pool: if x's array were free, this would take it and overwrite it
    const churn = allocate(big).fill(-99);
    resolve(Float32Array.from({ length: big }, () => 2));
    const values = await y.data();
    t.ok(values.every((v) => v === 3), 'the op read x\'s values, not the churn');
    t.ok(released() > before, 'once the op finished, x\'s array went back');
    release(churn);
    y.dispose();
    pending.dispose();
    clearPool();
  });

  test('pool: storage() handed out raw, an op returning its input, and assign() while pinned', async (t) => {
    await setBackend('cpu');
    clearPool();
    const escaped = computedOnes(big);
    await escaped.storage('test');
    let before = released();
    escaped.dispose();
    t.equal(released(), before, 'a tensor whose storage was handed out raw is never pooled');

    const x = computedOnes(big);
    const same = opResult('test identity', [big], [x], ([v]) => v);
    await same.settled('test');
    before = released();
    x.dispose();
    same.dispose();
    t.equal(released(), before, 'an array that two tensors hold (an op returned its input) is never pooled');

    const p = computedOnes(big);
    await p.settled('test');
    let open!: () => void;
    const hold = new Promise<void>((r) => (open = r));
    const reader = opResult('test slow read', [big], [p], async ([v]) => {
      await hold;
      const out = allocate(big);
      out.set(v);
      return out;
    });
    before = released();
    p.assign(Promise.resolve(allocate(big).fill(5)), 'test');
    await p.settled('test');
    t.equal(released(), before, 'assign() while an op reads the old values keeps them');
    open();
    t.ok((await reader.data()).every((v) => v === 1), 'the op saw the old values');
    t.ok(released() > before, 'and then the old array went back');
    t.ok((await p.data()).every((v) => v === 5), 'p holds the assigned values');
    p.dispose();
    reader.dispose();
    clearPool();
  });

  test('pool: SGD on the wasm fast path gives the same weights, bit for bit, with the pool and resident filters on and off', async (t) => {
    const mode: Mode = modes.includes('wasm') ? 'wasm' : 'cpu';
    await setBackend(mode);
    const run = async () => {
      const model = Vgg.configA({ widthMultiplier: 1 / 8, inputSize: 32, inputChannels: 1, numClasses: 10, fcWidth: 64, init: 'glorot', seed: 4 });
      const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
      const x = randn([8, 1, 32, 32], { seed: 11 });
      const labels = [0, 1, 2, 3, 4, 5, 6, 7];
      for (let step = 0; step < 4; step++) {
        await tidy(async () => {
          const loss = ops.softmaxCrossEntropy(model.forward(x), labels);
          await loss.backward();
        });
        await opt.step();
        opt.zeroGrad();
      }
      const values = await Promise.all(model.parameters().map((p) => p.data()));
      x.dispose();
      model.dispose();
      return values;
    };
    setPoolLimit(0);
    if (mode === 'wasm') await initFastPath({ residentBytes: 0 });
    const off = await run();
    setPoolLimit(1 << 30);
    if (mode === 'wasm') await initFastPath({});
    const hitsBefore = poolStats().hits;
    const on = await run();
    const on2 = await run();
    t.ok(poolStats().hits > hitsBefore, `[${mode}] the pool served ${poolStats().hits - hitsBefore} allocations`);
    const same = (a: Float32Array[], b: Float32Array[]) => a.every((v, i) => v.length === b[i].length && v.every((x, j) => Object.is(x, b[i][j])));
    t.ok(same(off, on) && same(off, on2), `[${mode}] every parameter is identical after 4 SGD steps: pool and resident filters off, then on (twice)`);
    clearPool();
  });
}
