/**
 * torchvision's VGGs at full size, both ways, checked against Debian's python3-torch and
 * python3-torchvision 0.14 (scripts/interop/torchvision_vgg.py is the torch side):
 *  1. torch → verydeep: torchvision.models.vgg11/13/16/19() with random weights (seeded)
 *     saves its state_dict as safetensors, with no verydeep metadata, as a user's
 *     conversion would be; io.loadWeights infers the configuration and options from its
 *     shapes, and our eval-mode logits for torch's input x [2, 3, 224, 224] agree with
 *     torch's: relMaxError < 1e-4;
 *  2. verydeep → torch: our Vgg (Glorot init, seeded, with random biases so that each
 *     bias counts), io.saveSafetensors(…, { naming: 'torchvision' }), loads into
 *     torchvision's model with load_state_dict(strict=True), and torch's logits on the same
 *     x agree with ours.
 * The fixtures are made at test time under test-results/interop/torchvision (hundreds of
 * MB a model) and deleted after each model's checks, so the disk holds one at a time. The
 * forward passes run on the 'wasm' backend (the 'cpu' one takes minutes a model at 224).
 * Each figure goes to interopFigures, for the runner's closing lines.
 */
import test, { type Test } from 'tape';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../lib/core/backend.js';
import { noGrad } from '../lib/core/autograd.js';
import { Tensor, tidy } from '../lib/core/tensor.js';
import * as io from '../lib/io/index.js';
import { Vgg, type ConfigName } from '../lib/models/vgg.js';
import { randomArray } from './helpers.js';
import { interopAvailable, interopDir, interopFigures, pythonVersions, relMaxError, runPython } from './interop-helpers.js';

const SCRIPTS = fileURLToPath(new URL('../../scripts/interop/', import.meta.url));
const TORCHVISION = join(SCRIPTS, 'torchvision_vgg.py');
/** float32 sums of up to 25,088 terms in another order than torch's: errors of order 1e-6 */
const TOL = 1e-4;
const MODELS: [string, ConfigName][] = [['vgg11', 'A'], ['vgg13', 'B'], ['vgg16', 'D'], ['vgg19', 'E']];
const SEED = 14;

/** our eval-mode logits for `x`, on whatever backend is set */
async function logitsOf(model: Vgg, x: io.NamedArray): Promise<Float32Array> {
  model.eval();
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
          agree(t, `${name} at 224, torch → verydeep (loadWeights, torchvision naming)`, await logitsOf(model, x), logits.data);
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
          const mine = await logitsOf(ours, x);
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

  test('interop: wall time', (t) => {
    if (!interopAvailable(t)) { t.end(); return; }
    const figure = `torchvision both ways and ONNX with torch (this file's tests): wall time ${seconds(Date.now() - suiteStarted)} (OMP threads 2, wasm backend)`;
    interopFigures.push(figure);
    t.pass(figure);
    t.end();
  });
}
