/**
 * Weights in and out, preprocessing, real images and the classify / eval commands:
 *  1. the torchvision fixture (test/fixtures/make_torch_fixture.py: plain torch.nn modules
 *     in torchvision's VGG layout, a VGG-A with conv widths ×1/16, input 96, FC 32, 10
 *     classes) loads with naming 'torchvision', and our forward pass gives torch's logits
 *     for torch's input: max|ours − torch| / max(1, max|torch|) < 1e-4 (float32, sums of at
 *     most 288 terms in another order), on the cpu and wasm modes;
 *  2. save → load round-trips every tensor bit for bit, with the preprocessing; torchvision
 *     export gives back the fixture's file; writes leave no temporary file;
 *  3. a file that does not fit (a wrong shape, a missing or an extra tensor) throws an
 *     error that lists each mismatch, and the model keeps its weights bit for bit;
 *  4. the preprocessing presets on known pixels;
 *  5. decodeImage on PNG (RGB, RGBA, greyscale) and JPEG files made with sharp, and on
 *     corrupt files (the error names the file); imageFolder's classes, and its iteration
 *     skipping a corrupt file with a warning;
 *  6. the CLI: classify's top-5 (the center protocol equals the model on the centre crop),
 *     eval's error table, --help.
 */
import test from 'tape';
import ndarray from 'ndarray';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend, type Mode } from '../lib/core/backend.js';
import { Tensor, noGrad, tidy } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import * as data from '../lib/data/index.js';
import * as io from '../lib/io/index.js';
import { vggFromTorchvisionShapes } from '../lib/io/weights.js';
import { Vgg, type VggOptions } from '../lib/models/vgg.js';
import { normalizedError, rejectsNamed } from './helpers.js';
import { DataError, ValueError, VerydeepError, WeightsError } from '../lib/core/errors.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const TORCH_WEIGHTS = join(FIXTURES, 'vgg_a_tiny_torchvision.safetensors');
const TORCH_IO = join(FIXTURES, 'vgg_a_tiny_io.safetensors');
const CLI = fileURLToPath(new URL('../../bin/verydeep.js', import.meta.url));
/** the fixture's net: 64·w, 128·w, 256·w, 512·w = 4, 8, 16, 32 channels */
const TINY: VggOptions = { widthMultiplier: 1 / 16, inputSize: 96, fcWidth: 32, numClasses: 10 };
const FORWARD_TOL = 1e-4;

/** bit-for-bit equality of two float32 arrays */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

async function weightsOf(model: Vgg): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, p] of model.namedParameters()) out.set(name, await p.data());
  return out;
}

function sameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  return a.size === b.size && [...a].every(([name, v]) => b.has(name) && sameBits(v, b.get(name)!));
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'verydeep-weights-'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** runs bin/verydeep.js (the built CLI) */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** an RGB image [3, H, W] whose pixel (c, y, x) is ((40·c + 7·y + 13·x) mod 256) / 255 */
function knownPixels(H: number, W: number): { interleaved: Uint8Array; planes: Float32Array } {
  const interleaved = new Uint8Array(H * W * 3), planes = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        const v = (40 * c + 7 * y + 13 * x) % 256;
        interleaved[(y * W + x) * 3 + c] = v;
        planes[(c * H + y) * W + x] = v / 255;
      }
    }
  }
  return { interleaved, planes };
}

let sharpLoads = true;
try {
  await data.loadSharp();
} catch {
  sharpLoads = false;
}
const needsSharp = { skip: !sharpLoads };

