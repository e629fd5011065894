/**
 * The user-level API (issue #15), on the wasm backend (the fast CPU path):
 *  1. model.predict: softmax of forward in eval mode, no graph, every module's mode restored
 *     (also when it throws), on a Sequential and a Vgg, from a Tensor, one image, an ndarray
 *     batch and an array of images (views included); its errors;
 *  2. train.fit's onStep / onEpochEnd: their counts and records, async ones awaited, a
 *     throwing one propagating as is; the checks of the new options;
 *  3. train.fit's AbortSignal: an abort during a step stops after that step, with the weights
 *     of a hand-written loop of exactly as many steps; an abort at an epoch's last step
 *     gives the weights of a run of whole epochs; an already-aborted signal takes no step;
 *  4. train.fit for a page: the built browser bundle (dist/web/verydeep.browser.js, no Node
 *     module in it) trains with onStep and an AbortSignal, to the Node fit's weights bit for
 *     bit, and refuses outDir and resume (a ValueError saying why).
 */
import test from 'tape';
import type { Test } from 'tape';
import ndarray from 'ndarray';
import { setBackend } from '../lib/core/backend.js';
import { Tensor, isGradEnabled, memory, noGrad, tidy } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import { Rng } from '../lib/core/random.js';
import * as nn from '../lib/nn/index.js';
import * as optim from '../lib/optim/index.js';
import * as data from '../lib/data/index.js';
import * as train from '../lib/train/index.js';
import { Vgg } from '../lib/models/vgg.js';
import { DisposedError, ShapeError, ValueError } from '../lib/core/errors.js';
import { rejectsNamed, throwsNamed } from './helpers.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------
// helpers

const K = 3; // classes of the toy task
const SIDE = 8;

/** a small net with every kind of layer fit and predict meet, dropout included (`layers`: this build's nn or the bundle's) */
function smallNet(seed = 1, layers: typeof nn = nn): nn.Sequential {
  const nn = layers;
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { init: 'glorot', seed }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(),
    new nn.Linear(4 * (SIDE / 2) ** 2, 16, { init: 'glorot', seed: seed + 1 }), new nn.ReLU(), new nn.Dropout(0.5, seed + 2),
    new nn.Linear(16, K, { init: 'glorot', seed: seed + 3 }),
  );
}

/** n images 1×8×8: class k lights row band k, plus noise (learnable in a few steps) */
function toySet(name: string, n: number, seed: number, Dataset: typeof data.ArrayDataset = data.ArrayDataset): data.ArrayDataset {
  const rng = new Rng(seed);
  const per = SIDE * SIDE;
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    for (let p = 0; p < per; p++) {
      const band = Math.floor((Math.floor(p / SIDE) * K) / SIDE);
      images[i * per + p] = (band === labels[i] ? 1 : 0) + 0.3 * (rng.uniform() - 0.5);
    }
  }
  return new Dataset(name, images, labels, [1, SIDE, SIDE], K);
}

/** a Module of this build or of the browser bundle (which has its own classes) */
interface AnyModule {
  namedParameters(): [string, { data(): Promise<Float32Array> }][];
}

async function parameterValues(m: AnyModule): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, p] of m.namedParameters()) out.set(name, await p.data());
  return out;
}

