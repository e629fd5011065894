/**
 * verydeep against Debian's python3-torch, python3-torchvision 0.14 and python3-onnx, at
 * full size (scripts/interop/torchvision_vgg.py and onnx_check.py are the Python side):
 *  1. torch → verydeep: torchvision.models.vgg11/13/16/19() with random weights (seeded)
 *     saves its state_dict as safetensors, with no verydeep metadata, as a user's
 *     conversion would be; io.loadWeights infers the configuration and options from its
 *     shapes, and our eval-mode logits for torch's input x [2, 3, 224, 224] agree with
 *     torch's: relMaxError < 1e-4;
 *  2. verydeep → torch: our Vgg (Glorot init, seeded, with random biases so that each
 *     bias counts), io.saveSafetensors(…, { naming: 'torchvision' }), loads into
 *     torchvision's model with load_state_dict(strict=True), and torch's logits on the same
 *     x agree with ours;
 *  3. torch.onnx.export of torchvision's vgg11 and vgg16 (opset 13, dynamic batch; torch
 *     writes the 7×7 AdaptiveAvgPool2d as a 1×1 AveragePool) loads with io.loadOnnx as a
 *     Vgg of configuration A or D, and our logits agree with torch's at batch 1 and 2;
 *  4. Python's onnx.checker.check_model(full_check=True) accepts our io.saveOnnx files (VGG-D
 *     at 224 with a dynamic batch; a reduced A-LRN, which has the LRN, with a softmax and a
 *     fixed batch 4), shape inference gives the declared outputs, and the opset and the
 *     metadata are there. (The other way, torch reading our ONNX, is not possible: torch
 *     1.13 has no ONNX import.)
 * The fixtures are made at test time under test-results/interop/ (hundreds of MB a model)
 * and deleted after each model's checks, so the disk holds one at a time. The forward
 * passes run on the 'wasm' backend (the 'cpu' one takes minutes a model at 224). Each
 * figure goes to interopFigures, for the runner's closing lines; the last test adds the
 * wall time of these tests.
 */
import test, { type Test } from 'tape';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../lib/core/backend.js';
import { noGrad } from '../lib/core/autograd.js';
import { Tensor, tidy } from '../lib/core/tensor.js';
import * as io from '../lib/io/index.js';
import { CAFFE_VGG_PREPROCESSING, TORCHVISION_PREPROCESSING } from '../lib/data/index.js';
import { Vgg, type ConfigName } from '../lib/models/vgg.js';
import { randomArray } from './helpers.js';
import { interopAvailable, interopDir, interopFigures, pythonVersions, relMaxError, runPython } from './interop-helpers.js';

const SCRIPTS = fileURLToPath(new URL('../../scripts/interop/', import.meta.url));
const TORCHVISION = join(SCRIPTS, 'torchvision_vgg.py');
const ONNX_CHECK = join(SCRIPTS, 'onnx_check.py');
/** float32 sums of up to 25,088 terms in another order than torch's: errors of order 1e-6 */
const TOL = 1e-4;
const MODELS: [string, ConfigName][] = [['vgg11', 'A'], ['vgg13', 'B'], ['vgg16', 'D'], ['vgg19', 'E']];
const ONNX_MODELS: [string, ConfigName][] = [['vgg11', 'A'], ['vgg16', 'D']];
const SEED = 14;
/** the reduced A-LRN of the ONNX checker test: its LRN is what the full-size D lacks */
const SMALL = { widthMultiplier: 1 / 8, inputSize: 64, fcWidth: 64, numClasses: 10 };

/** what scripts/interop/onnx_check.py prints for a file */
interface OnnxReport {
  checker: string;
  opsets: Record<string, number>;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  inferred: { name: string; shape: (number | string)[] }[] | string;
  metadata: Record<string, string>;
  ops: Record<string, number>;
  initializers: number;
  initializer_values: number;
}

/** our logits for `x` (the caller sets eval mode), on whatever backend is set */
async function logitsOf(model: Vgg, x: io.NamedArray): Promise<Float32Array> {
  return tidy(() => noGrad(() => model.forward(Tensor.from(x.data, x.shape)).data()));
}

/** the named tensors of a safetensors file the torch side wrote */
async function tensorsOf(path: string): Promise<Record<string, io.NamedArray>> {
  return Object.fromEntries((await io.readSafetensors(path)).tensors);
}

