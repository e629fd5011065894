/**
 * Tests: ONNX export and import (lib/io/onnx-*.ts), checked by onnxruntime-node (ORT).
 *
 *  1. ORT runs the export of every configuration (A, A-LRN, B, C, D, E at width ×1/16,
 *     input 32, FC 64, 10 classes) and of VGG-D at full width (224, FC 4096, 1000 classes),
 *     and its logits agree with ours: max|ORT − ours| / max|ours| < 1e-4 (float32 sums of up
 *     to 25,088 terms in another order), at batch 1 and 4 on a dynamic-batch model, at 4 on
 *     a fixed-batch-4 model, and the probabilities of `softmax: true`. Glorot init, so that
 *     deep logits are not ~0 (the paper's std 0.01 vanishes through 16 layers);
 *  2. round trips: encodeOnnx → loadOnnx gives the Vgg of the same configuration and
 *     options, every weight bit for bit and the same logits; without the 'vgg' metadata the
 *     configuration is read off the shapes; a Sequential; a softmax export gives
 *     Sequential(vgg, Softmax); metadata (preprocessing, classes, vgg, the caller's);
 *  3. graphs written otherwise (Reshape, MatMul + Add, Identity, AveragePool 1×1, Constant)
 *     import to the same function as ORT computes;
 *  4. errors: an unsupported layer on export (ValueError listing all), a graph with an
 *     unsupported op, a bad attribute and a non-float weight (one WeightsError listing all),
 *     a graph that is not a chain, damaged bytes (a WeightsError naming the source);
 *  5. the CLI: `verydeep export --format onnx`, its wrong flags (one line, exit 2), and a
 *     successful export that ORT runs.
 * Each ORT agreement goes to interopFigures (printed at the end of the run).
 */
import test from 'tape';
import * as ort from 'onnxruntime-node';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../lib/core/backend.js';
import { Tensor, randn, type Shape } from '../lib/core/tensor.js';
import * as io from '../lib/io/index.js';
import { onnx, type NodeProto } from '../lib/io/onnx-proto.js';
import { Module } from '../lib/nn/module.js';
import { Conv2d, Dropout, Flatten, LocalResponseNorm, Linear, MaxPool2d, ReLU, Sequential, Softmax } from '../lib/nn/layers.js';
import { Vgg, VGG_CONFIGS, type ConfigName, type VggOptions } from '../lib/models/vgg.js';
import { CAFFE_VGG_PREPROCESSING } from '../lib/data/preprocess.js';
import { ValueError, WeightsError } from '../lib/core/errors.js';
import { rejectsNamed } from './helpers.js';
import { interopFigures, relMaxError } from './interop-helpers.js';

const TOL = 1e-4;
const SMALL: VggOptions = { widthMultiplier: 1 / 16, inputSize: 32, fcWidth: 64, numClasses: 10, init: 'glorot', seed: 7 };
const CLI = fileURLToPath(new URL('../../bin/verydeep.js', import.meta.url));
const exp = (e: number) => e.toExponential(1);

/** ORT's output for `x` [N, C, H, W] */
async function runOrt(session: ort.InferenceSession, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const out = await session.run({ input: new ort.Tensor('float32', x, shape) });
  return out[session.outputNames[0]].data as Float32Array;
}

/** our output for the same input */
async function runOurs(model: Module, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const input = Tensor.from(x, shape);
  const y = model.forward(input);
  const values = await y.data();
  input.dispose();
  y.dispose();
  return values;
}

const inputOf = async (shape: Shape, seed: number) => {
  const t = randn(shape, { seed });
  const v = await t.data();
  t.dispose();
  return v;
};

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** every parameter of `a` and `b` has the same name and the same bits */
async function sameWeights(a: Module, b: Module): Promise<boolean> {
  const pa = a.namedParameters(), pb = b.namedParameters();
  if (pa.length !== pb.length) return false;
  for (let i = 0; i < pa.length; i++) {
    if (pa[i][0] !== pb[i][0] || !sameBits(await pa[i][1].data(), await pb[i][1].data())) return false;
  }
  return true;
}

