/**
 * Tests: the wrong uses a new user makes of the layers, Vgg, optimisers, data, evaluation,
 * backends, kernels, the pool, Rng and viz each give a named error whose message names the
 * function, what it expected and what it got (issue 12). Cases marked `// was: ...` failed
 * before their fix: a bare TypeError or RangeError, an error naming the wrong function, or
 * no error at all and a wrong result.
 */
import test from 'tape';
import ndarray from 'ndarray';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Tensor, Vgg, nn, optim, data, evaluate, viz, setBackend, setPoolLimit, Rng, ops,
  ShapeError, ValueError, DisposedError, BackendError, DataError, CheckpointError,
} from '../lib/index.js';
import { initFastPath } from '../kernels/wasm/fastpath.js';
import { throwsNamed, rejectsNamed, type Assert } from './helpers.js';

type ErrorClass = abstract new (...args: never[]) => Error;
/** [what, the wrong use, the class it must throw, what its message must say] */
type Case = [string, () => unknown, ErrorClass, RegExp[]];

function throwsAll(t: Assert, cases: Case[]): void {
  for (const [what, fn, cls, patterns] of cases) throwsNamed(t, fn, cls, patterns, what);
}

async function rejectsAll(t: Assert, cases: Case[]): Promise<void> {
  for (const [what, fn, cls, patterns] of cases) await rejectsNamed(t, async () => fn(), cls, patterns, what);
}