/** runs the torch side and parses the JSON line it prints */
async function python(script: string, args: string[]): Promise<Record<string, unknown>> {
  const out = await runPython(script, args, { timeoutS: 300 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Pushes a figure and asserts it is within TOL. */
function agree(t: Test, label: string, ours: Float32Array, theirs: Float32Array): void {
  const error = relMaxError(ours, theirs);
  interopFigures.push(`${label}: logits rel max err ${error.toExponential(1)}`);
  t.equal(ours.length, theirs.length, `${label}: ${theirs.length} logits on both sides`);
  t.ok(error < TOL, `${label}: logits rel max err ${error.toExponential(2)} < ${TOL} (max |torch| ${Math.max(...Array.from(theirs, Math.abs)).toFixed(3)})`);
}

let suiteStarted = 0;

export function registerInteropTests(): void {
  test('interop: torch, torchvision and onnx versions', (t) => {
    suiteStarted = Date.now();
    if (!interopAvailable(t)) { t.end(); return; }
    t.comment(pythonVersions());
    t.end();
  });

  for (const [name, config] of MODELS) {
    test(`interop: torchvision's ${name} (VGG-${config}) at 224 with random weights, both ways: our logits agree with torch's to ${TOL}`, async (t) => {
      if (!interopAvailable(t)) { t.end(); return; }
      await setBackend('wasm');
      const dir = interopDir('torchvision');
      const ourFile = join(dir, `${name}_verydeep.safetensors`);
      const theirLogits = join(dir, `${name}_torch_logits.safetensors`);
      const made = await python(TORCHVISION, ['export', name, dir, String(SEED)]);
      const files = [made.weights as string, made.io as string, ourFile, theirLogits];
      try {
        // 1. torch → verydeep: the state_dict alone says which VGG it is
        let started = Date.now();
        const { x, logits } = await tensorsOf(made.io as string);
        t.deepEqual([x.shape, logits.shape], [[2, 3, 224, 224], [2, 1000]], "torch's input x [2, 3, 224, 224] and logits [2, 1000]");
        const notes: string[] = [];
        const { model } = await io.loadWeights(made.weights as string, { note: (line) => notes.push(line) });
        try {
          t.ok(model instanceof Vgg && model.config === config, `loadWeights built VGG-${config} from the shapes (got ${model.config})`);
          t.deepEqual([model.options.inputSize, model.options.numClasses, model.options.fcWidth, model.options.widthMultiplier, model.options.inputChannels],
            [224, 1000, 4096, 1, 3], 'at full size: input 224, 1000 classes, FC 4096, width 1, RGB');
          t.equal(model.namedParameters().length, made.tensors, `all ${made.tensors} tensors of the state_dict`);
          t.equal(notes.length, 1, "a state_dict says no preprocessing: loadWeights notes it uses torchvision's");
          agree(t, `${name} at 224, torch → verydeep (loadWeights, torchvision naming)`, await logitsOf(model.eval(), x), logits.data);
        } finally {
          model.dispose();
        }
        t.comment(`${name} torch → verydeep: torch ${seconds(1000 * (made.total_s as number))} (forward ${seconds(1000 * (made.forward_s as number))}), ours ${seconds(Date.now() - started)}`);
        rmSync(made.weights as string, { force: true });

        // 2. verydeep → torch: our export loads into torchvision's model strictly
        started = Date.now();
        const ours = new Vgg(config, { init: 'glorot', seed: SEED });
        try {
          // Glorot's biases are zero; random ones make a bias loaded into another layer of the same width show
          ours.namedParameters().forEach(([pname, p], i) => {
            if (pname.endsWith('.bias')) p.assign(Promise.resolve(randomArray(p.size, SEED + i, 0.1)), 'interop test');
          });
          await io.saveSafetensors(ours, ourFile, { naming: 'torchvision' });
          const mine = await logitsOf(ours.eval(), x);
          const loaded = await python(TORCHVISION, ['import', name, ourFile, made.io as string, theirLogits]);
          t.deepEqual([loaded.missing, loaded.unexpected, loaded.tensors], [[], [], ours.namedParameters().length],
            `load_state_dict(strict=True) took all ${ours.namedParameters().length} tensors: none missing, none unexpected`);
          agree(t, `${name} at 224, verydeep → torch (saveSafetensors torchvision naming, load_state_dict strict)`, mine, (await tensorsOf(theirLogits)).logits.data);
          t.comment(`${name} verydeep → torch: torch ${seconds(1000 * (loaded.total_s as number))}, in all ${seconds(Date.now() - started)}`);
        } finally {
          ours.dispose();
        }
      } finally {
        for (const f of files) rmSync(f, { force: true });
      }
    });
  }

  for (const [name, config] of ONNX_MODELS) {
    test(`interop: torch.onnx.export of torchvision's ${name} (opset 13, dynamic batch) loads with io.loadOnnx as VGG-${config}; logits agree with torch's to ${TOL} at batch 1 and 2`, async (t) => {
      if (!interopAvailable(t)) { t.end(); return; }
      await setBackend('wasm');
      const started = Date.now();
      const made = await python(TORCHVISION, ['onnx', name, interopDir('onnx-from-torch'), String(SEED)]);
      try {
        const model = await io.loadOnnx(made.onnx as string);
        try {
          if (!(model instanceof Vgg)) {
            t.fail(`io.loadOnnx gave ${model.describe()}, not a Vgg`);
            return;
          }
          t.equal(model.config, config, `a Vgg of configuration ${config}`);
          t.deepEqual([model.options.inputSize, model.options.numClasses, model.options.fcWidth, model.options.widthMultiplier], [224, 1000, 4096, 1],
            'at full size: input 224, 1000 classes, FC 4096, width 1');
          t.equal(model.training, false, 'in eval mode, as an inference graph is');
          const { x1, logits1, x2, logits2 } = await tensorsOf(made.io as string);
          agree(t, `${name} at 224, torch.onnx.export → verydeep (loadOnnx), batch 1`, await logitsOf(model, x1), logits1.data);
          agree(t, `${name} at 224, torch.onnx.export → verydeep (loadOnnx), batch 2`, await logitsOf(model, x2), logits2.data);
        } finally {
          model.dispose();
        }
        t.comment(`${name} ONNX: torch ${seconds(1000 * (made.total_s as number))} (${((made.bytes as number) / 2 ** 20).toFixed(0)} MiB), in all ${seconds(Date.now() - started)}`);
      } finally {
        rmSync(made.onnx as string, { force: true });
        rmSync(made.io as string, { force: true });
      }
    });
  }

  test("interop: Python's onnx checker (full_check, shape inference) accepts our saveOnnx of VGG-D at 224 (dynamic batch) and of a reduced A-LRN with softmax at batch 4", async (t) => {
    if (!interopAvailable(t)) { t.end(); return; }
    await setBackend('wasm');
    const dir = interopDir('onnx-export');
    const started = Date.now();
    const d = new Vgg('D', { init: 'glorot', seed: SEED });
    const lrn = new Vgg('A-LRN', { ...SMALL, init: 'glorot', seed: SEED });
    const classes = Array.from({ length: SMALL.numClasses }, (_, i) => `class ${i}`);
    const cases = [
      { what: 'VGG-D at 224, dynamic batch', path: join(dir, 'vgg16_verydeep.onnx'), model: d, preprocessing: TORCHVISION_PREPROCESSING, output: 'logits', shape: ['N', 1000],
        input: ['N', 3, 224, 224], ops: { Conv: 13, Relu: 15, MaxPool: 5, Flatten: 1, Gemm: 3 } },
      { what: `A-LRN ×1/8 at ${SMALL.inputSize} (FC ${SMALL.fcWidth}, ${SMALL.numClasses} classes), softmax, batch 4`, path: join(dir, 'vgg_alrn_small_verydeep.onnx'), model: lrn,
        preprocessing: CAFFE_VGG_PREPROCESSING, output: 'probabilities', shape: [4, SMALL.numClasses], input: [4, 3, SMALL.inputSize, SMALL.inputSize],
        ops: { Conv: 8, Relu: 10, LRN: 1, MaxPool: 5, Flatten: 1, Gemm: 3, Softmax: 1 }, options: { softmax: true, batch: 4, classes } },
    ];
    try {
      for (const c of cases) await io.saveOnnx(c.model, c.path, { preprocessing: c.preprocessing, ...c.options });
      const out = await runPython(ONNX_CHECK, cases.map((c) => c.path), { timeoutS: 300 });
      const reports = out.trim().split('\n').map((line) => JSON.parse(line) as OnnxReport);
      t.equal(reports.length, cases.length, `one report per file (${cases.length})`);
      cases.forEach((c, i) => {
        const r = reports[i];
        t.equal(r.checker, 'ok', `${c.what}: onnx.checker.check_model(full_check=True) passes`);
        t.ok(r.opsets[''] >= 13, `${c.what}: default-domain opset ${r.opsets['']} ≥ 13`);
        t.deepEqual(r.inputs, [{ name: 'input', shape: c.input }], `${c.what}: input 'input' ${JSON.stringify(c.input)}`);
        t.deepEqual(r.outputs, [{ name: c.output, shape: c.shape }], `${c.what}: declared output '${c.output}' ${JSON.stringify(c.shape)}`);
        t.deepEqual(r.inferred, r.outputs, `${c.what}: onnx.shape_inference gives the declared output shape`);
        t.deepEqual(r.ops, c.ops, `${c.what}: the graph's nodes ${JSON.stringify(c.ops)}`);
        const params = c.model.namedParameters();
        t.deepEqual([r.initializers, r.initializer_values], [params.length, params.reduce((n, [, p]) => n + p.size, 0)], `${c.what}: every parameter an initializer`);
        t.deepEqual(r.metadata.preprocessing && JSON.parse(r.metadata.preprocessing), c.preprocessing, `${c.what}: metadata_props holds 'preprocessing'`);
        if (c.options?.classes) t.deepEqual(r.metadata.classes && JSON.parse(r.metadata.classes), classes, `${c.what}: metadata_props holds the 'classes'`);
      });
      interopFigures.push(`onnx.checker full_check on our saveOnnx: VGG-D at 224 (dynamic batch) and A-LRN ×1/8 (softmax, batch 4) pass, shape inference agrees (${seconds(Date.now() - started)})`);
    } finally {
      d.dispose();
      lrn.dispose();
      for (const c of cases) rmSync(c.path, { force: true });
    }
  });

  test('interop: wall time', (t) => {
    if (!interopAvailable(t)) { t.end(); return; }
    const figure = `torchvision both ways and ONNX with torch (this file's tests): wall time ${seconds(Date.now() - suiteStarted)} (OMP threads 2, wasm backend)`;
    interopFigures.push(figure);
    t.pass(figure);
    t.end();
  });
}
