/**
 * A whole training run from plain options (the CLI's `verydeep train`): datasets,
 * transforms, the model, `fit`, and for Fashion-MNIST a final test-set evaluation.
 *
 * Data (§3.1, scaled to 28×28 digits): the image is zero-padded to the input size, the
 * pixels are taken in [0, 255] and the training set's mean intensity is subtracted (§2.1:
 * "the only pre-processing we do is subtracting the mean RGB value", on the 0–255 pixels
 * of the authors' Caffe set-up; with Glorot's init, this input scale is what lets an
 * 11-layer net without normalisation start learning at lr 10⁻²), and with augmentation on,
 * training images are padded 2 pixels more and randomly cropped (small translations).
 * Flips are off by default (digits and characters are not mirror-symmetric); `flip` turns them on
 * (for clothing).
 */
import { Rng } from '../random.js';
import { Vgg } from '../models/vgg.js';
import { join } from 'node:path';
import { mnist, fashionMnist, permutation, FASHION_MNIST_CLASSES, type ArrayDataset } from '../data/datasets.js';
import type { Preprocessing } from '../data/preprocess.js';
import { saveSafetensors } from '../io/model.js';
import { writeFileAtomic } from '../io/atomic.js';
import { pad, randomCrop, randomFlip, subtractMean, channelMean, scale, type Image } from '../data/transforms.js';

/** datasets hold pixels in [0, 1]; the network sees them in [0, 255] as in the paper's Caffe set-up */
export const PIXEL_SCALE = 255;
import { setBackend, type BackendRequest } from '../backend.js';
import { fit, evaluate, type FitResult, type Metrics } from './trainer.js';
import type { InitScheme } from '../nn/init.js';

export interface RunOptions {
  config: string;
  data: 'mnist' | 'fashion-mnist';
  width: number;
  input: number;
  fcWidth: number;
  dropout: number;
  init: InitScheme;
  epochs: number;
  batch: number;
  microBatch?: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  patience: number;
  seed: number;
  out?: string;
  resume: boolean;
  augment: boolean;
  /** random horizontal flips of training images (label-preserving for clothing, not for digits) */
  flip: boolean;
  backend: BackendRequest;
  /** train on the first N training images only (quick runs) */
  limit?: number;
  interactive?: boolean;
  log?: (line: string) => void;
}

export const RUN_DEFAULTS: RunOptions = {
  config: 'A', data: 'mnist', width: 0.25, input: 32, fcWidth: 256, dropout: 0.5, init: 'glorot', epochs: 12, batch: 64,
  lr: 0.01, momentum: 0.9, weightDecay: 5e-4, patience: 1, seed: 1, resume: false, augment: true, flip: false, backend: 'auto',
};

export interface RunResult extends FitResult {
  /** the test set (Fashion-MNIST), one view per image */
  test?: Metrics;
  /** the test set with each image's posteriors averaged with its mirror's (§3.2), for a run trained with flips */
  testFlip?: Metrics;
  backend: string;
}

function loadData(o: RunOptions): { train: ArrayDataset; validation: ArrayDataset; test?: ArrayDataset } {
  if (o.data === 'mnist') return mnist();
  if (o.data === 'fashion-mnist') {
    const { train, test } = fashionMnist();
    // hold out a fixed 5,000 training images for the schedule; the test set stays unseen until the end
    const order = permutation(train.length, new Rng(1409));
    return { train: train.subset('fashion-mnist (train)', order.subarray(5000)), validation: train.subset('fashion-mnist (validation)', order.subarray(0, 5000)), test };
  }
  throw new Error(`train: expected --data mnist or fashion-mnist, got '${String(o.data)}'`);
}

export async function runTraining(options: Partial<RunOptions>): Promise<RunResult> {
  const o = { ...RUN_DEFAULTS, ...options };
  const log = o.log ?? ((line: string) => console.log(line));
  const info = await setBackend(o.backend);
  log(`backend: ${info.mode} (${info.reason})`);
  let { train, validation, test } = loadData(o);
  if (o.limit) train = train.subset(`${train.name}, first ${o.limit}`, Int32Array.from({ length: Math.min(o.limit, train.length) }, (_, i) => i));
  const [C, H] = train.imageShape;
  if (o.input < H) throw new Error(`train: --input ${o.input} is smaller than the ${H}×${H} images`);
  const mean = channelMean(Array.from({ length: train.length }, (_, i) => train.get(i).image)).map((m) => m * PIXEL_SCALE);
  const toPixels = (img: Image) => scale(img, PIXEL_SCALE);
  const evalTransform = (img: Image) => subtractMean(toPixels(pad(img, o.input)), mean);
  const place = o.augment ? (img: Image, rng: Rng) => randomCrop(pad(img, o.input + 4), o.input, rng) : (img: Image) => pad(img, o.input);
  const trainTransform = o.augment || o.flip
    ? (img: Image, rng: Rng) => subtractMean(toPixels(place(o.flip ? randomFlip(img, rng) : img, rng)), mean)
    : evalTransform;
  const model = Vgg.config(o.config, {
    numClasses: train.numClasses, inputSize: o.input, inputChannels: C, widthMultiplier: o.width,
    fcWidth: o.fcWidth, dropout: o.dropout, init: o.init, seed: o.seed,
  });
  log(`${model.describe()}: ${model.parameterCount().toLocaleString('en-US')} parameters; ${train.length} training and ${validation.length} validation images`);
  const result = await fit({
    model, trainSet: train, validationSet: validation, epochs: o.epochs, batchSize: o.batch, microBatchSize: o.microBatch,
    lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, patience: o.patience, seed: o.seed, outDir: o.out,
    resume: o.resume, trainTransform, evalTransform, log, interactive: o.interactive, config: { ...o, log: undefined },
  });
  if (o.out) {
    // weights for `verydeep classify` / `eval`: with the preprocessing the net was trained on
    const preprocessing: Preprocessing = { channelOrder: C === 1 ? 'gray' : 'RGB', range: '0-255', mean, std: mean.map(() => 1) };
    await saveSafetensors(model, join(o.out, 'model.safetensors'), { preprocessing });
    const names = o.data === 'fashion-mnist' ? FASHION_MNIST_CLASSES : Array.from({ length: 10 }, (_, d) => `digit ${d}`);
    await writeFileAtomic(join(o.out, 'labels.txt'), names.join('\n') + '\n');
    log(`wrote ${join(o.out, 'model.safetensors')} (weights and preprocessing) and labels.txt`);
  }
  const out: RunResult = { ...result, backend: info.mode };
  if (test) {
    out.test = await evaluate(model, test, { transform: evalTransform });
    log(`test set (${test.length} images): top-1 ${(out.test.top1 * 100).toFixed(2)}%, top-5 ${(out.test.top5 * 100).toFixed(2)}%`);
    if (o.flip) {
      // a net trained on mirrored images can be tested on them too: §3.2 averages the two posteriors
      out.testFlip = await evaluate(model, test, { transform: evalTransform, flip: true });
      log(`test set with flips (§3.2: each image's posteriors averaged with its mirror's): top-1 ${(out.testFlip.top1 * 100).toFixed(2)}%, top-5 ${(out.testFlip.top5 * 100).toFixed(2)}%`);
    }
  }
  model.dispose();
  return out;
}
