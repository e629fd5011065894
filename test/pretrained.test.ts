/**
 * Pretrained torchvision weights (suite 'interop'):
 *  1. class names as weights metadata: io.saveSafetensors writes 'classes' (checked), and
 *     io.loadSafetensors and io.loadWeights return them, a bad 'classes' being a
 *     WeightsError that names the file (before loadWeights builds anything); `verydeep
 *     classify` names the classes from the file, --labels still winning;
 *  2. decoding at a smallest side: decodeImage's { smallestSide } (EXIF orientation
 *     first), scalableImage and evaluate's ScalableImage checks;
 *  3. with Debian's torch and torchvision (skipped, or failed under
 *     VERYDEEP_REQUIRE_INTEROP=1, where they are missing): sharp's antialiased downscaling
 *     against torchvision's Resize (PIL), and the plain bilinear rescale against it
 *     (aliasing), figures in interopFigures; scripts/torchvision_to_safetensors.py's
 *     errors; and the whole chain: the script on random vgg11 weights, then `verydeep
 *     classify` printing ImageNet names, its top-5 the same as torch's on the same crop.
 * Nothing here downloads: --random needs no network, and the no-network error is made by a
 * proxy that refuses connections.
 */
import test from 'tape';
import { execFile, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setBackend } from '../lib/core/backend.js';
import { memory } from '../lib/core/tensor.js';
import * as data from '../lib/data/index.js';
import * as io from '../lib/io/index.js';
import * as evaluate from '../lib/eval/index.js';
import { Vgg, type VggOptions } from '../lib/models/vgg.js';
import { rejectsNamed, throwsNamed } from './helpers.js';
import { ShapeError, ValueError, WeightsError } from '../lib/core/errors.js';
import { PYTHON, interopAvailable, interopDir, interopFigures, runPython } from './interop-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'torchvision_to_safetensors.py');
const CLI = join(ROOT, 'bin', 'verydeep.js');
const TORCH_WEIGHTS = join(ROOT, 'test', 'fixtures', 'vgg_a_tiny_torchvision.safetensors');
/** the fixture's net (test/fixtures/make_torch_fixture.py) */
const TINY: VggOptions = { widthMultiplier: 1 / 16, inputSize: 96, fcWidth: 32, numClasses: 10 };
const NAMES = Array.from({ length: 10 }, (_, k) => `name ${k}`);
const execFileAsync = promisify(execFile);

const tempDir = () => mkdtempSync(join(tmpdir(), 'verydeep-pretrained-'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `node bin/verydeep.js ...args` without blocking the test process (the full-size model takes a while) */
async function cli(args: string[], timeoutS = 120): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { timeout: timeoutS * 1000, maxBuffer: 16 << 20, env: { ...process.env, VERYDEEP_DEBUG: '' } });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const err = e as Error & { code?: number; stdout?: string; stderr?: string };
    return { status: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/** the top-k rows `  1. 0.1234  name` that classify prints */
const rowsOf = (stdout: string) => [...stdout.matchAll(/^ {2}(\d)\. (\d\.\d{4}) {2}(.+)$/gm)].map((m) => ({ p: Number(m[2]), name: m[3] }));

/** a safetensors file's metadata, from its header only (the file may be 500 MB) */
function metadataOf(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const length = Buffer.alloc(8);
    readSync(fd, length, 0, 8, 0);
    const header = Buffer.alloc(Number(length.readBigUInt64LE()));
    readSync(fd, header, 0, header.length, 8);
    return JSON.parse(header.toString('utf8')).__metadata__ ?? {};
  } finally {
    closeSync(fd);
  }
}

/**
 * A W×H zone plate (rings whose frequency rises to near Nyquist at the corners, a little
 * different per channel) as a PNG: what aliases most when downscaled without a low-pass.
 */
async function zonePlate(path: string, W: number, H: number): Promise<void> {
  const sharp = await data.loadSharp();
  const pixels = new Uint8Array(W * H * 3);
  const k = Math.PI / (2 * Math.hypot(W / 2, H / 2));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r2 = (x - W / 2) ** 2 + (y - H / 2) ** 2;
      for (let c = 0; c < 3; c++) pixels[3 * (y * W + x) + c] = Math.round(127.5 + 127.5 * Math.cos(k * r2 * (1 + 0.1 * c)));
    }
  }
  await sharp(pixels, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path);
}