/** bit-for-bit equality of two float32 arrays */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** the names of the parameters whose values differ (bit for bit) between two models */
async function differing(a: AnyModule, b: AnyModule): Promise<string[]> {
  const [va, vb] = [await parameterValues(a), await parameterValues(b)];
  return [...va].filter(([name, v]) => !sameBits(v, vb.get(name)!)).map(([name]) => name);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** every module's training flag, depth first */
const modesOf = (m: nn.Module) => m.namedModules().map(([, x]) => x.training);

/** softmax(forward(x)) by hand, in eval mode, for comparison */
async function reference(model: nn.Module, x: Tensor): Promise<Float32Array> {
  const was = modesOf(model);
  model.eval();
  const p = await tidy(async () => noGrad(async () => ops.softmax(model.forward(x)).data()));
  model.namedModules().forEach(([, m], i) => { m.training = was[i]; });
  return p;
}

/** an image [C, H, W] whose pixels are f(c, y, x) */
function image(C: number, H: number, W: number, f: (c: number, y: number, x: number) => number): data.Image {
  const img = ndarray(new Float32Array(C * H * W), [C, H, W]) as data.Image;
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.set(c, y, x, f(c, y, x));
  return img;
}

const quiet = { interactive: false, log: () => {} };

/** fit's options for the toy task: 12 images in batches of 4 (3 steps per epoch), no weight noise from the schedule */
function toyFit(model: nn.Module, extra: Partial<train.FitOptions> = {}): train.FitOptions {
  return {
    model, trainSet: toySet('toy train', 12, 1), validationSet: toySet('toy validation', 6, 2),
    epochs: 3, batchSize: 4, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, seed: 7, ...quiet, ...extra,
  };
}

/**
 * The steps fit takes, written out as a user would: the same loader (seed, shuffle), the
 * same SGD, the loss of each batch, backward, step, zeroGrad. No validation: it draws no
 * random number and changes no weight.
 */
async function handLoop(model: nn.Module, o: train.FitOptions, steps: number): Promise<number[]> {
  const opt = new optim.SGD(model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  const loader = new data.DataLoader(o.trainSet as data.Dataset, { batchSize: o.batchSize, shuffle: true, seed: o.seed });
  const losses: number[] = [];
  model.train();
  for (let epoch = 0; losses.length < steps; epoch++) {
    for (const { x, labels } of loader.batches(epoch)) {
      // fit weights each micro-batch's loss by its share of the batch: 1 here, as fit does it
      losses.push(await tidy(async () => {
        const loss = ops.mul(ops.softmaxCrossEntropy(model.forward(x), labels), 1);
        await loss.backward();
        return loss.item();
      }));
      x.dispose();
      await opt.step();
      opt.zeroGrad();
      if (losses.length === steps) break;
    }
  }
  return losses;
}

// ---------------------------------------------------------------------------------------

export function registerApiTests(): void {
  // 1. predict ----------------------------------------------------------------------------

  test('predict: softmax(forward) in eval mode on a Sequential with dropout, rows summing to 1, no graph, modes restored', async (t: Test) => {
    await setBackend('wasm');
    const model = smallNet();
    const set = toySet('toy', 5, 3);
    const x = Tensor.from(set.images, [5, 1, SIDE, SIDE]);
    t.ok(model.training, 'a new model is in training mode');
    const before = memory().tensors;
    const p = model.predict(x);
    t.deepEqual(p.shape, [5, K], 'a Tensor [N, K]');
    t.equal(p.node, null, 'no graph (noGrad)');
    t.equal(p.requiresGrad, false, 'and no grad required');
    t.deepEqual(modesOf(model), modesOf(model).map(() => true), 'every module is back in training mode');
    t.ok(isGradEnabled(), 'grad recording is on again');
    const got = await p.data();
    p.dispose();
    t.equal(memory().tensors, before, 'predict leaves no tensor behind but its result (disposed here)');
    const want = await reference(model, x);
    t.ok(maxAbsDiff(got, want) === 0, `equals softmax(forward) in eval mode, bit for bit (max diff ${maxAbsDiff(got, want)})`);
    const rows = Array.from({ length: 5 }, (_, n) => got.subarray(n * K, (n + 1) * K).reduce((a, b) => a + b, 0));
    t.ok(rows.every((s) => Math.abs(s - 1) < 1e-6), `rows sum to 1: ${rows.map((s) => s.toFixed(7)).join(', ')}`);
    // dropout off: two calls agree, where two training-mode forwards differ
    const again = model.predict(x);
    t.ok(sameBits(await again.data(), got), 'a second predict gives the same probabilities (dropout off)');
    again.dispose();
    const [f1, f2] = [await tidy(async () => ops.softmax(model.forward(x)).data()), await tidy(async () => ops.softmax(model.forward(x)).data())];
    t.ok(!sameBits(f1, f2), 'where two training-mode forwards differ (dropout on): the test sees dropout');
    t.equal(x.isDisposed, false, 'the given Tensor is not disposed');

    // a mixed tree: each module gets its own mode back
    model.eval();
    model.layers[6].train();
    const mixed = modesOf(model);
    model.predict(x).dispose();
    t.deepEqual(modesOf(model), mixed, 'a model with one module in training mode and the rest in eval mode keeps each one\'s mode');
    model.eval();
    model.predict(x).dispose();
    t.ok(modesOf(model).every((m) => !m), 'a model in eval mode stays in eval mode');
    x.dispose();
    model.dispose();
  });

  test('predict: from images — one ndarray [C, H, W], an ndarray batch, an array of images (strided views too) — as from the Tensor', async (t: Test) => {
    await setBackend('wasm');
    const model = smallNet(4);
    const set = toySet('toy', 4, 5);
    const images = Array.from({ length: 4 }, (_, i) => set.get(i).image);
    const x = Tensor.from(set.images, [4, 1, SIDE, SIDE]);
    const want = await reference(model, x);
    const read = async (p: Tensor) => { const v = await p.data(); p.dispose(); return v; };
    const fromArray = await read(model.predict(images));
    t.ok(sameBits(fromArray, want), 'an array of 4 images [1, 8, 8] gives the Tensor\'s probabilities');
    const one = model.predict(images[2]);
    t.deepEqual(one.shape, [1, K], 'one image [C, H, W] gives [1, K]');
    const oneTensor = Tensor.from(set.images.subarray(2 * 64, 3 * 64), [1, 1, SIDE, SIDE]);
    const gotOne = await read(one);
    t.ok(sameBits(gotOne, await reference(model, oneTensor)), 'the probabilities of that image as a Tensor [1, 1, 8, 8]');
    // a batch of 1 and a batch of 4 may sum in another order (the kernels block by batch): close, not equal
    t.ok(maxAbsDiff(gotOne, want.subarray(2 * K, 3 * K)) < 1e-6, `and of that image in the batch (max diff ${maxAbsDiff(gotOne, want.subarray(2 * K, 3 * K)).toExponential(1)})`);
    oneTensor.dispose();
    const batch = ndarray(set.images, [4, 1, SIDE, SIDE]) as unknown as data.Image;
    t.ok(sameBits(await read(model.predict(batch)), want), 'an ndarray [N, C, H, W] as the Tensor');
    // views: a mirrored image and a crop of a larger one read through their strides
    const mirrored = images.map((img) => data.horizontalFlip(img));
    const flipped = Tensor.from(Float32Array.from({ length: 4 * 64 }, (_, i) => set.images[i - (i % 8) + 7 - (i % 8)]), [4, 1, SIDE, SIDE]);
    t.ok(sameBits(await read(model.predict(mirrored)), await reference(model, flipped)), 'mirrored views (negative strides) as their dense copies');
    const big = image(1, 12, 12, (_c, y, x) => (y >= 2 && y < 10 && x >= 3 && x < 11 ? set.images[(y - 2) * SIDE + (x - 3)] : 99));
    const cropped = data.crop(big, 2, 3, SIDE);
    // against the batch of 1 it is (a batch of 4 may sum in another order, see above)
    const firstTensor = Tensor.from(set.images.subarray(0, 64), [1, 1, SIDE, SIDE]);
    t.ok(sameBits(await read(model.predict([cropped])), await reference(model, firstTensor)), 'a crop view of a larger image as the image it shows');
    firstTensor.dispose();
    t.ok(model.training, 'still in training mode');
    x.dispose();
    flipped.dispose();
    model.dispose();
  });

  test('predict: on a Vgg (configuration A, width 1/16, 32×32), from a Tensor and from images, as softmax(forward) in eval mode', async (t: Test) => {
    await setBackend('wasm');
    const vgg = Vgg.configA({ widthMultiplier: 1 / 16, inputSize: 32, inputChannels: 3, numClasses: 5, fcWidth: 16, seed: 2 });
    const rng = new Rng(9);
    const images = Array.from({ length: 3 }, () => image(3, 32, 32, () => rng.uniform()));
    const x = Tensor.from(Float32Array.from(images.flatMap((img) => Array.from(img.data))), [3, 3, 32, 32]);
    const want = await reference(vgg, x);
    const p = vgg.predict(x);
    t.deepEqual(p.shape, [3, 5], 'probabilities [3, 5]');
    t.ok(sameBits(await p.data(), want), 'the Tensor gives softmax(forward) in eval mode');
    const q = vgg.predict(images);
    t.ok(sameBits(await q.data(), want), 'the array of images gives the same');
    t.ok(modesOf(vgg).every(Boolean), 'the Vgg is back in training mode');
    [p, q, x].forEach((a) => a.dispose());

    throwsNamed(t, () => vgg.predict(image(3, 64, 64, () => 0)), ShapeError, [/VGG-A.*\.predict/, /does not fit the model/, /\[N, 3, 32, 32\]/, /\[1, 3, 64, 64\]/], 'an image of another size than the Vgg takes');
    t.ok(modesOf(vgg).every(Boolean), 'the modes are restored when predict throws');
    vgg.eval();
    throwsNamed(t, () => vgg.predict([image(1, 32, 32, () => 0)]), ShapeError, [/\.predict/, /\[N, 3, 32, 32\]/, /\[1, 1, 32, 32\]/], 'a grey image for an RGB Vgg');
    t.ok(modesOf(vgg).every((m) => !m), 'an eval-mode model stays in eval mode when predict throws');
    vgg.dispose();
    throwsNamed(t, () => vgg.predict(x), DisposedError, [/\.predict/, /dispose/], 'a disposed model');
  });

  test('predict: bad inputs are ValueErrors or ShapeErrors naming predict', async (t: Test) => {
    await setBackend('wasm');
    const model = smallNet();
    const img = image(1, SIDE, SIDE, () => 0.5);
    const bad: [unknown, typeof ValueError | typeof ShapeError, RegExp[], string][] = [
      [undefined, ValueError, [/Sequential\.predict/, /expected a Tensor \[N, C, H, W\]/, /got undefined/], 'nothing'],
      [3, ValueError, [/\.predict/, /got 3/], 'a number'],
      ['cat.jpg', ValueError, [/\.predict/, /'cat\.jpg' \(a string\)/], 'a file name (decode it first)'],
      [[], ValueError, [/\.predict/, /at least one image/, /empty array/], 'an empty array'],
      [[img, 'x'], ValueError, [/\.predict/, /image 1 to be an ndarray/, /a string/], 'an array with a non-image'],
      [[[1, 2, 3]], ValueError, [/\.predict/, /image 0 to be an ndarray/, /an Array/], 'an array of number arrays'],
      [Tensor.from(new Float32Array(64), [1, 8, 8]), ShapeError, [/^Sequential\.predict: expected/, /got a Tensor \[1, 8, 8\]/, /add the batch dimension/], 'a Tensor [C, H, W]'],
      [Tensor.from(new Float32Array(64), [64]), ShapeError, [/^Sequential\.predict: expected/, /got a Tensor \[64\]/], 'a Tensor [64]'],
      [ndarray(new Float32Array(64), [8, 8]), ShapeError, [/^Sequential\.predict: expected/, /got an ndarray \[8, 8\]/], 'an ndarray [H, W]'],
      [[img, ndarray(new Float32Array(64), [8, 8])], ShapeError, [/^Sequential\.predict: expected image 1 to be an ndarray \[C, H, W\], got \[8, 8\]$/], 'an array with an image [H, W]'],
      [[img, image(1, 10, 10, () => 0)], ShapeError, [/^Sequential\.predict: expected images of one shape/, /image 0 \[1, 8, 8\] and image 1 \[1, 10, 10\]/], 'images of two sizes'],
      [[image(3, SIDE, SIDE, () => 0)], ShapeError, [/Sequential\.predict/, /does not fit the model/, /conv2d/i, /3 channels/], 'an RGB image for a grey net'],
    ];
    for (const [input, cls, patterns, what] of bad) {
      throwsNamed(t, () => model.predict(input as Tensor), cls, patterns, what);
      t.ok(modesOf(model).every(Boolean), `${what}: modes restored`);
    }
    const noClassifier = new nn.Sequential(new nn.Conv2d(1, 2, 3, { seed: 1 }));
    throwsNamed(t, () => noClassifier.predict(img), ShapeError, [/\.predict/, /logits \[N, K\]/, /got \[1, 2, 8, 8\]/], 'a model whose forward gives no logits [N, K]');
    t.ok(isGradEnabled(), 'grad recording is on again after the errors');
    model.dispose();
    noClassifier.dispose();
  });

  // 2. callbacks --------------------------------------------------------------------------

  test('fit: onStep gets every step\'s record and onEpochEnd every epoch\'s, in order, as in the result and the history; async callbacks are awaited', async (t: Test) => {
    await setBackend('wasm');
    const events: string[] = [];
    const stepRecords: train.StepRecord[] = [];
    const epochRecords: train.EpochRecord[] = [];
    let inFlight = 0, overlapped = false;
    const model = smallNet();
    const result = await train.fit(toyFit(model, {
      onStep: async (r) => {
        if (inFlight++) overlapped = true;
        events.push(`step ${r.epoch.toFixed(3)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        stepRecords.push(r);
        inFlight--;
      },
      onEpochEnd: async (r) => {
        if (inFlight++) overlapped = true;
        events.push(`epoch ${r.epoch}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        epochRecords.push({ ...r });
        inFlight--;
      },
    }));
    t.equal(stepRecords.length, 9, 'onStep: 3 epochs × 3 steps = 9 calls');
    t.equal(result.stepsRun, 9, 'stepsRun 9');
    t.deepEqual(stepRecords.map((r) => +r.epoch.toFixed(6)), [1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => +(s / 3).toFixed(6)), 'fractional epochs 1/3, 2/3, 1, ..., 3');
    t.equal(epochRecords.length, 3, 'onEpochEnd: 3 calls');
    t.deepEqual(epochRecords, result.history, 'onEpochEnd\'s records are the history\'s entries');
    t.deepEqual(events.filter((e) => e.startsWith('epoch')), ['epoch 1', 'epoch 2', 'epoch 3'], 'epochs 1, 2, 3');
    t.deepEqual(events.map((e) => e.split(' ')[0]), ['step', 'step', 'step', 'epoch', 'step', 'step', 'step', 'epoch', 'step', 'step', 'step', 'epoch'], 'each epoch\'s end after its three steps');
    t.notOk(overlapped, 'each callback finished (awaited) before fit went on');
    t.equal(result.aborted, false, 'aborted: false');
    t.equal(result.epochsRun, 3, 'epochsRun 3');
    const first = result.history[0].trainLoss, last = result.history[2].trainLoss;
    t.ok(last < first, `the toy task learns: train loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
    // the step losses: those of the same steps written by hand
    const byHand = smallNet();
    const losses = await handLoop(byHand, toyFit(byHand), 9);
    t.ok(maxAbsDiff(stepRecords.map((r) => r.loss), losses) === 0, `onStep's losses are those of the steps: ${stepRecords.map((r) => r.loss.toFixed(4)).join(', ')}`);
    t.deepEqual(await differing(model, byHand), [], 'fit\'s 9 steps and 9 hand-written steps give the same weights, bit for bit');
    model.dispose();
    byHand.dispose();
  });

  test('fit: a throwing callback stops fit with its own error, as thrown', async (t: Test) => {
    await setBackend('wasm');
    class Mine extends Error {}
    let steps = 0;
    const m2 = smallNet();
    try {
      await train.fit(toyFit(m2, { onStep: () => { if (++steps === 2) throw new Mine('the user\'s own'); } }));
      t.fail('a throwing onStep must stop fit');
    } catch (e) {
      t.ok(e instanceof Mine && (e as Error).message === 'the user\'s own', `onStep's error propagates as is: ${(e as Error).message}`);
    }
    t.equal(steps, 2, 'no step after the one whose callback threw');
    let ends = 0;
    await rejectsNamed(t, () => train.fit(toyFit(m2, { onEpochEnd: async () => { ends++; await Promise.resolve(); throw new ValueError('mine: a rejection'); } })), ValueError, [/^mine: a rejection$/], 'an async onEpochEnd that rejects: its error, as is');
    t.equal(ends, 1, 'fit stopped at the first epoch\'s end');
    m2.dispose();
  });

  test('fit: onStep, onEpochEnd and signal of the wrong kind are ValueErrors naming fit and the option', async (t: Test) => {
    await setBackend('wasm');
    const model = smallNet();
    const cases: [Partial<train.FitOptions>, RegExp[], string][] = [
      [{ onStep: 'plot' as never }, [/train\.fit/, /onStep to be a function/, /'plot' \(a string\)/], 'onStep a string'],
      [{ onEpochEnd: {} as never }, [/train\.fit/, /onEpochEnd to be a function/, /an Object/], 'onEpochEnd an object'],
      [{ signal: new AbortController() as never }, [/train\.fit/, /signal to be an AbortSignal/, /an AbortController/], 'the controller instead of its signal'],
      [{ signal: true as never }, [/train\.fit/, /signal to be an AbortSignal/, /true/], 'signal true'],
      [{ log: 1 as never }, [/train\.fit/, /log to be a function/, /got 1/], 'log a number'],
    ];
    let steps = 0;
    for (const [extra, patterns, what] of cases) {
      await rejectsNamed(t, () => train.fit(toyFit(model, { ...extra, onStep: extra.onStep ?? (() => { steps++; }) })), ValueError, patterns, what);
    }
    t.equal(steps, 0, 'no step was taken');
    model.dispose();
  });

  // 3. AbortSignal ------------------------------------------------------------------------

  test('fit: an abort during a step stops after that step (aborted: true), with the weights of exactly that many steps', async (t: Test) => {
    await setBackend('wasm');
    // aborted from the transform of step 5's batch: during step 5, before its forward and update
    const controller = new AbortController();
    let images = 0;
    const model = smallNet();
    const stepsSeen: train.StepRecord[] = [];
    const ends: number[] = [];
    const result = await train.fit(toyFit(model, {
      signal: controller.signal,
      trainTransform: (img) => { if (++images === 4 * 4 + 1) controller.abort(); return img; },
      onStep: (r) => { stepsSeen.push(r); },
      onEpochEnd: (r) => { ends.push(r.epoch); },
    }));
    t.equal(result.aborted, true, 'aborted: true');
    t.equal(result.stepsRun, 5, 'step 5 (under way at the abort) was finished, and no other taken');
    t.equal(stepsSeen.length, 5, 'onStep was called for it');
    t.equal(result.epochsRun, 1, 'one whole epoch');
    t.deepEqual(ends, [1], 'onEpochEnd for epoch 1 only');
    t.equal(result.history.length, 1, 'the history so far: epoch 1');
    const byHand = smallNet();
    await handLoop(byHand, toyFit(byHand), 5);
    t.deepEqual(await differing(model, byHand), [], 'the weights are those of 5 hand-written steps, bit for bit');
    const now = await train.evaluate(model, toySet('toy validation', 6, 2));
    t.deepEqual(result.final, now, 'final: the validation metrics of the weights it left (measured after the abort)');
    t.ok(model.training, 'the model is left in training mode, as fit leaves it');
    model.dispose();
    byHand.dispose();
  });

  test('fit: an abort at an epoch\'s last step gives the weights of a run of whole epochs; an abort in onEpochEnd stops before the next epoch', async (t: Test) => {
    await setBackend('wasm');
    const c1 = new AbortController();
    const aborted = smallNet();
    const r1 = await train.fit(toyFit(aborted, { signal: c1.signal, onStep: (r) => { if (Math.abs(r.epoch - 2) < 1e-9) c1.abort(); } }));
    const whole = smallNet();
    const r2 = await train.fit(toyFit(whole, { epochs: 2 }));
    t.ok(r1.aborted && r1.stepsRun === 6 && r1.epochsRun === 1, `aborted after step 6 of 9: aborted ${r1.aborted}, ${r1.stepsRun} steps, ${r1.epochsRun} whole epoch (epoch 2 not validated)`);
    t.deepEqual(await differing(aborted, whole), [], 'the same weights as a 2-epoch run, bit for bit');
    t.deepEqual(r1.final, r2.final, 'and the same final metrics (one validation pass after the abort)');
    aborted.dispose();
    whole.dispose();

    const c2 = new AbortController();
    let steps = 0;
    const m = smallNet();
    const r3 = await train.fit(toyFit(m, { signal: c2.signal, onStep: () => { steps++; }, onEpochEnd: () => c2.abort() }));
    t.ok(r3.aborted && r3.epochsRun === 1 && steps === 3 && r3.history.length === 1, `aborted in epoch 1's onEpochEnd: ${steps} steps, ${r3.epochsRun} epoch`);
    t.deepEqual(r3.final, { top1: r3.history[0].top1, top5: r3.history[0].top5, loss: r3.history[0].validationLoss }, 'final: epoch 1\'s validation (the weights it measured)');
    m.dispose();
  });

  test('fit: lets the event loop run between steps, so a timer (a Stop button, Ctrl-C) can abort it', async (t: Test) => {
    await setBackend('wasm');
    // the CPU modes' steps await only promises that are already resolved: without a yield
    // between steps, this timer would fire after fit returned, 9 steps later
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 0);
    const model = smallNet();
    const r = await train.fit(toyFit(model, { signal: controller.signal }));
    t.ok(r.aborted && r.stepsRun >= 1 && r.stepsRun <= 2, `a setTimeout(abort, 0) stops fit after step 1 or 2 of 9: aborted ${r.aborted} after ${r.stepsRun} steps`);
    model.dispose();
  });

  test('fit: an already-aborted signal returns at once, without a step', async (t: Test) => {
    await setBackend('wasm');
    const model = smallNet();
    const initial = smallNet();
    let steps = 0, ends = 0, batches = 0;
    const r = await train.fit(toyFit(model, {
      signal: AbortSignal.abort(),
      onStep: () => { steps++; }, onEpochEnd: () => { ends++; },
      trainTransform: (img) => { batches++; return img; },
    }));
    t.ok(r.aborted, 'aborted: true');
    t.deepEqual([r.stepsRun, r.epochsRun, r.history.length, steps, ends, batches], [0, 0, 0, 0, 0, 0], 'no step, no epoch, no callback, no training image read');
    t.deepEqual(await differing(model, initial), [], 'the weights are untouched');
    const metrics = await train.evaluate(initial, toySet('toy validation', 6, 2));
    t.deepEqual(r.final, metrics, 'final: the validation metrics of the untouched weights');
    model.dispose();
    initial.dispose();
  });

  // 4. fit in a page -----------------------------------------------------------------------

  test('fit in a page: the browser bundle\'s train.fit runs with onStep and an AbortSignal (abort at step 3: 3 steps, the Node fit\'s weights), and refuses outDir and resume', async (t: Test) => {
    const bundle = fileURLToPath(new URL('../web/verydeep.browser.js', import.meta.url));
    if (!existsSync(bundle)) {
      t.fail(`${bundle} is missing: npm run build makes it (tsc alone does not)`);
      return;
    }
    // the bundle has its own copy of every class and of the backend's state: its nets, its datasets
    const web = await import(bundle);
    t.deepEqual(Object.keys(web.train).sort(), ['curvesSvg', 'evaluate', 'fit', 'topK'], 'the page\'s train namespace: fit, evaluate, topK, curvesSvg');
    // gpu.js's JavaScript mode, which a page has too (the 'wasm' fast path is Node's)
    await web.setBackend('cpu');
    const model = smallNet(1, web.nn);
    const controller = new AbortController();
    const records: train.StepRecord[] = [];
    const lines: string[] = [];
    const options = (m: unknown, Dataset = web.ArrayDataset) => ({
      model: m, trainSet: toySet('toy train', 12, 1, Dataset), validationSet: toySet('toy validation', 6, 2, Dataset),
      epochs: 3, batchSize: 4, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, seed: 7, log: (l: string) => lines.push(l),
    });
    const r = await web.train.fit({ ...options(model), signal: controller.signal, onStep: (rec: train.StepRecord) => { if (records.push(rec) === 3) controller.abort(); } });
    t.ok(r.aborted && r.stepsRun === 3 && r.epochsRun === 0 && r.history.length === 0, `aborted after step 3: aborted ${r.aborted}, ${r.stepsRun} steps, ${r.epochsRun} epochs`);
    t.deepEqual(r.stoppedAt, { epoch: 1, step: 3, of: 3 }, 'stoppedAt: step 3 of 3 of epoch 1');
    t.deepEqual(records.map((x) => x.epoch), [1 / 3, 2 / 3, 1], 'onStep got steps 1 to 3');
    t.ok(lines.some((l) => /^epoch 1\/3 step 3\/3 loss /.test(l)) && lines.some((l) => /^stopped by the signal after step 3 of 3 of epoch 1$/.test(l)), `progress as plain lines: ${lines.join(' | ')}`);
    // the same 3 steps by this build's fit, on the same mode: one loop, so the same bits
    await setBackend('cpu');
    const node = smallNet(1);
    await train.fit({ ...(options(node, data.ArrayDataset) as train.FitOptions), epochs: 1, ...quiet });
    t.deepEqual(await differing(model, node), [], 'the weights of the Node fit\'s 3 steps, bit for bit');
    for (const [extra, what] of [[{ outDir: 'runs/x' }, 'outDir'], [{ resume: true }, 'resume']] as const) {
      await rejectsNamed(t, () => web.train.fit({ ...options(model), ...extra }), web.ValueError, [/train\.fit/, new RegExp(`no ${what} in a browser`), /no folder for checkpoints/, /onStep and onEpochEnd/], `${what} in a page`);
    }
    node.dispose();
    model.dispose();
    await setBackend('wasm');
  });
}