export function registerWeightsTests(): void {
  // 1. the torchvision fixture ----------------------------------------------------------

  for (const mode of ['cpu', 'wasm'] as Mode[]) {
    test(`weights: the torchvision fixture loads into VGG-A ×1/16 (input 96, FC 32, 10 classes) and our forward pass gives torch's logits, on ${mode}`, async (t) => {
      await setBackend(mode);
      const file = await io.readSafetensors(TORCH_WEIGHTS);
      const model = Vgg.configA(TINY);
      t.deepEqual(model.namedParameters().map(([name]) => name), [...file.tensors.keys()], "our parameter names, in order, are torch's state_dict names");
      const loaded = await io.loadSafetensors(model, TORCH_WEIGHTS, { naming: 'torchvision' });
      t.equal(loaded.metadata.format, 'pt', "the file's metadata comes back");
      t.equal(loaded.preprocessing, undefined, 'a file that states no preprocessing gives none');
      const { input, logits } = Object.fromEntries((await io.readSafetensors(TORCH_IO)).tensors);
      t.deepEqual([input.shape, logits.shape], [[1, 3, 96, 96], [1, 10]], "torch's input [1, 3, 96, 96] and logits [1, 10]");
      model.eval();
      const ours = await tidy(() => noGrad(() => model.forward(Tensor.from(input.data, input.shape)).data()));
      const error = normalizedError(ours, logits.data);
      t.ok(error < FORWARD_TOL, `logits: error ${error.toExponential(2)} < ${FORWARD_TOL} (torch: ${Array.from(logits.data, (v) => v.toFixed(3)).join(', ')})`);
      model.dispose();
    });
  }

  test('weights: the CLI reads the configuration and options of a torchvision file off its shapes', async (t) => {
    const file = await io.readSafetensors(TORCH_WEIGHTS);
    t.deepEqual(vggFromTorchvisionShapes(file.tensors, TORCH_WEIGHTS), { config: 'A', inputChannels: 3, ...TINY }, 'A, width 4/64, FC 32, 10 classes, input 32 · 3');
    file.tensors.delete('features.0.weight');
    t.throws(() => vggFromTorchvisionShapes(file.tensors, 'cut.safetensors'), /cut\.safetensors.*not a torchvision VGG state_dict.*7 conv/, 'a file with 7 convs is not one');
  });

  // 2. round trips ------------------------------------------------------------------------

  test('weights: save → load round-trips every tensor bit for bit, with the preprocessing; no temporary file is left', async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const a = Vgg.configA({ ...TINY, init: 'glorot', seed: 1 });
      const b = Vgg.configA({ ...TINY, init: 'glorot', seed: 2 });
      const path = join(dir, 'a.safetensors');
      await io.saveSafetensors(a, path, { preprocessing: data.CAFFE_VGG_PREPROCESSING });
      t.deepEqual(readdirSync(dir), ['a.safetensors'], 'one file, no temporary file left');
      const loaded = await io.loadSafetensors(b, path);
      t.ok(sameWeights(await weightsOf(a), await weightsOf(b)), 'every tensor bit for bit');
      t.deepEqual(loaded.preprocessing, data.CAFFE_VGG_PREPROCESSING, "the preprocessing comes back (metadata 'preprocessing')");
      t.deepEqual(JSON.parse(loaded.metadata.vgg), { config: 'A', ...a.options }, "the configuration and options (metadata 'vgg')");

      mkdirSync(join(dir, 'taken'));
      await rejectsNamed(t, () => io.saveSafetensors(a, join(dir, 'taken')), VerydeepError, [/could not write/, /taken/], 'a write onto a folder fails');
      t.deepEqual(readdirSync(dir).sort(), ['a.safetensors', 'taken'], 'and leaves no temporary file');
      a.dispose();
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("weights: torchvision naming exports the fixture's names, shapes and values bit for bit", async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const model = Vgg.configA(TINY);
      await io.loadSafetensors(model, TORCH_WEIGHTS, { naming: 'torchvision' });
      const path = join(dir, 'export.safetensors');
      await io.saveSafetensors(model, path, { naming: 'torchvision', preprocessing: data.TORCHVISION_PREPROCESSING });
      const [ours, theirs] = [await io.readSafetensors(path), await io.readSafetensors(TORCH_WEIGHTS)];
      t.deepEqual([...ours.tensors.keys()], [...theirs.tensors.keys()], 'the same names in the same order');
      t.ok([...theirs.tensors].every(([name, v]) => sameBits(ours.tensors.get(name)!.data, v.data) && ours.tensors.get(name)!.shape.join() === v.shape.join()), 'the same shapes and values, bit for bit');
      t.equal(ours.metadata.naming, 'torchvision', "metadata 'naming'");
      await rejectsNamed(t, () => io.saveSafetensors(Vgg.configC(TINY), path, { naming: 'torchvision' }), ValueError, [/torchvision naming covers/, /configuration C/], 'configuration C has no torchvision counterpart');
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 3. mismatches -------------------------------------------------------------------------

  test('weights: a file with a wrong shape, a missing or an extra tensor throws, lists every mismatch, and leaves the model untouched', async (t) => {
    await setBackend('cpu');
    const dir = tempDir();
    try {
      const fixture = await io.readSafetensors(TORCH_WEIGHTS);
      const model = Vgg.configA({ ...TINY, init: 'glorot', seed: 3 });
      const before = await weightsOf(model);
      const write = async (name: string, edit: (tensors: Map<string, io.NamedArray>) => void) => {
        const tensors = new Map(fixture.tensors);
        edit(tensors);
        const path = join(dir, name);
        await io.writeSafetensors(path, Object.fromEntries(tensors));
        return path;
      };
      const cases: [string, (m: Map<string, io.NamedArray>) => void, RegExp[]][] = [
        ['shape.safetensors', (m) => m.set('features.3.weight', { shape: [8, 4, 1, 9], data: m.get('features.3.weight')!.data }), [/features\.3\.weight: \[8, 4, 1, 9\] in the file, \[8, 4, 3, 3\] in the model/]],
        ['missing.safetensors', (m) => m.delete('classifier.6.bias'), [/classifier\.6\.bias: missing from the file \(the model has \[10\]\)/]],
        ['extra.safetensors', (m) => m.set('features.99.weight', { shape: [1], data: Float32Array.of(1) }), [/features\.99\.weight: in the file but not in the model/]],
      ];
      for (const [name, edit, patterns] of cases) {
        const path = await write(name, edit);
        await rejectsNamed(t, () => io.loadSafetensors(model, path, { naming: 'torchvision' }), WeightsError, [/io\.loadSafetensors/, new RegExp(escape(name)), /nothing was loaded/, ...patterns], name);
      }
      const all = await write('all.safetensors', (m) => cases.forEach(([, edit]) => edit(m)));
      await rejectsNamed(t, () => io.loadSafetensors(model, all, { naming: 'torchvision' }), WeightsError, cases.flatMap(([, , p]) => p), 'all three at once: every one listed');
      t.ok(sameWeights(before, await weightsOf(model)), 'the model keeps every weight, bit for bit');
      const bad = join(dir, 'bad-preprocessing.safetensors');
      await io.writeSafetensors(bad, Object.fromEntries(fixture.tensors), { preprocessing: JSON.stringify({ ...data.TORCHVISION_PREPROCESSING, channelOrder: 'GRB' }) });
      await rejectsNamed(t, () => io.loadSafetensors(model, bad, { naming: 'torchvision' }), WeightsError, [/bad-preprocessing\.safetensors/, /channelOrder must be 'RGB', 'BGR' or 'gray', got "GRB"/], "a file whose 'preprocessing' is wrong");
      t.ok(sameWeights(before, await weightsOf(model)), 'and the model still keeps every weight');
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 4. preprocessing ----------------------------------------------------------------------

  test('preprocessing: torchvision (RGB, 0-1, ImageNet mean and std) and Caffe (BGR, 0-255, mean BGR) on known pixels', (t) => {
    // one pixel: R = 1, G = 0.5, B = 0
    const img = ndarray(Float32Array.of(1, 0.5, 0), [3, 1, 1]);
    const tv = data.applyPreprocessing(img, data.TORCHVISION_PREPROCESSING);
    const expectTv = [(1 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (0 - 0.406) / 0.225];
    t.ok(normalizedError(tv.data, expectTv) < 1e-6, `torchvision: (x − mean) / std in RGB order: ${Array.from(tv.data, (v) => v.toFixed(4)).join(', ')}`);
    const caffe = data.applyPreprocessing(img, data.CAFFE_VGG_PREPROCESSING);
    t.ok(normalizedError(caffe.data, [0 - 103.939, 127.5 - 116.779, 255 - 123.68]) < 1e-6, `Caffe: B, G, R in 0-255 less the mean BGR: ${Array.from(caffe.data, (v) => v.toFixed(3)).join(', ')}`);
    t.deepEqual(img.data, Float32Array.of(1, 0.5, 0), 'the input is not changed');
    t.throws(() => data.applyPreprocessing(ndarray(new Float32Array(4), [1, 2, 2]), data.TORCHVISION_PREPROCESSING), /expected an RGB image of shape \[3, H, W\], got \[1, 2, 2\]/, 'a 1-channel image');
    t.throws(() => data.checkPreprocessing({ channelOrder: 'RGB', range: '0-100', mean: [0, 0], std: [1, 0, 1] }), /range must be '0-1' or '0-255'.*mean must be 3 finite numbers.*std must not be 0/, 'every problem of a bad object');
    t.end();
  });

  // 5. images -----------------------------------------------------------------------------

  test('images: decodeImage gives [3, H, W] in [0, 1]: PNG exactly (RGB, RGBA less its alpha, greyscale as 3 equal channels, EXIF orientation applied), JPEG within its loss', needsSharp, async (t) => {
    const sharp = await data.loadSharp();
    const dir = tempDir();
    try {
      const [H, W] = [5, 7]; // not square: a transposition would show
      const { interleaved, planes } = knownPixels(H, W);
      await sharp(interleaved, { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(dir, 'rgb.png'));
      const rgb = await data.decodeImage(join(dir, 'rgb.png'));
      t.deepEqual(rgb.shape, [3, H, W], 'shape [3, 5, 7]');
      t.ok(sameBits(rgb.data, planes), 'RGB PNG: every value is pixel / 255 exactly, channels first');

      const rgba = new Uint8Array(H * W * 4);
      for (let i = 0; i < H * W; i++) rgba.set([...interleaved.subarray(3 * i, 3 * i + 3), (i * 37) % 256], 4 * i);
      await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toFile(join(dir, 'rgba.png'));
      t.ok(sameBits((await data.decodeImage(join(dir, 'rgba.png'))).data, planes), 'RGBA PNG: the alpha channel is dropped, the colours kept');

      const grey = Uint8Array.from({ length: H * W }, (_, i) => (i * 9) % 256);
      await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(dir, 'grey.png'));
      const g = await data.decodeImage(join(dir, 'grey.png'));
      const expectGrey = Float32Array.from({ length: 3 * H * W }, (_, i) => grey[i % (H * W)] / 255);
      t.ok(g.shape.join() === [3, H, W].join() && sameBits(g.data, expectGrey), 'greyscale PNG: three equal channels');

      const small = knownPixels(2, 3);
      await sharp(small.interleaved, { raw: { width: 3, height: 2, channels: 3 } }).withMetadata({ orientation: 6 }).png().toFile(join(dir, 'turned.png'));
      const turned = await data.decodeImage(join(dir, 'turned.png'));
      const old = ndarray(small.planes, [3, 2, 3]);
      const rotated = Float32Array.from({ length: 18 }, (_, i) => old.get(Math.floor(i / 6), 1 - (i % 2), Math.floor(i / 2) % 3));
      t.ok(turned.shape.join() === '3,3,2' && sameBits(turned.data, rotated), 'EXIF orientation 6 (turn 90° clockwise) is applied: 2×3 becomes 3×2, new (y, x) = old (1 − x, y)');

      const flat = new Uint8Array(16 * 24 * 3).map((_, i) => [200, 100, 50][i % 3]);
      await sharp(flat, { raw: { width: 24, height: 16, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(dir, 'flat.jpg'));
      const jpeg = await data.decodeImage(join(dir, 'flat.jpg'));
      const want = Float32Array.from({ length: 3 * 16 * 24 }, (_, i) => [200, 100, 50][Math.floor(i / (16 * 24))] / 255);
      const err = normalizedError(jpeg.data, want);
      t.ok(jpeg.shape.join() === '3,16,24' && err < 3 / 255, `JPEG of a flat colour (200, 100, 50): [3, 16, 24], within ${err.toFixed(4)} < 3/255`);

      writeFileSync(join(dir, 'text.png'), 'this is not an image');
      await rejectsNamed(t, () => data.decodeImage(join(dir, 'text.png')), DataError, [/decodeImage: cannot decode/, /text\.png/, /unsupported image format/], 'a text file named .png');
      const full = readFileSync(join(dir, 'flat.jpg'));
      writeFileSync(join(dir, 'cut.jpg'), full.subarray(0, full.length >> 1));
      await rejectsNamed(t, () => data.decodeImage(join(dir, 'cut.jpg')), DataError, [/decodeImage: cannot decode/, /cut\.jpg/], 'a JPEG cut in half');
      await rejectsNamed(t, () => data.decodeImage(join(dir, 'none.png')), DataError, [/decodeImage: cannot decode/, /none\.png/, /missing/], 'a missing file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('images: imageFolder sorts its classes, takes image files only, and its iteration skips a corrupt file with a warning that names it', needsSharp, async (t) => {
    const sharp = await data.loadSharp();
    const dir = tempDir();
    try {
      const { interleaved } = knownPixels(6, 6);
      const make = (path: string) => sharp(interleaved, { raw: { width: 6, height: 6, channels: 3 } }).png().toFile(join(dir, path));
      for (const cls of ['zebra', 'cat', 'dog', 'dog/close-ups']) mkdirSync(join(dir, cls), { recursive: true });
      await Promise.all(['zebra/1.png', 'cat/b.png', 'cat/a.PNG', 'dog/close-ups/x.png', 'dog/y.png'].map(make));
      writeFileSync(join(dir, 'cat/notes.txt'), 'not an image, and not taken');
      writeFileSync(join(dir, 'dog/broken.png'), 'not an image either');
      const warnings: string[] = [];
      const ds = data.imageFolder(dir, { warn: (line) => warnings.push(line) });
      t.deepEqual(ds.classes, ['cat', 'dog', 'zebra'], 'classes sorted by name, numbered 0, 1, 2');
      t.deepEqual(ds.files.map((f) => [f.path.slice(dir.length + 1), f.label]),
        [['cat/a.PNG', 0], ['cat/b.png', 0], ['dog/broken.png', 1], ['dog/close-ups/x.png', 1], ['dog/y.png', 1], ['zebra/1.png', 2]],
        'files by class, then by name, sub-folders included; extensions case-insensitive; .txt ignored');
      const first = await ds.load(0);
      t.deepEqual([first.image.shape, first.label], [[3, 6, 6], 0], 'load(i) decodes one image');
      await rejectsNamed(t, () => ds.load(2), DataError, [/cannot decode/, /dog\/broken\.png/], 'load(i) of a corrupt file names it');
      const seen: string[] = [];
      for await (const s of ds) seen.push(`${s.label}:${s.path.slice(dir.length + 1)}`);
      t.deepEqual(seen, ['0:cat/a.PNG', '0:cat/b.png', '1:dog/close-ups/x.png', '1:dog/y.png', '2:zebra/1.png'], 'iteration yields the rest, in order');
      t.ok(warnings.length === 1 && /warning: skipped/.test(warnings[0]) && /dog\/broken\.png/.test(warnings[0]), `one warning: ${warnings[0]}`);
      t.deepEqual(ds.skipped.map((s) => s.path), [join(dir, 'dog/broken.png')], 'skipped lists the file');
      mkdirSync(join(dir, 'empty'));
      t.throws(() => data.imageFolder(dir), /no image files .* in the class folder .*empty/, 'an empty class folder throws');
      t.throws(() => data.imageFolder(join(dir, 'none')), /cannot read the folder .*none/, 'a missing folder throws');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 6. the CLI ----------------------------------------------------------------------------

  test('CLI: classify prints the top-5 classes with probabilities; the center protocol is the net on the centre crop of the rescaled image', needsSharp, async (t) => {
    await setBackend('cpu');
    const sharp = await data.loadSharp();
    const dir = tempDir();
    try {
      const { interleaved } = knownPixels(90, 120);
      const photo = join(dir, 'photo.png');
      await sharp(interleaved, { raw: { width: 120, height: 90, channels: 3 } }).png().toFile(photo);
      writeFileSync(join(dir, 'labels.txt'), Array.from({ length: 10 }, (_, k) => `label-${k}`).join('\n') + '\n');
      const r = cli(['classify', photo, join(dir, 'broken.jpg'), '--weights', TORCH_WEIGHTS, '--labels', join(dir, 'labels.txt'), '--backend', 'cpu']);
      const rows = [...r.stdout.matchAll(/^ {2}(\d)\. (\d\.\d{4}) {2}(label-\d)$/gm)];
      t.equal(rows.length, 5, `five rows:\n${r.stdout}`);
      const p = rows.map((m) => Number(m[2]));
      t.ok(p.every((v, i) => i === 0 || v <= p[i - 1]) && p.reduce((a, b) => a + b, 0) <= 1.0001, 'probabilities best first, summing to at most 1');
      t.ok(/96×96 centre crop of the image rescaled to smallest side 110/.test(r.stdout), 'center: smallest side 96·256/224 = 110, then the 96×96 crop');
      t.ok(/broken\.jpg/.test(r.stderr) && r.status === 1, `a missing file is named, the others classified, exit status 1: ${r.stderr.trim().split('\n').pop()}`);

      const model = Vgg.configA(TINY);
      await io.loadSafetensors(model, TORCH_WEIGHTS, { naming: 'torchvision' });
      model.eval();
      const x = data.applyPreprocessing(data.centerCrop(data.rescale(await data.decodeImage(photo), 110), 96), data.TORCHVISION_PREPROCESSING);
      const post = await tidy(() => noGrad(() => ops.softmax(model.forward(Tensor.from(x.data, [1, 3, 96, 96]))).data()));
      const best = post.indexOf(Math.max(...post));
      t.ok(rows[0][3] === `label-${best}` && Math.abs(p[0] - post[best]) < 1e-4, `top-1 is the net's on the centre crop: label-${best}, ${post[best].toFixed(4)}`);
      model.dispose();

      for (const protocol of ['dense', 'multicrop']) {
        const d = cli(['classify', photo, '--weights', TORCH_WEIGHTS, '--protocol', protocol, '--scales', '96,112', '--backend', 'cpu']);
        t.ok(d.status === 0 && [...d.stdout.matchAll(/^ {2}\d\. \d\.\d{4} {2}class \d$/gm)].length === 5, `--protocol ${protocol}: five rows`);
      }
      const help = cli(['classify', '--help']);
      t.ok(help.status === 0 && /Usage: verydeep classify/.test(help.stdout) && /--protocol/.test(help.stdout), 'classify --help');
      const wrong = cli(['classify', photo, '--weights', TORCH_WEIGHTS, '--protocol', 'tencrop']);
      t.ok(wrong.status === 2 && /--protocol expects 'center', 'dense', 'multicrop', got 'tencrop'/.test(wrong.stderr), 'a wrong --protocol prints the help, exit status 2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('CLI: eval prints the top-1 and top-5 error of dense, multi-crop and both on an image folder, skipping a corrupt file', needsSharp, async (t) => {
    const sharp = await data.loadSharp();
    const dir = tempDir();
    try {
      for (const cls of ['a', 'b']) mkdirSync(join(dir, cls));
      const { interleaved } = knownPixels(100, 120);
      await Promise.all(['a/1.png', 'a/2.jpg', 'b/1.png'].map((f) => sharp(interleaved, { raw: { width: 120, height: 100, channels: 3 } })[f.endsWith('.png') ? 'png' : 'jpeg']().toFile(join(dir, f))));
      writeFileSync(join(dir, 'b/2.jpg'), 'corrupt');
      const r = cli(['eval', '--data', dir, '--weights', TORCH_WEIGHTS, '--protocol', 'both', '--scales', '96,112', '--grid', '2', '--backend', 'cpu']);
      t.equal(r.status, 0, `exit status 0:\n${r.stdout}`);
      for (const name of ['dense', 'multi-crop', 'dense \\+ multi-crop']) t.ok(new RegExp(`^${name} +\\d+\\.\\d\\d% +\\d+\\.\\d\\d%$`, 'm').test(r.stdout), `a row for ${name.replace('\\', '')}`);
      t.ok(/3 images \(1 skipped: .*b\/2\.jpg\)/.test(r.stdout), 'three images, the corrupt one named as skipped');
      t.ok(/warning: skipped.*b\/2\.jpg/.test(r.stderr) && /eval .*step 4\/4/.test(r.stderr), 'a warning names it; progress lines reach 4/4');
      const help = cli(['eval', '--help']);
      t.ok(help.status === 0 && /Usage: verydeep eval/.test(help.stdout) && /--scales/.test(help.stdout), 'eval --help');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
