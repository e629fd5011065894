/**
 * DataLoader: shuffles (seeded) and batches a Dataset into [B, C, H, W] Tensors.
 *
 * The order and the augmentation of epoch e are functions of (seed, e) alone, so a run
 * resumed at an epoch boundary sees exactly the batches that an uninterrupted run sees.
 */
import { Tensor } from '../core/tensor.js';
import { Rng } from '../core/random.js';
import { permutation, type Dataset } from './array-dataset.js';
import type { Image } from './transforms.js';
import { DataError, ShapeError, ValueError, describeValue } from '../core/errors.js';
import { isNdarray } from '../core/values.js';

/** DataLoader's options; each one left out takes the value in brackets. */
export interface LoaderOptions {
  /** images per batch, a positive integer (the paper's 256, §3.1) */
  batchSize: number;
  /** a new order each epoch, drawn from `seed` and the epoch (false) */
  shuffle?: boolean;
  /** the seed of the shuffles and the transforms' generators (0) */
  seed?: number;
  /** applied to each image with the epoch's generator (augmentation, padding, ...) */
  transform?: (image: Image, rng: Rng) => Image;
  /** drop a last, smaller batch (false) */
  dropLast?: boolean;
}

/** One batch: the images stacked into a Tensor, their labels, and which samples they are. */
export interface Batch {
  /** the images, [N, C, H, W] */
  x: Tensor;
  /** their labels, one per image */
  labels: Int32Array;
  /** their indices in the dataset */
  indices: Int32Array;
}

/**
 * Batches of a Dataset, as torch.utils.data.DataLoader: shuffled per epoch from a seed, so an
 * epoch (and a resumed one) is reproducible. Bad options are a ValueError, a non-dataset a DataError.
 */
export class DataLoader {
  /** images per batch */
  readonly batchSize: number;
  /** whether each epoch has its own order */
  readonly shuffle: boolean;
  /** the seed of the shuffles and transforms */
  readonly seed: number;
  /** whether a last, smaller batch is dropped */
  readonly dropLast: boolean;
  /** applied to each image with the epoch's generator, if given */
  readonly transform?: (image: Image, rng: Rng) => Image;

  /**
   * @param dataset the samples to batch
   * @param options batch size, shuffling, seed, transform, dropLast
   */
  constructor(readonly dataset: Dataset, options: LoaderOptions) {
    if (!dataset || typeof dataset.get !== 'function' || typeof dataset.length !== 'number' || !Number.isInteger(dataset.length) || dataset.length < 0) {
      throw new DataError(`DataLoader: expected a Dataset (with length and get(i), e.g. an ArrayDataset), got ${describeValue(dataset)}`);
    }
    if (options === null || typeof options !== 'object') throw new ValueError(`DataLoader: expected options { batchSize, shuffle, seed, transform, dropLast }, got ${describeValue(options)}`);
    const { batchSize, shuffle = false, seed = 0, transform, dropLast = false } = options;
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`DataLoader: expected a positive integer batchSize, got ${describeValue(batchSize)}`);
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ValueError(`DataLoader: expected a finite seed, got ${describeValue(seed)}`);
    if (transform !== undefined && typeof transform !== 'function') throw new ValueError(`DataLoader: expected transform to be a function (image, rng) => image, got ${describeValue(transform)}`);
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.transform = transform;
    this.dropLast = dropLast;
  }

  /** batches per epoch */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The batches of epoch `epoch` (0-based), from batch `from` on. */
  *batches(epoch = 0, from = 0): Generator<Batch> {
    for (const [name, v] of [['epoch', epoch], ['from', from]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ValueError(`DataLoader.batches: expected ${name} to be an integer >= 0, got ${describeValue(v)}`);
    }
    const rng = new Rng(this.seed * 1_000_003 + epoch);
    const order = this.shuffle ? permutation(this.dataset.length, rng) : Int32Array.from({ length: this.dataset.length }, (_, i) => i);
    for (let b = 0; b < this.length; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      // the augmentation of a batch depends on (seed, epoch, batch) only, so skipping batches keeps it exact
      const augment = new Rng((this.seed * 1_000_003 + epoch) * 65_537 + b);
      if (b < from) continue;
      const images = Array.from(indices, (i) => {
        const { image } = this.dataset.get(i);
        const out = this.transform ? this.transform(image, augment) : image;
        if (!isNdarray(out) || out.shape.length !== 3) {
          throw new DataError(`DataLoader: image ${i} is ${out?.shape ? `of shape [${out.shape.join(', ')}]` : describeValue(out)}${this.transform ? ' after the transform' : ''}, expected an image ndarray [C, H, W]`);
        }
        return out;
      });
      const [C, H, W] = images[0].shape;
      const per = C * H * W;
      const data = new Float32Array(indices.length * per);
      images.forEach((img, k) => {
        if (img.shape[0] !== C || img.shape[1] !== H || img.shape[2] !== W) {
          throw new ShapeError(`DataLoader: image ${indices[k]} has shape [${img.shape.join(', ')}] after the transform, expected [${C}, ${H}, ${W}] like the first of its batch`);
        }
        let o = k * per;
        for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[o++] = img.get(c, y, x);
      });
      const labels = Int32Array.from(indices, (i) => this.dataset.get(i).label);
      yield { x: Tensor.from(data, [indices.length, C, H, W]), labels, indices: Int32Array.from(indices) };
    }
  }
}
