/**
 * The test protocols of §3.2 and §4 (lib/eval), on the 'wasm' mode, with width-reduced
 * nets (conv widths ×1/16, FC 32, 10 classes) of the full geometry (inputSize 224):
 *  1. on a 224×224 input, the fully convolutional net's score map is 1×1 and equals the FC
 *     net's scores (FC6 as a 7×7 conv; also as a 1×1 conv at inputSize 32);
 *  2. its score map is 2×2, 6×6 and 10×10 at Q = 256, 384 and 512, as a full-size VGG's;
 *  3. the crop grid and the flips on known pixels; multi-crop's centre crop is the FC net;
 *  4. dense's flip and scale averaging, scalesFor, fuse, topK;
 *  5. top-1 / top-5 errors of dense, multi-crop and combined, for one net and fused nets.
 * Tolerance: the dense scores against the FC net's, max|dense − fc| / max|fc| < 1e-4
 * (float32 sums of up to 1,568 terms in a different order); posteriors built from the
 * same numbers are compared to 1e-6.
 */
import test from 'tape';
import ndarray from 'ndarray';
import { setBackend } from '../lib/core/backend.js';
import { Tensor, noGrad, tidy, memory } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import * as data from '../lib/data/index.js';
import * as evaluate from '../lib/eval/index.js';
import { Vgg, type VggOptions } from '../lib/models/vgg.js';
import { randomArray } from './helpers.js';

const NARROW: VggOptions = { widthMultiplier: 1 / 16, fcWidth: 32, numClasses: 10, init: 'glorot', seed: 1 };

/** a random image [C, H, W] with values in [−1, 1] */
function randomImage(C: number, H: number, W: number, seed: number): data.Image {
  return ndarray(randomArray(C * H * W, seed), [C, H, W]);
}

/** max |a − b| / max |b| */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** the dense score map of x, in eval mode */
async function scoreMap(model: Vgg, x: Tensor): Promise<{ map: Float32Array; shape: readonly number[] }> {
  model.eval();
  return tidy(() => noGrad(async () => {
    const map = evaluate.denseScoreMap(model, x);
    return { map: await map.data(), shape: map.shape };
  }));
}

/** the FC net's scores of x, in eval mode */
function fcScores(model: Vgg, x: Tensor): Promise<Float32Array> {
  model.eval();
  return tidy(() => noGrad(() => model.forward(x).data()));
}