/** mean and max |a − b| of an image [3, H, W] and torch's [H, W, 3] */
function difference(ours: data.Image, theirs: io.NamedArray): { mean: number; max: number } {
  const [C, H, W] = ours.shape;
  if (theirs.shape.join() !== [H, W, C].join()) return { mean: Infinity, max: Infinity };
  let sum = 0, max = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const d = Math.abs(ours.get(c, y, x) - theirs.data[(y * W + x) * C + c]);
        sum += d;
        max = Math.max(max, d);
      }
    }
  }
  return { mean: sum / (C * H * W), max };
}

/** torchvision's Resize(Q) (PIL bilinear, antialiased) of each image file: [H, W, 3] in [0, 1] under the names given */
const TORCH_RESIZE = `
import sys, json
sys.path.insert(0, sys.argv[1])
import numpy as np, torch, safetensors_io
from PIL import Image
import torchvision.transforms as T
out, Q, files = sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
tensors = {}
for name, path in files.items():
    img = T.Resize(Q)(Image.open(path).convert('RGB'))
    tensors[name] = torch.from_numpy(np.asarray(img).astype(np.float32) / 255)
safetensors_io.save(out, tensors, {'torchvision': __import__('torchvision').__version__})
`;

/** torch's logits of torchvision's vgg for the weights file and an input x [1, 3, 224, 224] (safetensors): JSON */
const TORCH_LOGITS = `
import sys, json
sys.path.insert(0, sys.argv[1])
import torch, torchvision, safetensors_io
torch.set_num_threads(2)
state, meta = safetensors_io.load(sys.argv[3])
model = getattr(torchvision.models, sys.argv[2])(weights=None)
model.load_state_dict(state)
model.eval()
x, _ = safetensors_io.load(sys.argv[4])
with torch.no_grad():
    logits = model(x['x'])[0]
print(json.dumps({'logits': logits.tolist(), 'top5': logits.topk(5).indices.tolist(), 'classes': json.loads(meta['classes'])}))
`;

/** runs an inline Python script (written under the suite's folder) */
async function python(dir: string, name: string, source: string, args: string[], timeoutS = 300): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, source);
  return runPython(path, [join(ROOT, 'scripts', 'interop'), ...args], { timeoutS });
}

/** the conversion script, synchronously, for its exit status and stderr */
function convert(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '2', CUDA_VISIBLE_DEVICES: '', ...env } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let sharpLoads = true;
try {
  await data.loadSharp();
} catch {
  sharpLoads = false;
}
/** every test here decodes or makes images */
const needsSharp = { skip: !sharpLoads };

