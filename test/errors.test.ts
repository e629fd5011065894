/**
 * Tests: the tensor core's wrong uses and safety nets (issue 12): named errors, a loss
 * returned from tidy() keeps its graph for backward(), a disposed graph tensor is either
 * backpropagated through or named, gradients go with their tensors, checkNumerics, and
 * sizes too large to allocate. Each test here failed before its fix.
 */
import test from 'tape';
import type { Mode } from '../lib/core/backend.js';
import {
  Tensor, zeros, ones, randn, tidy, keep, memory, setBackend, ops, optim, Vgg, checkNumerics,
  VerydeepError, ShapeError, ValueError, DisposedError, NumericsError,
} from '../lib/index.js';
import { throwsNamed, rejectsNamed } from './helpers.js';

const TINY = { widthMultiplier: 1 / 16, inputSize: 32, inputChannels: 1, numClasses: 10, fcWidth: 16, init: 'glorot' as const, seed: 3 };

export function registerErrorTests(modes: Mode[]): void {
  test('errors: every class is a VerydeepError and an Error, with its own name', (t) => {
    for (const cls of [ShapeError, ValueError, DisposedError, NumericsError]) {
      const e = new cls('f: expected a, got b');
      t.ok(e instanceof VerydeepError && e instanceof Error && e.name === cls.name, `${cls.name}: name '${e.name}', a VerydeepError`);
    }
    t.end();
  });

  test("autograd: a loss returned from tidy() keeps its graph for backward(): every parameter gets a gradient, and the graph is freed after", async (t) => {
    await setBackend('cpu');
    const model = Vgg.configA(TINY);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = randn([4, 1, 32, 32], { seed: 2 });
    const labels = [1, 2, 3, 4];
    const before = memory();
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = tidy(() => ops.mul(ops.softmaxCrossEntropy(model.forward(x), labels), 0.5));
      await loss.backward();
      if (step === 0) {
        const params = model.parameters();
        const withGrad = params.filter((p) => p.grad !== null).length;
        t.equal(withGrad, params.length, `${withGrad} of ${params.length} parameters got a gradient`);
        const gradBytes = params.reduce((s, p) => s + 4 * p.size, 0);
        t.deepEqual(memory(), { tensors: before.tensors + params.length + 1, bytes: before.bytes + gradBytes + 4 },
          'after backward, only the loss and the gradients are live (the held graph was freed)');
      }
      await opt.step();
      opt.zeroGrad();
      losses.push(await loss.item());
      loss.dispose();
    }
    t.ok(losses[4] < losses[0], `the loss moves: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
    const params = model.parameters();
    const velocities = { tensors: params.length, bytes: params.reduce((s, p) => s + 4 * p.size, 0) };
    t.deepEqual(memory(), { tensors: before.tensors + velocities.tensors, bytes: before.bytes + velocities.bytes }, 'memory() where it started, plus SGD\'s velocities');
    const base = memory();
    // a loss from tidy() that is disposed without a backward frees its graph too
    const unused = tidy(() => ops.softmaxCrossEntropy(model.forward(x), labels));
    t.ok(memory().tensors > base.tensors + 1, 'an unused loss holds its graph');
    unused.dispose();
    t.deepEqual(memory(), base, 'and frees it when disposed');
    // the held graph serves one backward, as PyTorch's retain_graph=False
    const once = tidy(() => ops.softmaxCrossEntropy(model.forward(x), labels));
    await once.backward();
    await rejectsNamed(t, () => once.backward(), DisposedError, [/Tensor\.backward/, /freed by its first backward/], 'a second backward of a loss from tidy()');
    once.dispose();
    // two returned tensors that share their graph each hold it: either backward works, in either order
    const [l1, l2] = tidy(() => {
      const logits = model.forward(x);
      return [ops.softmaxCrossEntropy(logits, labels), ops.sum(logits)];
    });
    await l1.backward();
    await l2.backward();
    t.ok(model.parameters().every((p) => p.grad !== null), 'two losses from one tidy() that share a graph both backpropagate');
    l1.dispose(); l2.dispose();
    opt.zeroGrad();
    // tfjs's other idiom: keep() inside the tidy
    let kept: Tensor | undefined;
    tidy(() => {
      kept = keep(ops.softmaxCrossEntropy(model.forward(x), labels));
    });
    await kept!.backward();
    t.ok(model.parameters().every((p) => p.grad !== null), 'a loss kept with keep() inside tidy() backpropagates to every parameter');
    kept!.dispose();
    opt.zeroGrad();
    x.dispose();
    model.dispose();
  });

  test('autograd: backward() goes through a disposed intermediate whose values it does not need, and names the op and shape where it does', async (t) => {
    await setBackend('cpu');
    const make = () => ({
      x: randn([1, 2, 5, 5], { seed: 1 }),
      w: randn([3, 2, 3, 3], { seed: 2, requiresGrad: true }),
    });
    const reference = make();
    const refLoss = ops.sum(ops.relu(ops.conv2d(reference.x, reference.w)));
    await refLoss.backward();
    const expected = await reference.w.grad!.data();

    const a = make();
    const y = ops.relu(ops.conv2d(a.x, a.w));
    const loss = ops.sum(y);
    y.dispose();
    await loss.backward();
    t.ok(a.w.grad !== null, 'w.grad is set although y was disposed');
    t.deepEqual(Array.from(await a.w.grad!.data()), Array.from(expected), 'and equals the gradient with y alive');

    const b = make();
    const c = ops.conv2d(b.x, b.w);
    const loss2 = ops.sum(ops.relu(c));
    c.dispose(); // relu's backward needs c's values
    await rejectsNamed(t, () => loss2.backward(), DisposedError, [/relu \(backward\)/, /\[1, 3, 5, 5\]/, /disposed/], 'backward needs a tensor disposed by hand');
    t.equal(b.w.grad, null, 'no gradient was written');
    for (const s of [reference, a, b]) { s.x.dispose(); s.w.grad?.dispose(); s.w.dispose(); }
    refLoss.dispose(); loss.dispose(); loss2.dispose();
  });

  test('memory: disposing a tensor disposes its gradient; 1,000 tidy() iterations of input gradients leave memory() flat on every mode', async (t) => {
    for (const mode of modes) {
      await setBackend(mode);
      const iteration = () => tidy(async () => {
        const x = Tensor.from(Float32Array.from({ length: 2 * 6 * 6 }, (_, i) => Math.sin(i)), [1, 2, 6, 6], { requiresGrad: true });
        const w = randn([3, 2, 3, 3], { seed: 4, requiresGrad: true });
        const loss = ops.sum(ops.relu(ops.conv2d(x, w)));
        await loss.backward();
      });
      await iteration(); // warm-up: kernels compile
      const before = memory();
      for (let i = 0; i < 1000; i++) await iteration();
      const after = memory();
      t.deepEqual(after, before, `[${mode}] 1,000 iterations: ${after.tensors - before.tensors} tensors and ${after.bytes - before.bytes} bytes more (before: ${before.tensors} tensors, ${before.bytes} bytes)`);
    }
    await setBackend('cpu');
    // a gradient returned from tidy() outlives the tensor it belongs to
    const g = await tidy(async () => {
      const x = Tensor.from([1, 2, 3], [3], { requiresGrad: true });
      await ops.sum(ops.mul(x, x)).backward();
      return x.grad!;
    });
    t.deepEqual(Array.from(await g.data()), [2, 4, 6], 'a returned x.grad survives the tidy (d/dx Σx² = 2x)');
    g.dispose();
  });

  test('checkNumerics: every op output checked for NaN/Inf, naming the op and the first bad index; off by default', async (t) => {
    await setBackend('cpu');
    const a = Tensor.from([1, 1e30, 3], [3]);
    const b = Tensor.from([2, 1e30, 4], [3]);
    t.notOk(checkNumerics(), 'off by default');
    const unchecked = ops.mul(a, b);
    t.deepEqual(Array.from(await unchecked.data()), [2, Infinity, 12], 'off: Inf passes through');
    checkNumerics(true);
    try {
      await rejectsNamed(t, () => ops.mul(a, b).data(), NumericsError, [/^mul:/, /Infinity at index 1/, /\[1\] of shape \[3\]/], 'an op whose output overflows');
      throwsNamed(t, () => Tensor.from([0, NaN]), NumericsError, [/Tensor\.from/, /NaN at index 1/], 'Tensor.from with NaN while checking');
      const w = Tensor.from([1, 2], [2], { requiresGrad: true });
      const big = ops.sum(ops.mul(ops.mul(w, 1e20), ops.mul(w, 1e20)));
      await rejectsNamed(t, () => big.data(), NumericsError, [/^mul:/, /Infinity at index 0/], 'the first op that overflows is named, not a later one');
      w.dispose(); big.dispose();
    } finally {
      checkNumerics(false);
    }
    a.dispose(); b.dispose(); unchecked.dispose();
  });

  test('Tensor.from refuses non-numbers; backward refuses a gradOutput of another shape; sizes too large to allocate are ValueErrors', async (t) => {
    await setBackend('cpu');
    throwsNamed(t, () => Tensor.from(['a', 'b'] as unknown as number[]), ValueError, [/Tensor\.from/, /expected numbers/, /'a' \(a string\) at index 0/], "Tensor.from(['a', 'b'])");
    throwsNamed(t, () => Tensor.from([1, '2'] as unknown as number[]), ValueError, [/Tensor\.from/, /'2' \(a string\) at index 1/], "Tensor.from([1, '2'])");
    throwsNamed(t, () => Tensor.from([1, null] as unknown as number[]), ValueError, [/Tensor\.from/, /null at index 1/], 'Tensor.from([1, null])');
    throwsNamed(t, () => Tensor.from(null as unknown as number[]), ValueError, [/Tensor\.from/, /expected an array/, /null/], 'Tensor.from(null)');
    throwsNamed(t, () => Tensor.from(7 as unknown as number[]), ValueError, [/Tensor\.from/, /expected an array/], 'Tensor.from(7)');
    throwsNamed(t, () => Tensor.from([1, 2, 3], [2, 2]), ShapeError, [/Tensor\.from/, /\[2, 2\]/], 'Tensor.from with the wrong count');
    const x = Tensor.from([1, 2, 3], [3], { requiresGrad: true });
    const y = ops.mul(x, 2);
    await rejectsNamed(t, () => y.backward(Tensor.from([1, 1, 1], [3, 1])), ShapeError, [/Tensor\.backward/, /gradOutput of shape \[3\]/, /got \[3, 1\]/], 'a [3, 1] gradient for a [3] tensor');
    await rejectsNamed(t, () => y.backward([1, 1, 1] as unknown as Tensor), ValueError, [/Tensor\.backward/, /gradOutput to be a Tensor/], 'a plain array as gradOutput');
    t.equal(x.grad, null, 'no gradient was written');
    await y.backward(Tensor.from([1, 1, 1], [3]));
    t.deepEqual(Array.from(await x.grad!.data()), [2, 2, 2], 'the right shape works');
    for (const [name, f] of [['zeros', () => zeros([1e6, 1e6])], ['ones', () => ones([1e6, 1e6])], ['randn', () => randn([1e6, 1e6])]] as const) {
      throwsNamed(t, f, ValueError, [new RegExp(`^${name}: cannot allocate shape \\[1000000, 1000000\\]`), /1\.000e\+12 float32 values/, /4\.0 TB/], `${name}([1e6, 1e6])`);
    }
    throwsNamed(t, () => zeros([2, -1]), ShapeError, [/zeros/, /non-negative integers/], 'zeros([2, -1])');
    throwsNamed(t, () => randn([2], { seed: 1.5 }), ValueError, [/randn/, /integer seed/], 'randn with seed 1.5');
    x.dispose();
    await rejectsNamed(t, () => x.data(), DisposedError, [/Tensor\.data/, /\[3\]/, /disposed/], 'reading a disposed tensor');
    throwsNamed(t, () => ops.relu(x), DisposedError, [/relu/, /\[3\]/, /disposed/], 'an op on a disposed tensor');
    throwsNamed(t, () => ops.add(Tensor.from([1, 2]), Tensor.from([1, 2, 3])), ShapeError, [/add/, /same shape/, /\[2\] and \[3\]/], 'add of two shapes');
    throwsNamed(t, () => ops.conv2d(zeros([1, 3, 4, 4]), zeros([2, 1, 3, 3])), ShapeError, [/conv2d/, /3 channels/, /expects 1/], 'conv2d channel mismatch');
    throwsNamed(t, () => ops.softmaxCrossEntropy(zeros([2, 3]), [0, 3]), ValueError, [/softmaxCrossEntropy/, /\[0, 2\]/, /got 3 at index 1/], 'a label out of range');
    throwsNamed(t, () => ops.dropout(zeros([2]), 1, 1), ValueError, [/dropout/, /\[0, 1\)/, /got 1/], 'dropout p = 1');
    throwsNamed(t, () => ops.reshape(zeros([6]), [4, -1]), ShapeError, [/reshape/, /6 elements/, /\[4, -1\]/], 'reshape 6 into [4, -1]');
    throwsNamed(t, () => ops.mul(zeros([2]), NaN), ValueError, [/mul/, /finite scalar/, /NaN/], 'mul by NaN');
    y.dispose();
  });
}