/** a decoded model, loosely typed for editing (the generated types make every field optional) */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Editable = any;

/** the bytes decoded, changed by `edit`, encoded again */
function rewrite(bytes: Uint8Array, edit: (m: Editable) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

/**
 * ORT against verydeep for one model: a dynamic-batch export at batch 1 and 4, a batch-4
 * export at 4, and (unless `softmax` is false) the softmax export's probabilities.
 * Returns the figures line.
 */
async function agreement(t: test.Test, model: Vgg, label: string, softmax = true): Promise<string> {
  const { inputChannels: C, inputSize: S } = model.options;
  const parts: string[] = [];
  const check = async (what: string, options: io.OnnxExportOptions, batches: number[], ours: Module) => {
    const session = await ort.InferenceSession.create(await io.encodeOnnx(model, options));
    for (const n of batches) {
      const shape = [n, C, S, S];
      const x = await inputOf(shape, 100 + n);
      const err = relMaxError(await runOrt(session, x, shape), await runOurs(ours, x, shape));
      t.ok(err < TOL, `${label}, ${what}, batch ${n}: ORT vs verydeep rel max err ${exp(err)} < ${TOL}`);
      parts.push(`${what} batch ${n} ${exp(err)}`);
    }
    await session.release();
  };
  await check('dynamic', {}, [1, 4], model);
  await check('fixed', { batch: 4 }, [4], model);
  if (softmax) await check('softmax', { softmax: true }, [4], new Sequential(model, new Softmax()));
  return `onnx export ${label}: ORT vs verydeep rel max err: ${parts.join(', ')}`;
}

export function registerOnnxTests(): void {
  test('onnx: ORT runs the export of every configuration at width ×1/16, and agrees with verydeep', async (t) => {
    await setBackend('wasm');
    for (const config of Object.keys(VGG_CONFIGS) as ConfigName[]) {
      const model = new Vgg(config, SMALL).eval();
      interopFigures.push(await agreement(t, model, `VGG-${config} ×1/16 (32², FC 64, 10 classes)`));
      model.dispose();
    }
  });

  test('onnx: ORT runs the export of VGG-D at full width (224², FC 4096, 1000 classes), and agrees with verydeep', async (t) => {
    await setBackend('wasm');
    const started = Date.now();
    const model = new Vgg('D', { init: 'glorot', seed: 3 }).eval();
    interopFigures.push(`${await agreement(t, model, 'VGG-D full width', false)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    model.dispose();
  });

  test('onnx: round trip encodeOnnx → loadOnnx, with and without the vgg metadata', async (t) => {
    await setBackend('wasm');
    for (const config of ['A', 'A-LRN', 'C'] as ConfigName[]) {
      const model = new Vgg(config, { ...SMALL, dropout: 0.3, seed: 11 }).eval();
      const bytes = await io.encodeOnnx(model);
      const back = await io.loadOnnx(bytes);
      t.ok(back instanceof Vgg && back.config === config, `VGG-${config}: loadOnnx gives a Vgg of configuration ${config} (${back.describe()})`);
      t.deepEqual((back as Vgg).options, model.options, `VGG-${config}: the same options, from the 'vgg' metadata`);
      t.ok(await sameWeights(back, model), `VGG-${config}: every weight bit for bit`);
      t.ok(!back.training, `VGG-${config}: in eval mode`);
      const x = await inputOf([2, 3, 32, 32], 5);
      t.ok(sameBits(await runOurs(back, x, [2, 3, 32, 32]), await runOurs(model, x, [2, 3, 32, 32])), `VGG-${config}: the same logits, bit for bit`);

      // without metadata: the configuration and options from the shapes
      const bare = await io.loadOnnx(rewrite(bytes, (m) => { m.metadataProps = []; }));
      const o = bare instanceof Vgg ? bare.options : undefined;
      t.ok(bare instanceof Vgg && bare.config === config && o!.widthMultiplier === 1 / 16 && o!.inputSize === 32 && o!.fcWidth === 64 && o!.numClasses === 10 && o!.inputChannels === 3,
        `VGG-${config} without metadata: ${bare.describe()} ${JSON.stringify(o)}`);
      t.ok(await sameWeights(bare, model), `VGG-${config} without metadata: every weight bit for bit`);
      for (const m of [model, back, bare]) m.dispose();
    }
  });

  test('onnx: a softmax export imports as Sequential(vgg, Softmax); a Sequential round-trips', async (t) => {
    await setBackend('wasm');
    const model = new Vgg('B', SMALL).eval();
    const back = await io.loadOnnx(await io.encodeOnnx(model, { softmax: true }));
    t.ok(back instanceof Sequential && back.layers.length === 2 && back.layers[0] instanceof Vgg && back.layers[1] instanceof Softmax, `softmax export: ${back.summary(null).split('\n')[0]}: Sequential(vgg, Softmax)`);
    const inner = (back as Sequential).layers[0] as Vgg;
    t.deepEqual(inner.options, model.options, 'the Vgg inside has the same options');
    const x = await inputOf([3, 3, 32, 32], 9);
    const p = await runOurs(back, x, [3, 3, 32, 32]);
    t.ok(sameBits(p, await runOurs(new Sequential(model, new Softmax()), x, [3, 3, 32, 32])), 'the same probabilities, bit for bit');
    // and exported again, it is the same graph
    const again = await io.loadOnnx(await io.encodeOnnx(back));
    t.ok(again instanceof Sequential && again.layers[0] instanceof Vgg && await sameWeights(again, back), 'Sequential(vgg, Softmax) exports and imports as itself');
    for (const m of [model, back, again]) m.dispose();

    const seq = new Sequential(
      new Conv2d(3, 4, 3), new ReLU(), new LocalResponseNorm({ size: 3, alpha: 1e-3, beta: 0.75, k: 1, alphaMode: 'mean' }), new MaxPool2d(),
      new Sequential(new Conv2d(4, 6, 1), new ReLU(), new LocalResponseNorm({ size: 5, alpha: 2e-4, beta: 0.6, k: 1.5, alphaMode: 'sum' })), new MaxPool2d(),
      new Flatten(), new Linear(6 * 4 * 4, 12), new ReLU(), new Dropout(0.3), new Linear(12, 5)).eval();
    const bytes = await io.encodeOnnx(seq, { inputSize: 17 }); // odd sides: floor-mode pools 17 → 8 → 4
    const imported = await io.loadOnnx(bytes);
    const kinds = (m: Module) => m.namedModules().filter(([, l]) => !l.namedChildren().length).map(([, l]) => l.constructor.name).join(' ');
    t.equal(kinds(imported), kinds(seq).replace(' Dropout', ''), `Sequential: the same layers but the Dropout, which an inference graph leaves out (${kinds(imported)})`);
    const pa = seq.parameters(), pb = imported.parameters();
    let bits = pa.length === pb.length;
    for (let i = 0; bits && i < pa.length; i++) bits = sameBits(await pa[i].data(), await pb[i].data());
    t.ok(bits, 'Sequential: every weight bit for bit (in order; the import is flat where the export had a nested Sequential)');
    const shape = [4, 3, 17, 17];
    const xs = await inputOf(shape, 13);
    const ours = await runOurs(seq, xs, shape);
    // not bit for bit: ONNX holds an LRN's α as float32 α·n (here 'sum'), read back as 'mean' α·n / n
    const roundTrip = relMaxError(await runOurs(imported, xs, shape), ours);
    t.ok(roundTrip < 1e-6, `Sequential: the same outputs (rel max err ${exp(roundTrip)} < 1e-6; the LRNs' α are float32 in ONNX)`);
    const session = await ort.InferenceSession.create(bytes);
    const err = relMaxError(await runOrt(session, xs, shape), ours);
    t.ok(err < TOL, `Sequential with LRNs ('mean' and 'sum') and odd-sided pools: ORT vs verydeep rel max err ${exp(err)}`);
    interopFigures.push(`onnx export Sequential (LRN 'mean' and 'sum', 17² input, floor-mode pools): ORT vs verydeep rel max err ${exp(err)}`);
    await session.release();
    seq.dispose();
    imported.dispose();
  });

  test('onnx: metadata round trip (preprocessing, classes, vgg, the caller\'s)', async (t) => {
    const model = new Vgg('A', SMALL);
    const classes = Array.from({ length: 10 }, (_, i) => `digit ${i}`);
    const bytes = await io.encodeOnnx(model, { preprocessing: CAFFE_VGG_PREPROCESSING, classes, metadata: { author: 'test' } });
    const r = await io.loadOnnxModel(bytes);
    t.deepEqual(r.preprocessing, CAFFE_VGG_PREPROCESSING, 'preprocessing');
    t.deepEqual(r.classes, classes, 'classes');
    t.equal(r.metadata.author, 'test', "the caller's metadata");
    t.deepEqual(JSON.parse(r.metadata.vgg), { config: 'A', ...model.options }, "'vgg': the configuration and options");
    t.deepEqual(r.input, { name: 'input', shape: ['N', 3, 32, 32] }, "input 'input' [N, 3, 32, 32]");
    t.deepEqual(r.output, { name: 'logits' }, "output 'logits'");
    const fixed = await io.loadOnnxModel(await io.encodeOnnx(model, { batch: 2, softmax: true }));
    t.deepEqual([fixed.input.shape, fixed.output.name, fixed.preprocessing, fixed.classes], [[2, 3, 32, 32], 'probabilities', undefined, undefined], 'batch 2, softmax: [2, 3, 32, 32] → probabilities, no preprocessing or classes');
    const m = onnx.ModelProto.decode(bytes);
    t.deepEqual([m.producerName, Number(m.irVersion), m.opsetImport.map((o) => [o.domain, Number(o.version)])], ['verydeep', 7, [['', 13]]], "producer 'verydeep', IR 7, opset 13");
    for (const x of [model, r.model, fixed.model]) x.dispose();
  });

  test('onnx: graphs written otherwise (Reshape, MatMul + Add, Identity, AveragePool 1×1, Constant) import to what ORT computes', async (t) => {
    await setBackend('wasm');
    const model = new Vgg('A', SMALL).eval();
    const bytes = rewrite(await io.encodeOnnx(model), (m) => {
      const g = m.graph;
      const nodes: NodeProto[] = [];
      for (const n of g.node) {
        if (n.opType === 'Flatten') {
          nodes.push({ name: 'pool_identity', opType: 'AveragePool', input: n.input, output: ['pooled'], attribute: [{ name: 'kernel_shape', type: 7, ints: [1, 1] }] });
          nodes.push({ name: 'shape', opType: 'Constant', output: ['shape'], attribute: [{ name: 'value', type: 4, t: { dims: [2], dataType: 7, int64Data: [0, -1] } }] });
          nodes.push({ name: 'reshape', opType: 'Reshape', input: ['pooled', 'shape'], output: n.output });
        } else if (n.opType === 'Gemm' && n.name === 'classifier.0') {
          // FC6 as MatMul + Add with the weight transposed to [in, out]
          const w = g.initializer.find((i: NodeProto) => i.name === n.input[1]);
          const [out, inputs] = w.dims.map(Number) as number[];
          const src = new Float32Array(Uint8Array.from(w.rawData).buffer), dst = new Float32Array(src.length);
          for (let o = 0; o < out; o++) for (let i = 0; i < inputs; i++) dst[i * out + o] = src[o * inputs + i];
          g.initializer.push({ name: 'fc6_t', dims: [inputs, out], dataType: 1, rawData: new Uint8Array(dst.buffer) });
          nodes.push({ name: 'fc6_matmul', opType: 'MatMul', input: [n.input[0], 'fc6_t'], output: ['fc6_mm'] });
          nodes.push({ name: 'fc6_add', opType: 'Add', input: ['fc6_mm', n.input[2]], output: n.output });
        } else if (n.opType === 'Relu' && n.name === 'classifier.1') {
          nodes.push({ name: 'id', opType: 'Identity', input: n.input, output: ['relu_in'] }, { ...n, input: ['relu_in'] });
        } else nodes.push(n);
      }
      g.initializer = g.initializer.filter((i: NodeProto) => i.name !== 'classifier.0.weight');
      g.node = nodes.map((n) => onnx.NodeProto.create(n));
      m.metadataProps = [];
    });
    const back = await io.loadOnnx(bytes);
    t.ok(back instanceof Vgg && back.config === 'A', `read as ${back.describe()}`);
    t.ok(await sameWeights(back, model), 'every weight bit for bit (FC6 transposed back)');
    const session = await ort.InferenceSession.create(bytes);
    const shape = [2, 3, 32, 32], x = await inputOf(shape, 21);
    const err = relMaxError(await runOurs(back, x, shape), await runOrt(session, x, shape));
    t.ok(err < TOL, `verydeep's import vs ORT on the same graph: rel max err ${exp(err)}`);
    interopFigures.push(`onnx import of a rewritten VGG-A (Reshape, MatMul + Add, Identity, AveragePool 1×1): verydeep vs ORT rel max err ${exp(err)}`);
    await session.release();
    model.dispose();
    back.dispose();
  });

  test('onnx: errors', async (t) => {
    class Tanh extends Module {
      forward(x: Tensor): Tensor { return x; }
      outputShape(s: Shape): number[] { return [...s]; }
    }
    const bad = new Sequential(new Conv2d(3, 4), new Tanh(), new MaxPool2d(), new Softmax(), new Sequential(new LocalResponseNorm({ size: 4 })), new Flatten());
    await rejectsNamed(t, () => io.encodeOnnx(bad, { inputSize: 8 }), ValueError, [/io\.encodeOnnx/, /3 layers/, /1: Tanh/, /3: Softmax \(a Softmax before the last layer\)/, /4\.0: LocalResponseNorm.*size 4: for an even size/], 'export of unsupported layers: every one listed');
    await rejectsNamed(t, () => io.encodeOnnx(new Sequential(new Conv2d(3, 4))), ValueError, [/inputSize/], 'a Sequential without inputSize');
    const small = new Vgg('A', SMALL);
    await rejectsNamed(t, () => io.encodeOnnx(small, { classes: ['a', 'b'] }), ValueError, [/10 class names/, /got 2/], 'classes of the wrong count');
    await rejectsNamed(t, () => io.encodeOnnx(small, { batch: 0 }), ValueError, [/batch/], 'batch 0');
    await rejectsNamed(t, () => io.encodeOnnx(small, { inputsize: 3 } as never), ValueError, [/unknown option 'inputsize'/], 'a misspelt option');
    await rejectsNamed(t, () => io.saveOnnx(small, '/nonexistent-folder/x.onnx', { softmax: 'yes' as never }), ValueError, [/io\.saveOnnx/, /softmax/], 'saveOnnx names itself');

    const bytes = await io.encodeOnnx(small);
    const broken = rewrite(bytes, (m) => {
      const conv = m.graph.node.find((n: NodeProto) => n.name === 'features.3');
      conv.attribute.find((a: { name: string }) => a.name === 'strides').ints = [2, 2];
      m.graph.node.find((n: NodeProto) => n.name === 'features.4').opType = 'Sigmoid';
      const w = m.graph.initializer.find((i: NodeProto) => i.name === 'classifier.3.weight');
      w.dataType = onnx.TensorProto.DataType.DOUBLE;
    });
    await rejectsNamed(t, () => io.loadOnnx(broken, { name: 'broken.onnx' }), WeightsError,
      [/io\.loadOnnx: broken\.onnx/, /3 things/, /Conv 'features\.3': strides \[2, 2\]/, /Sigmoid 'features\.4': an op io\.loadOnnx does not read/, /Gemm 'classifier\.3': its weight 'classifier\.3\.weight' is DOUBLE/],
      'a graph with a strided Conv, a Sigmoid and a DOUBLE weight: one WeightsError listing all three');
    const branch = rewrite(bytes, (m) => {
      m.graph.node.push(onnx.NodeProto.create({ name: 'side', opType: 'Relu', input: ['features.0_output'], output: ['side_out'] }));
    });
    await rejectsNamed(t, () => io.loadOnnx(branch), WeightsError, [/the ONNX bytes/, /not a chain/, /'features\.0_output' goes to 2 nodes/], 'a branch');
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-onnx-'));
    try {
      for (const [what, cut] of [['the last bytes', bytes.subarray(0, bytes.length - 7)], ['half', bytes.subarray(0, bytes.length >> 1)]] as const) {
        const path = join(dir, 'truncated.onnx');
        writeFileSync(path, cut);
        await rejectsNamed(t, () => io.loadOnnx(path), WeightsError, [new RegExp(`io\\.loadOnnx: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)], `truncated by ${what}: a WeightsError naming the file`);
      }
      await rejectsNamed(t, () => io.loadOnnxModel(join(dir, 'missing.onnx')), WeightsError, [/io\.loadOnnxModel: cannot read .*missing\.onnx/], 'a missing file');
      await rejectsNamed(t, () => io.loadOnnx(new TextEncoder().encode('{"not": "onnx"}')), WeightsError, [/the ONNX bytes/], 'JSON bytes');
      const lying = rewrite(bytes, (m) => { m.metadataProps.find((p: { key: string }) => p.key === 'vgg').value = JSON.stringify({ config: 'B', ...SMALL }); });
      await rejectsNamed(t, () => io.loadOnnx(lying), WeightsError, [/'vgg' metadata states VGG-B/, /the graph holds another net/], "'vgg' metadata that the graph does not hold");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    small.dispose();
  });

  test('onnx: verydeep export --format onnx', async (t) => {
    await setBackend('wasm');
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-onnx-cli-'));
    try {
      const model = new Vgg('A', SMALL).eval();
      const weights = join(dir, 'model.safetensors'), out = join(dir, 'model.onnx'), labels = join(dir, 'labels.txt');
      await io.saveSafetensors(model, weights, { preprocessing: CAFFE_VGG_PREPROCESSING });
      writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n'));
      const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'export', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VERYDEEP_DEBUG: '' } });
      const oneLine = (r: ReturnType<typeof cli>, pattern: RegExp, what: string) =>
        t.ok(r.status === 2 && r.stderr.trim().split('\n').length === 1 && pattern.test(r.stderr.trim()), `${what}: exit ${r.status}, ${r.stderr.trim()}`);
      oneLine(cli(['--format', 'onnx', '--out', out]), /^error: verydeep export: --weights <file\.safetensors> is required$/, 'missing --weights');
      oneLine(cli(['--format', 'tflite', '--weights', weights, '--out', out]), /--format expects 'onnx', got 'tflite'/, 'an unknown --format');
      oneLine(cli(['--weights', weights, '--out', out]), /--format is required/, 'no --format');
      oneLine(cli(['--format', 'onnx', '--weights', weights, '--out', out, '--batch', 'two']), /--batch expects 'dynamic' or an integer ≥ 1, got 'two'/, 'a bad --batch');
      t.ok(!existsSync(out), 'nothing written by the failures');

      const r = cli(['--format', 'onnx', '--weights', weights, '--out', out, '--batch', '4', '--softmax', '--labels', labels]);
      t.ok(r.status === 0 && /^wrote .*model\.onnx: VGG-A .*input \[4, 3, 32, 32\], output probabilities \[4, 10\]; preprocessing BGR/.test(r.stdout), `a successful export: ${r.stdout.trim()}${r.stderr.trim()}`);
      t.deepEqual(readdirSync(dir).sort(), ['labels.txt', 'model.onnx', 'model.safetensors'], 'no temporary file left');
      const session = await ort.InferenceSession.create(out);
      const shape = [4, 3, 32, 32], x = await inputOf(shape, 31);
      const err = relMaxError(await runOrt(session, x, shape), await runOurs(new Sequential(model, new Softmax()), x, shape));
      t.ok(err < TOL, `ORT runs the CLI's export: probabilities rel max err ${exp(err)}`);
      await session.release();
      const loaded = await io.loadOnnxModel(out);
      t.deepEqual([loaded.preprocessing, loaded.classes?.length, loaded.input.shape], [CAFFE_VGG_PREPROCESSING, 10, [4, 3, 32, 32]], 'the file holds the preprocessing, the classes and batch 4');
      loaded.model.dispose();
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