export function registerPretrainedTests(): void {
  // 1. class names as metadata -------------------------------------------------------------

  test('pretrained: io.saveSafetensors writes the class names, io.loadSafetensors and io.loadWeights return them; wrong ones are a ValueError', needsSharp, async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const model = Vgg.configA(TINY);
      const path = join(dir, 'named.safetensors');
      await io.saveSafetensors(model, path, { naming: 'torchvision', preprocessing: data.TORCHVISION_PREPROCESSING, classes: NAMES });
      t.deepEqual(JSON.parse(metadataOf(path).classes), NAMES, "the 'classes' metadata is the JSON array of the names");
      const other = Vgg.configA(TINY);
      const loaded = await io.loadSafetensors(other, path, { naming: 'torchvision' });
      t.deepEqual(loaded.classes, NAMES, 'loadSafetensors returns them');
      const { model: built, classes, preprocessing } = await io.loadWeights(path);
      t.deepEqual(classes, NAMES, 'loadWeights returns them');
      t.deepEqual(preprocessing, data.TORCHVISION_PREPROCESSING, 'with the preprocessing');
      const plain = join(dir, 'plain.safetensors');
      await io.saveSafetensors(model, plain);
      t.equal((await io.loadSafetensors(other, plain)).classes, undefined, 'a file without class names gives none');
      const none = await io.loadWeights(plain);
      t.notOk('classes' in none, 'loadWeights gives none either');
      for (const m of [other, built, none.model]) m.dispose();

      const cases: [unknown, RegExp, string][] = [
        [NAMES.slice(0, 9), /expected an array of 10 class names .*got 9 names/, 'nine names for ten classes'],
        [[...NAMES.slice(0, 9), 9], /got 9 at index 9/, 'a number among them'],
        ['name 0\nname 1', /expected an array of 10 class names .*got 'name 0/, 'a string'],
      ];
      for (const [classes, pattern, what] of cases) {
        const to = join(dir, 'bad.safetensors');
        await rejectsNamed(t, () => io.saveSafetensors(model, to, { classes: classes as string[] }), ValueError, [/io\.saveSafetensors: classes/, pattern], what);
      }
      t.notOk(existsSync(join(dir, 'bad.safetensors')), 'and no file was written');
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("pretrained: a file whose 'classes' metadata is wrong is a WeightsError naming the file, from loadSafetensors and loadWeights (which builds nothing)", needsSharp, async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const fixture = await io.readSafetensors(TORCH_WEIGHTS);
      const model = Vgg.configA(TINY);
      const cases: [string, string, RegExp][] = [
        ['not-json', '["tench", ', /the 'classes' metadata is not JSON/],
        ['object', '{"0": "tench"}', /expected an array of 10 class names .*got an Object/],
        ['nine', JSON.stringify(NAMES.slice(0, 9)), /expected an array of 10 class names .*got 9 names/],
        ['numbers', JSON.stringify(NAMES.map((n, k) => (k === 4 ? 4 : n))), /got 4 at index 4/],
      ];
      for (const [name, classes, pattern] of cases) {
        const path = join(dir, `${name}.safetensors`);
        await io.writeSafetensors(path, Object.fromEntries(fixture.tensors), { classes });
        const file = new RegExp(escape(path));
        await rejectsNamed(t, () => io.loadSafetensors(model, path, { naming: 'torchvision' }), WeightsError, [/io\.loadSafetensors/, file, pattern], `loadSafetensors: ${name}`);
        const before = memory().tensors;
        await rejectsNamed(t, () => io.loadWeights(path), WeightsError, [/io\.loadWeights/, file, pattern], `loadWeights: ${name}`);
        t.equal(memory().tensors, before, `loadWeights: ${name}: no tensor was made`);
      }
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pretrained: verydeep classify names the classes from the weights file; --labels still wins', needsSharp, async (t) => {
    const dir = tempDir();
    try {
      const photo = join(dir, 'photo.png');
      await zonePlate(photo, 240, 180);
      const model = Vgg.configA(TINY);
      await io.loadSafetensors(model, TORCH_WEIGHTS, { naming: 'torchvision' });
      const weights = join(dir, 'named.safetensors');
      await io.saveSafetensors(model, weights, { naming: 'torchvision', preprocessing: data.TORCHVISION_PREPROCESSING, classes: NAMES });
      model.dispose();
      const named = await cli(['classify', photo, '--weights', weights, '--backend', 'cpu']);
      const rows = rowsOf(named.stdout);
      t.ok(named.status === 0 && rows.length === 5 && rows.every((r) => NAMES.includes(r.name)), `the file's names:\n${named.stdout}${named.stderr}`);
      t.ok(new RegExp(`class names from ${escape(weights)}`).test(named.stdout), 'the header says where the names come from');
      writeFileSync(join(dir, 'labels.txt'), Array.from({ length: 10 }, (_, k) => `label-${k}`).join('\n'));
      const labelled = await cli(['classify', photo, '--weights', weights, '--labels', join(dir, 'labels.txt'), '--backend', 'cpu']);
      const labelRows = rowsOf(labelled.stdout);
      t.ok(labelRows.length === 5 && labelRows.every((r, i) => r.name === `label-${NAMES.indexOf(rows[i].name)}`), '--labels wins, same classes in the same order');
      const plain = await cli(['classify', photo, '--weights', TORCH_WEIGHTS, '--backend', 'cpu']);
      t.ok(rowsOf(plain.stdout).every((r) => /^class \d$/.test(r.name)), 'a file without names: class k');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 2. decoding at a smallest side ----------------------------------------------------------

  test('pretrained: decodeImage at a smallest side (oriented first), scalableImage, and the checks of a ScalableImage', needsSharp, async (t) => {
    await setBackend('cpu');
    const sharp = await data.loadSharp();
    const dir = tempDir();
    try {
      const [W, H] = [400, 300];
      const pixels = new Uint8Array(W * H * 3).map((_, i) => (i * 7) % 256);
      const turned = join(dir, 'turned.jpg');
      await sharp(pixels, { raw: { width: W, height: H, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(turned);
      t.deepEqual((await data.decodeImage(turned)).shape, [3, 400, 300], 'EXIF orientation 6: 300 wide, 400 high');
      t.deepEqual((await data.decodeImage(turned, { smallestSide: 150 })).shape, [3, 200, 150], 'downscaled to smallest side 150 (sharp), the orientation applied first');
      t.deepEqual((await data.decodeImage(turned, { smallestSide: 301 })).shape, [3, 401, 301], 'upscaled to 301 (bilinear rescale): 400 · 301/300 = 401.3 → 401');
      t.deepEqual((await data.decodeImage(turned, { smallestSide: 300 })).shape, [3, 400, 300], 'at its own size: as it is');
      for (const bad of [0, 1.5, '256']) {
        await rejectsNamed(t, () => data.decodeImage(turned, { smallestSide: bad as number }), ValueError, [/decodeImage/, /smallestSide to be a positive integer/], `smallestSide ${JSON.stringify(bad)}`);
      }
      throwsNamed(t, () => data.scalableImage(42 as unknown as string), ValueError, [/scalableImage: expected a file path/], 'scalableImage(42)');

      const model = Vgg.configA(TINY);
      await io.loadSafetensors(model, TORCH_WEIGHTS, { naming: 'torchvision' });
      const source = data.scalableImage(turned, { preprocessing: data.TORCHVISION_PREPROCESSING });
      const at = await Promise.all([96, 128].map((Q) => source.atSmallestSide(Q)));
      t.equal(await source.atSmallestSide(96), at[0], 'each Q is decoded once');
      const lookup = { channels: 3, atSmallestSide: (Q: number) => at[Q === 96 ? 0 : 1] };
      const fromSource = await evaluate.dense(model, source, { scales: [96, 128] });
      const fromImages = evaluate.fuse(await Promise.all(at.map((img) => evaluate.dense(model, img, { scales: [img.shape[2]] }))));
      t.ok(fromSource.every((p, k) => Math.abs(p - fromImages[k]) < 1e-6), 'dense on the ScalableImage is dense on the image it gives at each Q');
      const crops = await evaluate.multiCrop(model, lookup, { scales: [96], grid: 1, flip: false });
      const crop = await evaluate.multiCrop(model, at[0], { scales: [96], grid: 1, flip: false });
      t.ok(crops.every((p, k) => Math.abs(p - crop[k]) < 1e-6), 'multiCrop too');
      const wrongSize = { channels: 3, atSmallestSide: () => at[1] };
      await rejectsNamed(t, () => evaluate.dense(model, wrongSize, { scales: [96] }), ShapeError, [/evaluate\.dense/, /atSmallestSide\(96\) must give an image \[3, H, W\] with min\(H, W\) = 96/, /\[3, 171, 128\]/], 'a ScalableImage that gives another size');
      await rejectsNamed(t, () => evaluate.multiCrop(model, { channels: 1, atSmallestSide: () => at[0] }), ShapeError, [/evaluate\.multiCrop/, /takes 3 channels/, /gives 1/], 'one of other channels');
      await rejectsNamed(t, () => evaluate.dense(model, source, { scales: [64] }), ValueError, [/every scale Q to be an integer of at least 96/], 'a Q below the input size');
      const report = await evaluate.errors(model, [{ image: source, label: 3 }, { image: at[0], label: 3 }], { protocol: 'both', scales: [96] });
      t.equal(report.images, 2, 'evaluate.errors takes ScalableImages among its samples');
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 3. against torch and torchvision ---------------------------------------------------------

  test('pretrained (interop): downscaling with sharp is torchvision\'s Resize (PIL, antialiased); the plain bilinear rescale aliases', needsSharp, async (t) => {
    if (!interopAvailable(t)) {
      t.end();
      return;
    }
    const dir = interopDir('pretrained');
    try {
      const files: Record<string, string> = {};
      for (const [name, W, H] of [['zone1000', 1000, 750], ['zone4000', 4000, 3000], ['zone200', 200, 150]] as const) {
        files[name] = join(dir, `${name}.png`);
        await zonePlate(files[name], W, H);
      }
      const out = join(dir, 'resized.safetensors');
      await python(dir, 'torch_resize.py', TORCH_RESIZE, [out, '256', JSON.stringify(files)]);
      const theirs = (await io.readSafetensors(out)).tensors;
      for (const name of ['zone1000', 'zone4000']) {
        const sharpPath = difference(await data.decodeImage(files[name], { smallestSide: 256 }), theirs.get(name)!);
        const bilinear = difference(data.rescale(await data.decodeImage(files[name]), 256), theirs.get(name)!);
        const size = name === 'zone1000' ? '1000×750' : '4000×3000';
        t.ok(sharpPath.mean < 0.01, `${size} → 256×341: sharp (linear kernel) vs torchvision Resize(256): mean |Δ| ${sharpPath.mean.toExponential(2)}, max ${sharpPath.max.toFixed(3)} (in [0, 1])`);
        t.ok(bilinear.mean > 5 * sharpPath.mean && bilinear.mean > 0.05, `${size}: the plain bilinear rescale is far: mean |Δ| ${bilinear.mean.toExponential(2)}, max ${bilinear.max.toFixed(3)}`);
        interopFigures.push(`pretrained: zone plate ${size} → 256: sharp vs torchvision Resize mean |Δ| ${sharpPath.mean.toExponential(2)} (max ${sharpPath.max.toFixed(3)}); plain bilinear rescale mean |Δ| ${bilinear.mean.toExponential(2)} (max ${bilinear.max.toFixed(3)})`);
      }
      const up = difference(await data.decodeImage(files.zone200, { smallestSide: 256 }), theirs.get('zone200')!);
      t.ok(up.mean < 0.01, `200×150 → 256 (upscaling, bilinear rescale) vs torchvision Resize(256): mean |Δ| ${up.mean.toExponential(2)}, max ${up.max.toFixed(3)}`);
      interopFigures.push(`pretrained: zone plate 200×150 → 256 (upscaling: bilinear rescale) vs torchvision Resize mean |Δ| ${up.mean.toExponential(2)} (max ${up.max.toFixed(3)})`);
    } finally {
      for (const f of ['zone1000.png', 'zone4000.png', 'zone200.png', 'resized.safetensors', 'torch_resize.py']) rmSync(join(dir, f), { force: true });
    }
  });

  test('pretrained (interop): scripts/torchvision_to_safetensors.py refuses batch norm, a wrong arch, and without network says to use --state-dict or --random', needsSharp, (t) => {
    if (!interopAvailable(t)) {
      t.end();
      return;
    }
    const dir = interopDir('pretrained');
    const out = join(dir, 'refused.safetensors');
    const bn = convert(['--arch', 'vgg16_bn', '--out', out]);
    t.ok(bn.status === 2 && /--arch vgg16_bn has batch normalisation/.test(bn.stderr) && /vgg11, vgg13, vgg16, vgg19/.test(bn.stderr) && bn.stderr.trim().split('\n').length === 1, `vgg16_bn: one line, exit 2: ${bn.stderr.trim()}`);
    const arch = convert(['--arch', 'resnet50', '--out', out]);
    t.ok(arch.status === 2 && /--arch expects one of vgg11, vgg13, vgg16, vgg19, got 'resnet50'/.test(arch.stderr), `resnet50: ${arch.stderr.trim()}`);
    const both = convert(['--arch', 'vgg11', '--out', out, '--random', '--state-dict', out]);
    t.ok(both.status === 2 && /not allowed with/.test(both.stderr), `--random with --state-dict: ${both.stderr.trim()}`);
    const folder = convert(['--arch', 'vgg11', '--out', join(dir, 'missing', 'x.safetensors'), '--random']);
    t.ok(folder.status === 2 && /the folder .*missing does not exist/.test(folder.stderr), `--out in a missing folder: ${folder.stderr.trim()}`);
    // a proxy on a closed port: the download fails at once, as without network; an empty hub cache, so nothing cached is used
    const hub = mkdtempSync(join(tmpdir(), 'verydeep-hub-'));
    try {
      const closed = 'http://127.0.0.1:9';
      const offline = convert(['--arch', 'vgg11', '--out', out], { https_proxy: closed, HTTPS_PROXY: closed, http_proxy: closed, HTTP_PROXY: closed, no_proxy: '', NO_PROXY: '', TORCH_HOME: hub });
      const last = offline.stderr.trim().split('\n').pop()!;
      t.ok(offline.status === 1 && /cannot get torchvision's pretrained VGG11_Weights\.IMAGENET1K_V1/.test(last) && /--state-dict PATH/.test(last) && /--random/.test(last), `no network: exit 1, says --state-dict or --random: ${last}`);
    } finally {
      rmSync(hub, { recursive: true, force: true });
    }
    const foreign = join(dir, 'foreign.pth');
    const made = spawnSync(PYTHON, ['-c', `import torch; torch.save({'fc.weight': torch.zeros(2, 2)}, ${JSON.stringify(foreign)})`], { encoding: 'utf8' });
    const misfit = convert(['--arch', 'vgg11', '--out', out, '--state-dict', foreign]);
    t.ok(made.status === 0 && misfit.status === 1 && /--state-dict .*foreign\.pth does not fit torchvision vgg11/.test(misfit.stderr), `a state_dict of another net: ${misfit.stderr.trim().slice(0, 200)}`);
    t.notOk(existsSync(out), 'no file written by any of them');
    rmSync(foreign, { force: true });
    t.end();
  });

  test('pretrained (interop): the script on random vgg11 weights, then verydeep classify prints ImageNet class names, its top-5 torch\'s on the same crop', needsSharp, async (t) => {
    if (!interopAvailable(t)) {
      t.end();
      return;
    }
    const dir = interopDir('pretrained');
    const weights = join(dir, 'vgg11.safetensors');
    const photo = join(dir, 'photo.png');
    const input = join(dir, 'x.safetensors');
    try {
      const made = convert(['--arch', 'vgg11', '--random', '--out', weights]);
      t.ok(made.status === 0 && /wrote .*vgg11\.safetensors: vgg11, 132,863,336 parameters in 22 tensors, 1000 class names/.test(made.stdout), `the script: ${made.stdout.trim()}${made.stderr.trim()}`);
      const meta = metadataOf(weights);
      const classes: string[] = JSON.parse(meta.classes);
      t.ok(classes.length === 1000 && classes[0] === 'tench' && classes[999] === 'toilet tissue', "'classes': torchvision's 1,000 ImageNet names, tench first");
      t.deepEqual(JSON.parse(meta.preprocessing), data.TORCHVISION_PREPROCESSING, "'preprocessing' is TORCHVISION_PREPROCESSING, key for key");
      t.ok(meta.naming === 'torchvision' && /^random/.test(meta.source), `'naming' torchvision, 'source' ${meta.source}`);

      await zonePlate(photo, 1000, 750);
      const started = Date.now();
      const r = await cli(['classify', photo, '--weights', weights, '--backend', 'wasm'], 600);
      const seconds = (Date.now() - started) / 1000;
      const rows = rowsOf(r.stdout);
      t.ok(r.status === 0 && rows.length === 5, `classify ran (${seconds.toFixed(1)} s):\n${r.stdout}${r.stderr}`);
      t.ok(rows.every((row) => classes.includes(row.name)), `every name printed is one of the file's ImageNet names: ${rows.map((row) => row.name).join(', ')}`);
      t.ok(/224×224 centre crop of the image rescaled to smallest side 256/.test(r.stdout) && new RegExp(`class names from ${escape(weights)}`).test(r.stdout), 'the centre crop at Q = 256, names from the file');

      // torch's logits on the crop classify used: the image decoded at 256 (sharp), its centre 224×224, preprocessed
      const at256 = await data.scalableImage(photo, { preprocessing: data.TORCHVISION_PREPROCESSING }).atSmallestSide(256);
      const x = data.materialize(data.centerCrop(at256, 224));
      await io.writeSafetensors(input, { x: { shape: [1, 3, 224, 224], data: x.data } });
      const torch = JSON.parse(await python(dir, 'torch_logits.py', TORCH_LOGITS, ['vgg11', weights, input], 600)) as { logits: number[]; top5: number[]; classes: string[] };
      const theirs = torch.top5.map((k) => classes[k]);
      // random weights give posteriors near 1/1000: ranks may swap only where torch's logits tie to float32 rounding
      const scale = Math.max(...torch.logits.map(Math.abs));
      const logitOf = (name: string) => torch.logits[classes.indexOf(name)];
      const agree = rows.every((row, i) => row.name === theirs[i] || Math.abs(logitOf(row.name) - logitOf(theirs[i])) <= 1e-4 * scale);
      t.ok(agree, `top-5 as torch's: ours ${rows.map((row) => row.name).join(', ')}; torch ${theirs.join(', ')}`);
      const top1Gap = (logitOf(theirs[0]) - logitOf(theirs[1])) / scale;
      interopFigures.push(`pretrained: vgg11 (random weights, torchvision_to_safetensors.py) verydeep classify top-5 ${agree ? '=' : '≠'} torch's top-5 on the same sharp-resized centre crop (top-1 ${theirs[0]}, margin ${top1Gap.toExponential(1)} of max |logit|); classify took ${seconds.toFixed(1)} s on wasm`);
    } finally {
      for (const f of [weights, photo, input, join(dir, 'torch_logits.py')]) rmSync(f, { force: true });
    }
  });
}