export function registerEvalTests(): void {
  test('evaluate.denseScoreMap: on a 224×224 input the score map is 1×1 and equals the FC net (FC6 as a 7×7 conv); at inputSize 32 FC6 is a 1×1 conv', async (t) => {
    await setBackend('wasm');
    const model = Vgg.configA(NARROW);
    t.equal(evaluate.fc6Window(model), 7, 'FC6 sees a 7×7 window at inputSize 224');
    const x = Tensor.from(randomArray(3 * 224 * 224, 11), [1, 3, 224, 224]);
    const [{ map, shape }, fc] = [await scoreMap(model, x), await fcScores(model, x)];
    t.deepEqual(shape, [1, 10, 1, 1], 'score map [1, 10, 1, 1]');
    const err = relativeError(map, fc);
    t.ok(err < 1e-4, `dense scores equal the FC net's: relative error ${err.toExponential(2)} < 1e-4 (scores up to ${Math.max(...fc.map(Math.abs)).toExponential(2)})`);
    model.train();
    const posterior = await evaluate.dense(model, x, { scales: [224], flip: false });
    const softmax = await ops.softmax(Tensor.from(fc, [1, 10])).data();
    t.ok(maxAbsDiff(posterior, softmax) < 1e-6, `evaluate.dense at Q = 224 without flip is the FC net's softmax (largest difference ${maxAbsDiff(posterior, softmax).toExponential(2)})`);
    t.ok(Math.abs(posterior.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the posteriors sum to 1');
    t.equal(model.training, true, 'dense() leaves the model in the mode it found it');
    model.dispose();
    x.dispose();

    const small = Vgg.configA({ ...NARROW, inputSize: 32 });
    t.equal(evaluate.fc6Window(small), 1, 'FC6 sees a 1×1 window at inputSize 32');
    const x32 = Tensor.from(randomArray(3 * 32 * 32, 12), [1, 3, 32, 32]);
    const [r, fc32] = [await scoreMap(small, x32), await fcScores(small, x32)];
    t.deepEqual(r.shape, [1, 10, 1, 1], 'score map [1, 10, 1, 1] at inputSize 32');
    t.ok(relativeError(r.map, fc32) < 1e-4, `the same scores as the FC net: relative error ${relativeError(r.map, fc32).toExponential(2)}`);
    const big = await scoreMap(small, Tensor.from(randomArray(3 * 64 * 96, 13), [1, 3, 64, 96]));
    t.deepEqual(big.shape, [1, 10, 2, 3], 'a 64×96 input gives a 2×3 map at inputSize 32 (one position per 32 pixels)');
    small.dispose();
    x32.dispose();
  });

  test('evaluate.denseScoreMap: a full-geometry VGG\'s score map is 2×2, 6×6 and 10×10 at Q = 256, 384 and 512', async (t) => {
    await setBackend('wasm');
    const model = Vgg.configA(NARROW).eval();
    const before = memory().tensors;
    for (const [Q, side] of [[256, 2], [384, 6], [512, 10]]) {
      const shape = await tidy(() => noGrad(async () => {
        const map = evaluate.denseScoreMap(model, Tensor.from(randomArray(3 * Q * Q, Q), [1, 3, Q, Q]));
        await map.data();
        return map.shape;
      }));
      t.deepEqual(shape, [1, 10, side, side], `Q = ${Q}: (${Q}/32) − 7 + 1 = ${side}, score map ${side}×${side}`);
    }
    t.equal(memory().tensors, before, 'no tensor is left behind (the weight views included)');
    // a 3×100×150 image rescaled to Q = 256 is 256×384: a 2×6 map
    const posterior = await evaluate.dense(model, randomImage(3, 100, 150, 14), { scales: [256] });
    t.equal(posterior.length, 10, 'a non-square image rescaled to Q = 256 gives 10 posteriors');
    t.throws(() => evaluate.denseScoreMap(model, Tensor.from(randomArray(3 * 192 * 192, 15), [1, 3, 192, 192])), /smaller than its 7×7 window/, 'an input below inputSize is refused');
    model.dispose();
  });

  test('evaluate.cropGrid / cropViews: the 5×5 grid and the flips on known pixels', async (t) => {
    // pixel (c, y, x) holds c·10⁶ + y·1000 + x
    const [C, H, W] = [2, 256, 320];
    const img = ndarray(Float32Array.from({ length: C * H * W }, (_, i) => {
      const c = Math.floor(i / (H * W)), y = Math.floor((i % (H * W)) / W), x = i % W;
      return c * 1e6 + y * 1000 + x;
    }), [C, H, W]);
    const grid = evaluate.cropGrid(H, W, 224, 5);
    t.equal(grid.length, 25, '25 positions');
    t.deepEqual([...new Set(grid.map((p) => p.top))], [0, 8, 16, 24, 32], 'tops: 0 … H − 224 = 32 in 4 equal steps');
    t.deepEqual([...new Set(grid.map((p) => p.left))], [0, 24, 48, 72, 96], 'lefts: 0 … W − 224 = 96 in 4 equal steps');
    t.deepEqual([grid[0], grid[4], grid[20], grid[24]], [{ top: 0, left: 0 }, { top: 0, left: 96 }, { top: 32, left: 0 }, { top: 32, left: 96 }], 'the four corners');
    t.deepEqual(grid[12], { top: 16, left: 48 }, 'the centre is the centre crop');
    t.deepEqual(evaluate.cropGrid(H, W, 224, 1), [{ top: 16, left: 48 }], 'a 1×1 grid is the centre crop');

    const views = evaluate.cropViews(img, 224, 5, true);
    t.equal(views.length, 50, '25 crops × 2 flips');
    const pixel = (v: evaluate.CropView, c: number, y: number, x: number) => v.image.get(c, y, x);
    let cropsRight = true, mirrorsRight = true;
    for (let n = 0; n < views.length; n += 2) {
      const [plain, flipped] = [views[n], views[n + 1]];
      cropsRight &&= !plain.flipped && flipped.flipped && plain.top === flipped.top && plain.left === flipped.left;
      for (const [c, y, x] of [[0, 0, 0], [1, 0, 223], [0, 223, 0], [1, 223, 223], [0, 100, 37]]) {
        cropsRight &&= pixel(plain, c, y, x) === c * 1e6 + (plain.top + y) * 1000 + plain.left + x;
        mirrorsRight &&= pixel(flipped, c, y, x) === pixel(plain, c, y, 223 - x);
      }
    }
    t.ok(cropsRight, 'every crop view (c, y, x) is the image at (c, top + y, left + x), corners included');
    t.ok(mirrorsRight, 'every flipped view (c, y, x) is its crop at (c, y, 223 − x)');
    const bottomRight = views[48];
    t.deepEqual([bottomRight.top, bottomRight.left, pixel(bottomRight, 0, 223, 223)], [32, 96, 255 * 1000 + 319], 'the bottom-right crop ends at the image\'s last pixel');
    t.equal(pixel(views[49], 0, 0, 0), 32 * 1000 + 319, 'its mirror starts with the top-right pixel of the crop');
    t.equal(evaluate.cropViews(img, 224, 3, false).length, 9, 'a 3×3 grid without flips: 9 views');
    t.throws(() => evaluate.cropGrid(200, 320, 224, 5), /does not fit/, 'a crop larger than the image is refused');
    t.end();
  });

  test('evaluate.multiCrop: the centre crop of a 224 image is the FC net; the views\' posteriors are averaged', async (t) => {
    await setBackend('wasm');
    const model = Vgg.configA(NARROW);
    const img = randomImage(3, 224, 224, 21);
    const fc = await tidy(() => noGrad(() => ops.softmax(model.eval().forward(Tensor.from(img.data, [1, 3, 224, 224]))).data()));
    model.train();
    const centre = await evaluate.multiCrop(model, img, { scales: [224], grid: 1, flip: false });
    t.ok(maxAbsDiff(centre, fc) < 1e-6, `one view at Q = 224: the FC net's posteriors (largest difference ${maxAbsDiff(centre, fc).toExponential(2)})`);

    const wide = randomImage(3, 240, 260, 22);
    const got = await evaluate.multiCrop(model, wide, { scales: [224, 240], grid: 2, batchSize: 3 });
    const each: Float32Array[] = [];
    for (const Q of [224, 240]) {
      for (const v of evaluate.cropViews(data.rescale(wide, Q), 224, 2, true)) {
        each.push(await evaluate.multiCrop(model, data.materialize(v.image), { scales: [224], grid: 1, flip: false }));
      }
    }
    t.equal(each.length, 16, '2 scales × 2×2 grid × 2 flips = 16 views');
    t.ok(maxAbsDiff(got, evaluate.fuse(each)) < 1e-6, `the mean of the 16 views' posteriors (batches of 3; largest difference ${maxAbsDiff(got, evaluate.fuse(each)).toExponential(2)})`);
    t.equal(model.training, true, 'multiCrop() leaves the model in training mode as it found it');
    model.dispose();
  });

  test('evaluate.dense averages the flip and the scales; scalesFor, fuse and topK', async (t) => {
    await setBackend('wasm');
    const model = Vgg.configA(NARROW);
    const img = randomImage(3, 230, 250, 31);
    const both = await evaluate.dense(model, img, { scales: [224, 256] });
    const parts: Float32Array[] = [];
    for (const Q of [224, 256]) {
      const scaled = data.rescale(img, Q);
      parts.push(await evaluate.dense(model, scaled, { scales: [Q], flip: false }));
      parts.push(await evaluate.dense(model, data.materialize(data.horizontalFlip(scaled)), { scales: [Q], flip: false }));
    }
    t.ok(maxAbsDiff(both, evaluate.fuse(parts)) < 1e-6, `dense with flip at Q ∈ {224, 256} is the mean of the 4 single posteriors (largest difference ${maxAbsDiff(both, evaluate.fuse(parts)).toExponential(2)})`);
    t.ok(maxAbsDiff(parts[0], parts[1]) > 0, 'the flipped image gives other posteriors');
    const asTensor = await evaluate.dense(model, Tensor.from(img.data, [1, 3, 230, 250]), { scales: [224, 256] });
    t.deepEqual([...asTensor], [...both], 'a Tensor [1, C, H, W] gives the same posteriors as the ndarray');
    await evaluate.dense(model, randomImage(1, 224, 224, 32)).then(() => t.fail('expected an error'), (e: Error) => t.ok(/3 channels/.test(e.message), `a 1-channel image: ${e.message}`));
    await evaluate.dense(model, img, { scales: [200] }).then(() => t.fail('expected an error'), (e: Error) => t.ok(/at least 224/.test(e.message), `Q below inputSize: ${e.message}`));
    model.dispose();

    t.deepEqual(evaluate.scalesFor({ S: 256 }), [224, 256, 288], 'S = 256: Q ∈ {224, 256, 288} (Table 4)');
    t.deepEqual(evaluate.scalesFor({ S: 384 }), [352, 384, 416], 'S = 384: Q ∈ {352, 384, 416}');
    t.deepEqual(evaluate.scalesFor({ Smin: 256, Smax: 512 }), [256, 384, 512], 'S ∈ [256, 512]: Q ∈ {256, 384, 512}');
    t.throws(() => evaluate.scalesFor({ Smin: 512, Smax: 256 }), /Smin < Smax/, 'Smin > Smax is refused');
    t.deepEqual([...evaluate.fuse([Float32Array.of(0.2, 0.8), Float32Array.of(0.6, 0.4)])].map((v) => +v.toFixed(6)), [0.4, 0.6], 'fuse: the mean, class by class');
    t.throws(() => evaluate.fuse([Float32Array.of(1), Float32Array.of(0.5, 0.5)]), /one length/, 'fuse refuses posteriors of different lengths');
    const p = Float32Array.of(0.1, 0.3, 0.05, 0.3, 0.25);
    t.deepEqual(evaluate.topK(p, 3), [1, 3, 4], 'topK: best first, ties to the lower class');
    t.deepEqual(evaluate.topK(p, 9), [1, 3, 4, 0, 2], 'topK with k > classes gives every class');
    t.end();
  });

  test('evaluate.errors: top-1 / top-5 error of dense, multi-crop and combined, for one net and two fused nets', async (t) => {
    await setBackend('wasm');
    const nets = [Vgg.configA(NARROW), Vgg.configA({ ...NARROW, seed: 2 })];
    const options = { scales: [224, 240], grid: 2 };
    const images = [randomImage(3, 224, 240, 41), randomImage(3, 250, 224, 42), randomImage(3, 230, 230, 43)];
    // expected: from the public per-image functions (one at a time: tidy scopes must not interleave)
    const per = async (f: typeof evaluate.dense | typeof evaluate.multiCrop, img: data.Image) => {
      const each: Float32Array[] = [];
      for (const n of nets) each.push(await f(n, img, options));
      return evaluate.fuse(each);
    };
    const dense: Float32Array[] = [], multi: Float32Array[] = [];
    for (const img of images) {
      dense.push(await per(evaluate.dense, img));
      multi.push(await per(evaluate.multiCrop, img));
    }
    // labels: image 0 the dense top-1, image 1 the dense 5th, image 2 the dense last class
    const labels = [evaluate.topK(dense[0], 1)[0], evaluate.topK(dense[1], 5)[4], evaluate.topK(dense[2], 10)[9]];
    const samples = images.map((image, i) => ({ image, label: labels[i] }));
    const rate = (posteriors: Float32Array[]) => ({
      top1: posteriors.filter((p, i) => evaluate.topK(p, 1)[0] !== labels[i]).length / 3,
      top5: posteriors.filter((p, i) => !evaluate.topK(p, 5).includes(labels[i])).length / 3,
    });
    const progress: number[] = [];
    const report = await evaluate.errors(nets, samples, { ...options, protocol: 'both', onProgress: (done) => progress.push(done) });
    t.deepEqual(report.dense, { top1: 2 / 3, top5: 1 / 3 }, 'dense, two nets fused: top-1 error 2/3, top-5 error 1/3 (labels chosen by rank)');
    t.deepEqual(report.multicrop, rate(multi), `multi-crop: ${JSON.stringify(report.multicrop)}`);
    t.deepEqual(report.combined, rate(multi.map((m, i) => evaluate.fuse([dense[i], m]))), `combined (the mean of dense and multi-crop): ${JSON.stringify(report.combined)}`);
    t.equal(report.images, 3, 'three images');
    t.deepEqual(progress, [1, 2, 3], 'onProgress after each image');

    const one = await evaluate.errors(nets[0], samples, { scales: [224], flip: false });
    t.deepEqual(Object.keys(one).sort(), ['dense', 'images'], "the default protocol is 'dense' and reports dense only");
    const direct: Float32Array[] = [];
    for (const img of images) direct.push(await evaluate.dense(nets[0], img, { scales: [224], flip: false }));
    t.deepEqual(one.dense, rate(direct), `one net: ${JSON.stringify(one.dense)}`);
    await evaluate.errors(nets, samples, { protocol: 'crops' as evaluate.Protocol }).then(() => t.fail('expected an error'), (e: Error) => t.ok(/protocol/.test(e.message), `an unknown protocol: ${e.message}`));
    nets.forEach((n) => n.dispose());
  });
}