const TINY = { widthMultiplier: 1 / 16, inputSize: 32, inputChannels: 1, numClasses: 10, fcWidth: 16, init: 'glorot' as const, seed: 3 };
const image = (C: number, H: number, W: number) => ndarray(new Float32Array(C * H * W).fill(0.5), [C, H, W]);
const tensor = (shape: number[]) => Tensor.from(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const tempDir = () => mkdtempSync(join(tmpdir(), 'verydeep-named-'));

export function registerNamedErrorTests(): void {
  test('named errors: layers', async (t) => {
    await setBackend('cpu');
    const conv = new nn.Conv2d(3, 8);
    const linear = new nn.Linear(10, 4);
    throwsAll(t, [
      ["Conv2d('3', 8)", () => new nn.Conv2d('3' as never, 8), ValueError, [/^Conv2d: expected inChannels to be a positive integer, got '3' \(a string\)$/]],
      ['Conv2d(3, 0)', () => new nn.Conv2d(3, 0), ValueError, [/Conv2d: expected outChannels to be a positive integer, got 0/]],
      ['Conv2d(3, 8, 2)', () => new nn.Conv2d(3, 8, 2), ValueError, [/Conv2d: expected an odd kernelSize \(3 or 1\), got 2/]],
      // was: a string's keys were read as options, and the weights drawn Glorot's way without a word
      ["Conv2d(3, 8, 3, 'paper')", () => new nn.Conv2d(3, 8, 3, 'paper' as never), ValueError, [/Conv2d: expected init options \{ init, std, seed \}, got 'paper' \(a string\)/]],
      // was: ignored, so Glorot
      ['Conv2d init { scheme }', () => new nn.Conv2d(3, 8, 3, { scheme: 'paper' } as never), ValueError, [/Conv2d: unknown init option 'scheme'; expected init, std, seed/]],
      ["Conv2d init 'he'", () => new nn.Conv2d(3, 8, 3, { init: 'he' as never }), ValueError, [/Conv2d: expected init 'paper' or 'glorot', got 'he'/]],
      ['Conv2d init std 0', () => new nn.Conv2d(3, 8, 3, { init: 'paper', std: 0 }), ValueError, [/Conv2d: expected init std to be a finite number > 0, got 0/]],
      ['Conv2d init seed NaN', () => new nn.Conv2d(3, 8, 3, { seed: NaN }), ValueError, [/Conv2d: expected init seed to be a finite number, got NaN/]],
      ['Conv2d.outputShape, 4 channels for 3', () => conv.outputShape([1, 4, 8, 8]), ShapeError, [/Conv2d: expected 3 input channels, got shape \[1, 4, 8, 8\]/]],
      ['Conv2d.outputShape of rank 3', () => conv.outputShape([3, 8, 8]), ShapeError, [/Conv2d: expected input of rank 4 \[N, C, H, W\], got shape \[3, 8, 8\]/]],
      ['Conv2d.forward, 4 channels for 3', () => conv.forward(tensor([1, 4, 8, 8])), ShapeError, [/conv2d/, /4 channels/, /expects 3/]],
      ['Conv2d.forward of a Float32Array', () => conv.forward(new Float32Array(8) as never), ValueError, [/conv2d: expected x to be a Tensor, got /]],
      ['Linear(0, 4)', () => new nn.Linear(0, 4), ValueError, [/Linear: expected inFeatures to be a positive integer, got 0/]],
      ['Linear(4, 2.5)', () => new nn.Linear(4, 2.5), ValueError, [/Linear: expected outFeatures to be a positive integer, got 2.5/]],
      ['Linear init []', () => new nn.Linear(4, 2, [] as never), ValueError, [/Linear: expected init options/, /an Array/]],
      ['Linear.outputShape, 9 features for 10', () => linear.outputShape([3, 9]), ShapeError, [/Linear: expected 10 input features, got shape \[3, 9\]/]],
      ['Linear.outputShape of a conv map', () => linear.outputShape([1, 10, 1, 1]), ShapeError, [/Linear: expected input of rank 2 \[N, in\], got shape \[1, 10, 1, 1\]/]],
      ['Linear.forward, 9 features for 10', () => linear.forward(tensor([3, 9])), ShapeError, [/linear/, /9 features/, /expects 10/]],
      // was: pooled 2×2, stride 2, whatever the window asked for
      ['MaxPool2d(3)', () => new nn.MaxPool2d(3), ValueError, [/MaxPool2d: only VGG's 2×2 window with stride 2 is implemented/, /got kernelSize 3, stride 3/]],
      ['MaxPool2d(2, 1)', () => new nn.MaxPool2d(2, 1), ValueError, [/MaxPool2d: .*expected kernelSize 2 and stride 2, got kernelSize 2, stride 1/]],
      ['MaxPool2d.outputShape of a 1-pixel row', () => new nn.MaxPool2d().outputShape([1, 1, 1, 4]), ShapeError, [/MaxPool2d: expected H and W of at least 2, got shape \[1, 1, 1, 4\]/]],
      ['Dropout(1)', () => new nn.Dropout(1), ValueError, [/Dropout: expected p in \[0, 1\), got 1/]],
      ['Dropout(-0.1)', () => new nn.Dropout(-0.1), ValueError, [/Dropout: expected p in \[0, 1\), got -0.1/]],
      // was: accepted, and the string handed to the dropout kernel
      ["Dropout('0.5')", () => new nn.Dropout('0.5' as never), ValueError, [/Dropout: expected p in \[0, 1\), got '0.5' \(a string\)/]],
      // was: 'Rng: expected a finite seed'
      ['Dropout(0.5, NaN)', () => new nn.Dropout(0.5, NaN), ValueError, [/^Dropout: expected a finite seed, got NaN/]],
      // was: 'mul: expected a to be a Tensor'
      ['Dropout.forward of an array', () => new nn.Dropout(0.5).forward([1, 2] as never), ValueError, [/^Dropout.forward: expected a Tensor, got an Array/]],
      // was: a number spread as options gives none: the defaults, without a word
      ['LocalResponseNorm(5)', () => new nn.LocalResponseNorm(5 as never), ValueError, [/LocalResponseNorm: expected options \{ size, alpha, beta, k, alphaMode \}, got 5/]],
      ['LocalResponseNorm { sise }', () => new nn.LocalResponseNorm({ sise: 5 } as never), ValueError, [/LocalResponseNorm: unknown option 'sise'/]],
      // was: only checked at the first forward pass, by the op
      ['LocalResponseNorm size 4.5', () => new nn.LocalResponseNorm({ size: 4.5 }), ValueError, [/^LocalResponseNorm: expected size to be a positive integer, got 4.5/]],
      ['LocalResponseNorm alpha -1', () => new nn.LocalResponseNorm({ alpha: -1 }), ValueError, [/^LocalResponseNorm: expected alpha to be a finite number >= 0, got -1/]],
      ['LocalResponseNorm k 0', () => new nn.LocalResponseNorm({ k: 0 }), ValueError, [/^LocalResponseNorm: expected k to be a finite number > 0/, /got 0/]],
      ["LocalResponseNorm alphaMode 'avg'", () => new nn.LocalResponseNorm({ alphaMode: 'avg' as never }), ValueError, [/LocalResponseNorm: expected alphaMode 'sum' or 'mean', got 'avg'/]],
      // was: TypeError: Cannot read properties of undefined (reading '0')
      ['Flatten.outputShape(undefined)', () => new nn.Flatten().outputShape(undefined as never), ValueError, [/^Flatten: expected an input shape \[N, \.\.\.\], got undefined/]],
      ["Sequential(conv, 'relu')", () => new nn.Sequential(conv, 'relu' as never), ValueError, [/Sequential: expected layer 1 to be a Module, got 'relu' \(a string\)/]],
      ['Sequential([a, b])', () => new nn.Sequential([conv, linear] as never), ValueError, [/Sequential: expected layer 0 to be a Module, got an Array; pass the layers as separate arguments/]],
    ]);
    t.doesNotThrow(() => [new nn.MaxPool2d(2), new nn.MaxPool2d(2, 2)], 'MaxPool2d(2) and MaxPool2d(2, 2), PyTorch\'s spelling of the 2×2 pool, are taken');
    const gone = new nn.Sequential(new nn.Conv2d(1, 2), new nn.ReLU());
    gone.dispose();
    // was: 'conv2d: w (shape [2, 1, 3, 3]) was disposed', not naming the layer
    throwsNamed(t, () => gone.forward(tensor([1, 1, 4, 4])), DisposedError, [/^Conv2d\(1, 2, 3×3\)\.forward: expected a live module, got one whose parameters dispose\(\) freed/], 'a disposed Conv2d\'s forward');
    linear.dispose();
    throwsNamed(t, () => linear.forward(tensor([1, 10])), DisposedError, [/^Linear\(10, 4\)\.forward: expected a live module/], 'a disposed Linear\'s forward');
    conv.dispose();
    t.end();
  });

  test('named errors: Vgg', async (t) => {
    await setBackend('cpu');
    throwsAll(t, [
      ["Vgg.config('Z')", () => Vgg.config('Z'), ValueError, [/^Vgg.config: unknown configuration 'Z' \(a string\); expected one of A, A-LRN, B, C, D, E/]],
      ["Vgg.config('vgg16')", () => Vgg.config('vgg16'), ValueError, [/unknown configuration 'vgg16'/]],
      // was: TypeError: name.toUpperCase is not a function
      ['Vgg.config(16)', () => Vgg.config(16 as never), ValueError, [/^Vgg.config: unknown configuration 16; expected one of A, A-LRN/]],
      // was: 'toString' in VGG_CONFIGS, then a TypeError
      ["new Vgg('toString')", () => new Vgg('toString' as never), ValueError, [/^Vgg: unknown configuration 'toString'/]],
      ['widthMultiplier 0', () => Vgg.config('D', { widthMultiplier: 0 }), ValueError, [/^Vgg: expected widthMultiplier > 0, got 0$/]],
      ['widthMultiplier -1', () => Vgg.config('D', { widthMultiplier: -1 }), ValueError, [/^Vgg: expected widthMultiplier > 0, got -1$/]],
      // was: 'Conv2d: expected outChannels to be a positive integer, got Infinity'
      ['widthMultiplier Infinity', () => Vgg.config('A', { widthMultiplier: Infinity }), ValueError, [/^Vgg: expected widthMultiplier > 0, got Infinity/]],
      ["widthMultiplier '0.5'", () => Vgg.config('A', { ...TINY, widthMultiplier: '0.5' as never }), ValueError, [/^Vgg: expected widthMultiplier > 0, got '0.5' \(a string\)/]],
      ['numClasses 0', () => Vgg.config('A', { ...TINY, numClasses: 0 }), ValueError, [/^Vgg: expected numClasses to be a positive integer, got 0/]],
      ['inputSize 2.5', () => Vgg.config('A', { ...TINY, inputSize: 2.5 }), ValueError, [/^Vgg: expected inputSize to be a positive integer, got 2.5/]],
      ["inputChannels '3'", () => Vgg.config('A', { ...TINY, inputChannels: '3' as never }), ValueError, [/^Vgg: expected inputChannels to be a positive integer, got '3' \(a string\)/]],
      ['fcWidth -1', () => Vgg.config('A', { ...TINY, fcWidth: -1 }), ValueError, [/^Vgg: expected fcWidth to be a positive integer, got -1/]],
      ['inputSize 16 for A', () => Vgg.config('A', { ...TINY, inputSize: 16 }), ValueError, [/^Vgg: inputSize 16 is too small for configuration A: a max-pool would get a 1×1 map/]],
      // was: 'Dropout: expected p ...', naming a layer the user never made
      ['dropout 1', () => Vgg.config('A', { ...TINY, dropout: 1 }), ValueError, [/^Vgg: expected dropout in \[0, 1\), got 1/]],
      ["init 'he'", () => Vgg.config('A', { ...TINY, init: 'he' as never }), ValueError, [/^Vgg: expected init 'paper' or 'glorot', got 'he'/]],
      ['initStd 0', () => Vgg.config('A', { ...TINY, init: 'paper', initStd: 0 }), ValueError, [/^Vgg: expected initStd to be a finite number > 0, got 0/]],
      ['seed NaN', () => Vgg.config('A', { ...TINY, seed: NaN }), ValueError, [/^Vgg: expected seed to be a finite number, got NaN/]],
      // was: ignored: a full-width net, without a word
      ['misspelt widthMultipler', () => Vgg.config('A', { ...TINY, widthMultipler: 0.5 } as never), ValueError, [/^Vgg: unknown option 'widthMultipler'; expected one of numClasses, inputSize/]],
      ["options 'A'", () => new Vgg('A', 'A' as never), ValueError, [/^Vgg: expected options \{ numClasses, .* \}, got 'A' \(a string\)/]],
    ]);
    const model = Vgg.configA(TINY);
    throwsAll(t, [
      ['forward of 3 channels for 1', () => model.forward(tensor([1, 3, 32, 32])), ShapeError, [/^VGG-A .*\.forward: expected an input \[N, 1, 32, 32\] \(inputChannels 1, inputSize 32\), got \[1, 3, 32, 32\]/]],
      // was: 'linear: x has 16 features ...', deep inside FC6
      ['forward of 64×64 for 32', () => model.forward(tensor([1, 1, 64, 64])), ShapeError, [/\.forward: expected an input \[N, 1, 32, 32\]/, /got \[1, 1, 64, 64\]; evaluate.dense takes other sizes/]],
      ['forward without the batch axis', () => model.forward(tensor([1, 32, 32])), ShapeError, [/got \[1, 32, 32\]; add the batch dimension/]],
      ['forward of a Float32Array', () => model.forward(new Float32Array(1024) as never), ValueError, [/\.forward: expected a Tensor \[N, C, H, W\], got a Float32Array/]],
      ['outputShape of 16×16', () => model.outputShape([1, 1, 16, 16]), ShapeError, [/\.outputShape: expected an input \[N, 1, 32, 32\]/]],
      // was: TypeError: Cannot read properties of undefined (reading 'length')
      ['outputShape(undefined)', () => model.outputShape(undefined as never), ValueError, [/\.outputShape: expected an input shape \[N, C, H, W\], got undefined/]],
      // was: TypeError: inputShape is not iterable
      ['summary(32)', () => model.summary(32 as never), ValueError, [/^VGG-A .*\.summary: expected an input shape such as \[1, 3, 224, 224\] \(or null\), got 32/]],
    ]);
    const b = Vgg.configB(TINY);
    await rejectsAll(t, [
      ['initFromA from a B', () => Vgg.initFromA(b, b), ValueError, [/Vgg.initFromA: expected a configuration A net as the source, got B/]],
      ['initFromA from a Module', () => Vgg.initFromA(b, new nn.Linear(2, 2) as never), ValueError, [/Vgg.initFromA: expected trainedA to be a Vgg, got a Linear/]],
      ['initFromA of other widths', () => Vgg.initFromA(Vgg.configB({ ...TINY, widthMultiplier: 1 / 8 }), model), ShapeError, [/Vgg.initFromA: Conv2d\(1, 8, 3×3\)\.weight has shape \[8, 1, 3, 3\] but A's Conv2d\(1, 4, 3×3\)\.weight has \[4, 1, 3, 3\]/]],
    ]);
    // was: { init: undefined } replaced the default 'paper' with undefined, and the layers drew Glorot's
    const { init: _, ...small } = TINY;
    const given = Vgg.configA({ ...small, init: undefined });
    const byDefault = Vgg.configA(small);
    t.deepEqual(await given.features.layers[0].parameters()[0].data(), await byDefault.features.layers[0].parameters()[0].data(), 'an option given as undefined takes its default (init \'paper\')');
    model.dispose();
    throwsNamed(t, () => model.forward(tensor([1, 1, 32, 32])), DisposedError, [/^VGG-A .*\.forward: expected a live module/], 'a disposed Vgg\'s forward');
    for (const m of [b, given, byDefault]) m.dispose();
    t.end();
  });

  test('named errors: optimisers', async (t) => {
    const params = new nn.Linear(3, 2).parameters();
    const sgd = new optim.SGD(params);
    throwsAll(t, [
      ['SGD([])', () => new optim.SGD([]), ValueError, [/SGD: expected a non-empty array of parameter Tensors \(model.parameters\(\)\), got an empty array/]],
      ['SGD(model)', () => new optim.SGD(new nn.Linear(3, 2) as never), ValueError, [/SGD: expected a non-empty array of parameter Tensors .*, got a Linear/]],
      ['SGD([1, 2])', () => new optim.SGD([1, 2] as never), ValueError, [/got 1 at index 0/]],
      ['SGD lr -1', () => new optim.SGD(params, { lr: -1 }), ValueError, [/^SGD: expected lr to be a finite number >= 0, got -1/]],
      ["SGD lr '0.1'", () => new optim.SGD(params, { lr: '0.1' as never }), ValueError, [/^SGD: expected lr to be a finite number >= 0, got '0.1' \(a string\)/]],
      // was: taken, and the velocity grew without bound
      ['SGD momentum 2', () => new optim.SGD(params, { momentum: 2 }), ValueError, [/^SGD: expected momentum in \[0, 1\), got 2/]],
      ['SGD momentum 1', () => new optim.SGD(params, { momentum: 1 }), ValueError, [/^SGD: expected momentum in \[0, 1\), got 1/]],
      ['SGD weightDecay Infinity', () => new optim.SGD(params, { weightDecay: Infinity }), ValueError, [/^SGD: expected weightDecay to be a finite number >= 0, got Infinity/]],
      // was: set, and the next step climbed the loss
      ['sgd.lr = -1', () => { sgd.lr = -1; }, ValueError, [/^SGD.lr: expected lr to be a finite number >= 0, got -1/]],
      // was: TypeError: Cannot read properties of undefined (reading 'velocities')
      ['SGD.loadStateDict(undefined)', () => sgd.loadStateDict(undefined as never), CheckpointError, [/SGD.loadStateDict: expected a state \{ lr, momentum, weightDecay, velocities \}/, /got undefined/]],
      ['SGD.loadStateDict, 1 velocity for 2', () => sgd.loadStateDict({ lr: 0.1, momentum: 0.9, weightDecay: 0, velocities: [null] }), CheckpointError, [/the state has 1 velocities for 2 parameters/]],
      ['SGD.loadStateDict, a short velocity', () => sgd.loadStateDict({ lr: 0.1, momentum: 0.9, weightDecay: 0, velocities: [new Float32Array(5), null] }), CheckpointError, [/velocity 0 has 5 values, expected 6/]],
      ['SGD.loadStateDict, lr NaN', () => sgd.loadStateDict({ lr: NaN, momentum: 0.9, weightDecay: 0, velocities: [null, null] }), CheckpointError, [/SGD.loadStateDict: expected lr to be a finite number >= 0, got NaN/]],
      ['ReduceLROnPlateau patience -1', () => new optim.ReduceLROnPlateau(sgd, { patience: -1 }), ValueError, [/ReduceLROnPlateau: expected an integer patience >= 0, got -1/]],
      ['ReduceLROnPlateau patience 1.5', () => new optim.ReduceLROnPlateau(sgd, { patience: 1.5 }), ValueError, [/got 1.5/]],
      ['ReduceLROnPlateau factor 1', () => new optim.ReduceLROnPlateau(sgd, { factor: 1 }), ValueError, [/ReduceLROnPlateau: expected factor in \(0, 1\), got 1/]],
      // was: taken; -1 never reduced, NaN never counted an improvement
      ['ReduceLROnPlateau maxReductions -1', () => new optim.ReduceLROnPlateau(sgd, { maxReductions: -1 }), ValueError, [/expected an integer maxReductions >= 0, got -1/]],
      ['ReduceLROnPlateau threshold NaN', () => new optim.ReduceLROnPlateau(sgd, { threshold: NaN }), ValueError, [/expected threshold to be a finite number >= 0, got NaN/]],
      ['ReduceLROnPlateau of no optimizer', () => new optim.ReduceLROnPlateau({} as never), ValueError, [/ReduceLROnPlateau: expected an optimizer with a numeric lr/]],
      ['ReduceLROnPlateau.loadStateDict({})', () => new optim.ReduceLROnPlateau(sgd).loadStateDict({} as never), CheckpointError, [/ReduceLROnPlateau.loadStateDict: expected a state \{ best, badEpochs, reductions \}/]],
    ]);
    // was: NaN counted as an epoch without improvement, and the lr was divided for it
    const plateau = new optim.ReduceLROnPlateau(sgd, { patience: 0 });
    plateau.step(0.5);
    throwsNamed(t, () => plateau.step(NaN), ValueError, [/ReduceLROnPlateau.step: expected the validation accuracy as a finite number, got NaN/], 'ReduceLROnPlateau.step(NaN)');
    t.equal(sgd.lr, 1e-2, 'and the lr is left as it was');
    t.end();
  });

  test('named errors: datasets, loaders and IDX files', async (t) => {
    const ds = new data.ArrayDataset('four', new Float32Array(4 * 4), Int32Array.of(0, 1, 2, 1), [1, 2, 2], 3);
    throwsAll(t, [
      ['readIdx of garbage', () => data.readIdx(Uint8Array.of(1, 2, 3, 4, 5), 'junk.idx'), DataError, [/readIdx: junk.idx is not an IDX file \(magic 1 2 3 4\)/]],
      ['readIdx of a cut header', () => data.readIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1)), DataError, [/readIdx: IDX data is truncated: 3 dimensions need a 16-byte header, got 8 bytes/]],
      ['readIdx of type 0x07', () => data.readIdx(Uint8Array.of(0, 0, 7, 1, 0, 0, 0, 1, 0)), DataError, [/has unknown data type 0x7/]],
      ['readIdx of cut data', () => data.readIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 9, 1, 2)), DataError, [/is truncated: shape \[9\] needs 17 bytes, got 10/]],
      ['readIdx of a damaged gzip', () => data.readIdx(Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), 'x.gz'), DataError, [/readIdx: x.gz is a damaged gzip file/]],
      // was: TypeError: buf.subarray is not a function
      ['readIdx of a path', () => data.readIdx('/data/train.idx' as never), ValueError, [/readIdx: expected the file's bytes as a Uint8Array \(readFileSync\(path\)\), got '\/data\/train.idx' \(a string\)/]],
      ['fashionMnist of a missing folder', () => data.fashionMnist('/nonexistent/fashion'), DataError, [/fashionMnist: \/nonexistent\/fashion\/train-images-idx3-ubyte\(.gz\) is missing/]],
      ['ArrayDataset of 15 values for 4 images', () => new data.ArrayDataset('x', new Float32Array(15), new Int32Array(4), [1, 2, 2], 3), ShapeError, [/ArrayDataset 'x': 15 pixel values for 4 images of \[1, 2, 2\]/]],
      ['ArrayDataset of a number[]', () => new data.ArrayDataset('x', [0, 0] as never, new Int32Array(2), [1, 1, 1], 3), ValueError, [/ArrayDataset 'x': expected images as a Float32Array/, /got an Array/]],
      // was: taken; training then met class 3 of a 3-class net
      ['ArrayDataset label 3 of 3 classes', () => new data.ArrayDataset('x', new Float32Array(2), Int32Array.of(0, 3), [1, 1, 1], 3), DataError, [/ArrayDataset 'x': label 3 of image 1 is outside the 3 classes \[0, 3\)/]],
      ['ArrayDataset.get(4)', () => ds.get(4), ValueError, [/four: index 4 is outside \[0, 4\)/]],
      // was: a black image labelled 0
      ['ArrayDataset.subset with index 9', () => ds.subset('s', [0, 9]), ValueError, [/ArrayDataset.subset of 'four': expected indices in \[0, 4\), got 9 at position 1/]],
      ['DataLoader batchSize 0', () => new data.DataLoader(ds, { batchSize: 0 }), ValueError, [/^DataLoader: expected a positive integer batchSize, got 0$/]],
      ['DataLoader batchSize 2.5', () => new data.DataLoader(ds, { batchSize: 2.5 }), ValueError, [/^DataLoader: expected a positive integer batchSize, got 2.5$/]],
      ["DataLoader batchSize '8'", () => new data.DataLoader(ds, { batchSize: '8' as never }), ValueError, [/got '8' \(a string\)/]],
      // was: TypeError: Cannot destructure property 'batchSize' of 'options'
      ['DataLoader without options', () => new data.DataLoader(ds, undefined as never), ValueError, [/^DataLoader: expected options \{ batchSize, .* \}, got undefined/]],
      ['DataLoader of an array', () => new data.DataLoader([1, 2, 3] as never, { batchSize: 1 }), DataError, [/^DataLoader: expected a Dataset \(with length and get\(i\), e.g. an ArrayDataset\), got an Array/]],
      ['DataLoader seed NaN', () => new data.DataLoader(ds, { batchSize: 2, seed: NaN }), ValueError, [/^DataLoader: expected a finite seed, got NaN/]],
      ["DataLoader transform 'flip'", () => new data.DataLoader(ds, { batchSize: 2, transform: 'flip' as never }), ValueError, [/^DataLoader: expected transform to be a function \(image, rng\) => image, got 'flip'/]],
      ['DataLoader.batches(-1)', () => new data.DataLoader(ds, { batchSize: 2 }).batches(-1).next(), ValueError, [/DataLoader.batches: expected epoch to be an integer >= 0, got -1/]],
      // was: TypeError: Cannot read properties of undefined (reading 'shape')
      ['a transform that returns nothing', () => new data.DataLoader(ds, { batchSize: 2, transform: () => undefined as never }).batches().next(), DataError, [/DataLoader: image 0 is undefined after the transform, expected an image ndarray \[C, H, W\]/]],
      ['a transform that changes sizes', () => {
        let k = 0;
        return new data.DataLoader(ds, { batchSize: 2, transform: (img) => (k++ === 0 ? data.pad(img, 4) : img) }).batches().next();
      }, ShapeError, [/DataLoader: image 1 has shape \[1, 2, 2\] after the transform, expected \[1, 4, 4\] like the first of its batch/]],
    ]);
    t.end();
  });

  test('named errors: transforms and preprocessing', (t) => {
    const rgb = image(3, 8, 8), grey = image(1, 8, 8), rng = new Rng(1);
    throwsAll(t, [
      ['rescale to 0', () => data.rescale(rgb, 0), ValueError, [/^rescale: expected a positive integer S, got 0$/]],
      ['rescale to 2.5', () => data.rescale(rgb, 2.5), ValueError, [/got 2.5/]],
      ['rescale of a rank-2 ndarray', () => data.rescale(ndarray(new Float32Array(4), [2, 2]) as never, 4), ShapeError, [/^rescale: expected an image ndarray of shape \[C, H, W\], got \[2, 2\]/]],
      ['horizontalFlip of a Float32Array', () => data.horizontalFlip(new Float32Array(4) as never), ValueError, [/^horizontalFlip: expected an image ndarray of shape \[C, H, W\], got a Float32Array/]],
      ['materialize(null)', () => data.materialize(null as never), ValueError, [/^materialize: expected an image ndarray/, /got null/]],
      ['a 9×9 crop of 8×8', () => data.crop(rgb, 0, 0, 9), ValueError, [/^crop: a 9×9 crop at \(0, 0\) does not fit an image of 8×8/]],
      // was: a view between pixels, whose values read as undefined: NaN downstream
      ['a crop at 0.5', () => data.crop(rgb, 0.5, 0, 4), ValueError, [/^crop: expected top to be an integer of at least 0, got 0.5/]],
      ['a crop at -1', () => data.crop(rgb, -1, 0, 4), ValueError, [/^crop: expected top to be an integer of at least 0, got -1/]],
      ['randomCrop of 9 in 8', () => data.randomCrop(rgb, 9, rng), ValueError, [/^randomCrop: a 9×9 crop does not fit an image of 8×8/]],
      // was: TypeError: Cannot read properties of undefined (reading 'int')
      ['randomCrop without an Rng', () => data.randomCrop(rgb, 4, undefined as never), ValueError, [/^randomCrop: expected an Rng \(a DataLoader's transform gets one as its second argument\), got undefined/]],
      ['randomFlip with Math.random', () => data.randomFlip(rgb, Math.random as never), ValueError, [/^randomFlip: expected an Rng/, /got a function/]],
      // was: "crop: a 9×9 crop at (-1, -1) ..."
      ['centerCrop of 9 in 8', () => data.centerCrop(rgb, 9), ValueError, [/^centerCrop: a 9×9 crop does not fit an image of 8×8/]],
      ['pad 8×8 to 4', () => data.pad(rgb, 4), ValueError, [/^pad: expected an integer size of at least 8, got 4/]],
      // was: RangeError: Invalid typed array length
      ['pad to 10.5', () => data.pad(rgb, 10.5), ValueError, [/^pad: expected an integer size of at least 8, got 10.5/]],
      ['resize to 0×4', () => data.resize(rgb, 0, 4), ValueError, [/^resize: expected outH to be an integer of at least 1, got 0/]],
      ['resize to 2.5×4', () => data.resize(rgb, 2.5, 4), ValueError, [/^resize: expected outH to be an integer of at least 1, got 2.5/]],
      // was: a scale drawn below Smin
      ['jitteredScale(512, 256)', () => data.jitteredScale(rng, 512, 256), ValueError, [/^jitteredScale: expected Smax to be an integer of at least 512, got 256/]],
      ['pcaColourShift of grey', () => data.pcaColourShift(grey, rng), ShapeError, [/^pcaColourShift: expected 3 \(RGB\) channels, got 1/]],
      ['pcaColourShift sigma NaN', () => data.pcaColourShift(rgb, rng, NaN), ValueError, [/^pcaColourShift: expected sigma to be a finite number, got NaN/]],
      ['subtractMean of 1 mean for 3', () => data.subtractMean(rgb, [0.5]), ValueError, [/^subtractMean: expected 3 channel means \(finite numbers\), got 1: \[0.5\]/]],
      // was: an image of NaN
      ['subtractMean of NaN', () => data.subtractMean(rgb, [NaN, 0, 0]), ValueError, [/^subtractMean: expected 3 channel means/, /got 3: \[NaN, 0, 0\]/]],
      ['scale by NaN', () => data.scale(rgb, NaN), ValueError, [/^scale: expected a finite factor, got NaN/]],
      ['channelMean([])', () => data.channelMean([]), DataError, [/^channelMean: expected at least one image, got none/]],
      // was: NaN for the channels the grey image lacks
      ['channelMean of RGB and grey', () => data.channelMean([grey, rgb]), ShapeError, [/^channelMean: image 1 has 3 channels, the first had 1/]],
      ['checkPreprocessing(null)', () => data.checkPreprocessing(null), ValueError, [/^preprocessing: expected an object \{ channelOrder, range, mean, std \}, got null/]],
      ["channelOrder 'RBG'", () => data.checkPreprocessing({ ...data.TORCHVISION_PREPROCESSING, channelOrder: 'RBG' }), ValueError, [/channelOrder must be 'RGB', 'BGR' or 'gray', got "RBG"/]],
      ['applyPreprocessing of grey', () => data.applyPreprocessing(grey, data.TORCHVISION_PREPROCESSING), ShapeError, [/^applyPreprocessing: expected an RGB image of shape \[3, H, W\], got \[1, 8, 8\]/]],
    ]);
    t.end();
  });

  test('named errors: image folders and decoding', async (t) => {
    const dir = tempDir();
    try {
      throwsAll(t, [
        ['imageFolder of a missing folder', () => data.imageFolder(join(dir, 'none')), DataError, [/^imageFolder: cannot read the folder .*none: ENOENT/]],
        ['imageFolder(undefined)', () => data.imageFolder(undefined as never), ValueError, [/^imageFolder: expected a folder path \(a string\), got undefined/]],
        ['imageFolder without class folders', () => data.imageFolder(dir), DataError, [/^imageFolder: .* has no class sub-folders \(expected .*\/<class>\/<image>\)/]],
      ]);
      mkdirSync(join(dir, 'cat'));
      writeFileSync(join(dir, 'cat', 'a.png'), 'not a png');
      // was: statSync threw ENOENT for a link to nothing
      symlinkSync(join(dir, 'gone'), join(dir, 'dangling'));
      const ds = data.imageFolder(dir);
      t.deepEqual(ds.classes, ['cat'], 'a dangling link in the root is not a class, and no error');
      throwsAll(t, [
        // was: TypeError: (options.extensions ?? IMAGE_EXTENSIONS).map is not a function
        ["imageFolder extensions '.png'", () => data.imageFolder(dir, { extensions: '.png' as never }), ValueError, [/^imageFolder: expected extensions to be a non-empty array of file endings/, /got '.png' \(a string\)/]],
      ]);
      mkdirSync(join(dir, 'dog'));
      throwsNamed(t, () => data.imageFolder(dir), DataError, [/^imageFolder: no image files \(.*\) in the class folder .*dog/], 'an empty class folder');
      await rejectsAll(t, [
        ['ImageFolder.load(5)', () => ds.load(5), ValueError, [/image folder .*: index 5 is outside \[0, 1\)/]],
        ['decodeImage of a file that is not an image', () => data.decodeImage(join(dir, 'cat', 'a.png')), DataError, [/^decodeImage: cannot decode .*cat\/a.png: /]],
        ['decodeImage of a missing file', () => data.decodeImage(join(dir, 'none.jpg')), DataError, [/^decodeImage: cannot decode .*none.jpg/]],
        ['decodeImage(42)', () => data.decodeImage(42 as never), ValueError, [/^decodeImage: expected a file path \(a string\), got 42$/]],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    t.end();
  });

  test('named errors: evaluation', async (t) => {
    await setBackend('cpu');
    const model = Vgg.configA(TINY);
    const img = image(1, 40, 36);
    await rejectsAll(t, [
      ['dense with no scales', () => evaluate.dense(model, img, { scales: [] }), ValueError, [/^evaluate.dense: expected scales to be a non-empty array of sides Q, got an empty array/]],
      // was: TypeError: scales is not iterable
      ['dense with scales 256', () => evaluate.dense(model, img, { scales: 256 as never }), ValueError, [/^evaluate.dense: expected scales to be a non-empty array of sides Q, got 256/]],
      ['dense at Q 16 < inputSize', () => evaluate.dense(model, img, { scales: [16] }), ValueError, [/^evaluate.dense: expected every scale Q to be an integer of at least 32 \(the model's inputSize\), got 16/]],
      ['dense at Q 32.5', () => evaluate.dense(model, img, { scales: [32.5] }), ValueError, [/got 32.5/]],
      ['dense of an RGB image for a grey net', () => evaluate.dense(model, image(3, 40, 40)), ShapeError, [/^evaluate.dense: the model takes 1 channels, but the image has shape \[3, 40, 40\]/]],
      ['dense of a batch of 2', () => evaluate.dense(model, tensor([2, 1, 32, 32])), ShapeError, [/^evaluate.dense: expected an image Tensor of shape \[1, C, H, W\] or \[C, H, W\], got \[2, 1, 32, 32\]/]],
      ['dense of a path', () => evaluate.dense(model, 'cat.jpg' as never), ValueError, [/^evaluate.dense: expected an image ndarray \[C, H, W\] or a Tensor \[1, C, H, W\], got 'cat.jpg'/]],
      ['dense of no model', () => evaluate.dense(undefined as never, img), ValueError, [/^evaluate.dense: expected a Vgg model, got undefined/]],
      ['dense of a net whose FC6 window is even', () => evaluate.dense(Vgg.configA({ ...TINY, inputSize: 64 }), image(1, 64, 64)), ShapeError, [/^dense: VGG-A .* gives a 2×2 map to FC6 at inputSize 64; dense evaluation needs an odd square/]],
      // was: TypeError: Cannot read properties of null (reading 'scales')
      ['dense with options null', () => evaluate.dense(model, img, null as never), ValueError, [/^evaluate.dense: expected options \{ scales, flip \}, got null/]],
      ['multiCrop with options null', () => evaluate.multiCrop(model, img, null as never), ValueError, [/^evaluate.multiCrop: expected options \{ scales, flip, grid, batchSize \}, got null/]],
      ['errors with options null', () => evaluate.errors(model, [{ image: img, label: 0 }], null as never), ValueError, [/^evaluate.errors: expected options \{ protocol, .* \}, got null/]],
      ['multiCrop with no scales', () => evaluate.multiCrop(model, img, { scales: [] }), ValueError, [/^evaluate.multiCrop: expected scales to be a non-empty array/]],
      ['multiCrop grid 0', () => evaluate.multiCrop(model, img, { grid: 0 }), ValueError, [/^evaluate.multiCrop: expected a positive integer grid, got 0/]],
      ['multiCrop batchSize 0', () => evaluate.multiCrop(model, img, { batchSize: 0 }), ValueError, [/^evaluate.multiCrop: expected a positive integer batchSize, got 0/]],
      // was: no image read, and NaN error rates reported
      ['errors of an object', () => evaluate.errors(model, {} as never), DataError, [/^evaluate.errors: expected a Dataset or an array of \{ image, label \}, got an Object/]],
      ['errors of no sample', () => evaluate.errors(model, []), DataError, [/^evaluate.errors: expected at least one sample, got none/]],
      ['errors of no model', () => evaluate.errors([], [{ image: img, label: 0 }]), ValueError, [/^evaluate.errors: expected at least one model, got an empty array/]],
      ["errors protocol 'center'", () => evaluate.errors(model, [{ image: img, label: 0 }], { protocol: 'center' as never }), ValueError, [/^evaluate.errors: expected protocol 'dense', 'multicrop' or 'both', got 'center'/]],
      ['errors of a sample without a label', () => evaluate.errors(model, [{ image: img }] as never), DataError, [/^evaluate.errors: sample 0 is not \{ image, label \} with an integer label/]],
    ]);
    const x = tensor([1, 2, 8, 8]);
    throwsAll(t, [
      ['fuse([])', () => evaluate.fuse([]), ValueError, [/^fuse: expected a non-empty array of posteriors \(Float32Arrays\), got an empty array/]],
      ['fuse of two lengths', () => evaluate.fuse([Float32Array.of(1), Float32Array.of(0.5, 0.5)]), ShapeError, [/^fuse: expected posteriors of one length, got 1 and 2/]],
      ['fuse of number[]', () => evaluate.fuse([[0.5, 0.5]] as never), ValueError, [/^fuse: .*got an Array in the array/]],
      ['topK k 0', () => evaluate.topK(Float32Array.of(0.5, 0.5), 0), ValueError, [/^topK: expected a positive integer k, got 0/]],
      ['scalesFor S 32', () => evaluate.scalesFor({ S: 32 }), ValueError, [/^scalesFor: expected an integer S > 32, got 32/]],
      ['scalesFor Smin > Smax', () => evaluate.scalesFor({ Smin: 512, Smax: 256 }), ValueError, [/^scalesFor: expected integers Smin < Smax, got Smin=512, Smax=256/]],
      // was: TypeError: Cannot use 'in' operator to search for 'S' in undefined
      ['scalesFor(undefined)', () => evaluate.scalesFor(undefined as never), ValueError, [/^scalesFor: expected \{ S \} or \{ Smin, Smax \}, got undefined/]],
      ['cropGrid of 12 in 10', () => evaluate.cropGrid(10, 10, 12, 5), ValueError, [/^cropGrid: a 12×12 crop does not fit an image of 10×10/]],
      ['cropGrid grid 0', () => evaluate.cropGrid(10, 10, 4, 0), ValueError, [/^cropGrid: expected a positive integer grid, got 0/]],
      ['cropBorder -1', () => evaluate.cropBorder(x, -1), ValueError, [/^cropBorder: expected border to be an integer >= 0, got -1/]],
      ['cropBorder 4 of 8×8', () => evaluate.cropBorder(x, 4), ShapeError, [/^cropBorder: cannot cut a border of 4 off a map of shape \[1, 2, 8, 8\]/]],
      ['validConv2d of 2×2 by 3×3', () => evaluate.validConv2d(tensor([1, 2, 2, 2]), tensor([1, 2, 3, 3]), tensor([1])), ShapeError, [/^validConv2d: a 3×3 convolution needs a map of at least 3×3, got shape \[1, 2, 2, 2\]/]],
    ]);
    model.dispose();
    t.end();
  });

  test('named errors: backends, kernels, the fast path, the pool, Rng', async (t) => {
    await rejectsAll(t, [
      ["setBackend('bogus')", () => setBackend('bogus' as never), BackendError, [/^setBackend: unknown mode 'bogus' \(a string\); expected one of cpu, webasm, wasm, headlessgl, webgl2, webgpu, auto/]],
      ['setBackend()', () => setBackend(undefined as never), BackendError, [/^setBackend: unknown mode undefined/]],
      ["setBackend('webgl2') in Node", () => setBackend('webgl2'), BackendError, [/^setBackend\('webgl2'\): WebGL2 needs a browser; in Node use 'headlessgl'/]],
      ["setBackend('webgpu') in Node", () => setBackend('webgpu'), BackendError, [/^setBackend\('webgpu'\): no WebGPU adapter answered/]],
      ['initFastPath threads 0', () => initFastPath({ threads: 0 }), ValueError, [/^initFastPath: threads must be a number ≥ 1, got 0/]],
      // was: taken, and the build picked by 'auto'
      ["initFastPath simd 'sse'", () => initFastPath({ simd: 'sse' as never }), ValueError, [/^initFastPath: simd must be 'auto', 'relaxed' or 'mul\+add', got 'sse'/]],
      ["initFastPath conv3x3 'fft'", () => initFastPath({ conv3x3: 'fft' as never }), ValueError, [/^initFastPath: conv3x3 must be 'auto', 'im2col' or 'winograd', got 'fft'/]],
      ['initFastPath residentBytes -1', () => initFastPath({ residentBytes: -1 }), ValueError, [/^initFastPath: residentBytes must be a finite number ≥ 0, got -1/]],
    ]);
    await setBackend('cpu');
    // gpu.js's loops: a thread that would run past LOOP_BUDGET iterations
    await rejectsAll(t, [
      ['softmax of 40,000 classes', () => ops.softmax(tensor([1, 40000])).data(), BackendError, [/rows of 40000 classes exceed one kernel's loop budget/]],
      ['a conv of 6,000 channels', () => new nn.Conv2d(6000, 1, 3, { seed: 1 }).forward(tensor([1, 6000, 2, 2])).data(), BackendError, [/6000 channels with a 3×3 kernel exceed one kernel's loop budget \(65000 iterations\)/]],
    ]);
    const rng = new Rng(1);
    throwsAll(t, [
      ['setPoolLimit(-1)', () => setPoolLimit(-1), ValueError, [/^setPoolLimit: expected a finite number of bytes >= 0, got -1/]],
      ['setPoolLimit(NaN)', () => setPoolLimit(NaN), ValueError, [/got NaN/]],
      ["setPoolLimit('1e9')", () => setPoolLimit('1e9' as never), ValueError, [/got '1e9' \(a string\)/]],
      ['new Rng(NaN)', () => new Rng(NaN), ValueError, [/^Rng: expected a finite seed, got NaN/]],
      ["new Rng('7')", () => new Rng('7' as never), ValueError, [/^Rng: expected a finite seed, got '7' \(a string\)/]],
      // was: silently the state 0 (a checkpoint without it resumed other dropout masks)
      ['rng.state = undefined', () => { rng.state = undefined as never; }, ValueError, [/^Rng.state: expected an integer in \[0, 2\^32\) \(a state that rng.state gave\), got undefined/]],
      ['rng.state = -1', () => { rng.state = -1; }, ValueError, [/got -1/]],
    ]);
    t.end();
  });

  test('named errors: viz', async (t) => {
    const rgb = image(3, 4, 4);
    throwsAll(t, [
      ['imagesOf of 8 values for [2, 3]', () => viz.imagesOf(new Float32Array(8), [2, 3]), ShapeError, [/^viz.imagesOf: expected values of shape \[N, C, H, W\], got 8 values for \[2, 3\]/]],
      ['imagesOf of number[]', () => viz.imagesOf([1, 2] as never, [1, 1, 1, 2]), ValueError, [/^viz.imagesOf: expected values as a Float32Array \(await tensor.data\(\)\), got an Array/]],
      ['imageGrid([])', () => viz.imageGrid([]), ValueError, [/^viz.imageGrid: expected at least one image .*, got an empty array/]],
      ['imageGrid of 2 channels', () => viz.imageGrid([image(2, 4, 4)]), ShapeError, [/^viz.imageGrid: image 0 has 2 channels; expected 1 \(grey\) or 3 \(RGB\); viz.channelsOf splits it/]],
      ['imageGrid of undefined', () => viz.imageGrid([rgb, undefined as never]), ValueError, [/^viz.imageGrid: image 1 is not an ndarray \[C, H, W\]: got undefined/]],
      ['imageGrid columns 0', () => viz.imageGrid([rgb], { columns: 0 }), ValueError, [/^viz.imageGrid: expected columns to be an integer of at least 1, got 0/]],
      // was: drawn as 'each'
      ["imageGrid range 'bogus'", () => viz.imageGrid([rgb], { range: 'bogus' as never }), ValueError, [/^viz.imageGrid: expected range 'each', 'all', 'symmetric' or \[lo, hi\] with lo < hi, got 'bogus'/]],
      // was: every tile black
      ['imageGrid range [1, 0]', () => viz.imageGrid([rgb], { range: [1, 0] }), ValueError, [/got \[1, 0\]/]],
      // was: a Uint8Array fill of 300 is 44
      ['imageGrid background 300', () => viz.imageGrid([rgb], { background: 300 }), ValueError, [/^viz.imageGrid: expected background to be a byte \(an integer in \[0, 255\]\), got 300/]],
      ['channelsOf of rank 2', () => viz.channelsOf(ndarray(new Float32Array(4), [2, 2]) as never), ShapeError, [/^viz.channelsOf: image 0 is not an ndarray \[C, H, W\] \(shape \[2, 2\]\)/]],
    ]);
    await rejectsAll(t, [
      ['imageGridSvg of 2 captions for 1 image', () => viz.imageGridSvg([rgb], { captions: ['a', 'b'] }), ValueError, [/^viz.imageGridSvg: 2 captions for 1 images/]],
      ['imageGridSvg captions of numbers', () => viz.imageGridSvg([rgb], { captions: [1] as never }), ValueError, [/^viz.imageGridSvg: expected captions to be an array of strings/]],
    ]);
    t.end();
  });
}
