/**
 * The Dataset interface and ArrayDataset, images in one Float32Array: the in-memory sets
 * that every loader, trainer and evaluation reads. Plain TypeScript (no Node modules), so
 * that browsers can use them too; the named datasets that read files are in datasets.ts.
 */
import ndarray from 'ndarray';
import { Rng } from '../random.js';
import type { Image } from './transforms.js';

export interface Sample {
  image: Image;
  label: number;
}

export interface Dataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  /** [C, H, W] of every image */
  readonly imageShape: readonly [number, number, number];
  get(i: number): Sample;
}

/** Images in one Float32Array [N, C, H, W] with Int32 labels; `get` returns views. */
export class ArrayDataset implements Dataset {
  readonly length: number;

  constructor(readonly name: string, readonly images: Float32Array, readonly labels: Int32Array,
    readonly imageShape: readonly [number, number, number], readonly numClasses: number) {
    const per = imageShape[0] * imageShape[1] * imageShape[2];
    if (images.length !== labels.length * per) {
      throw new Error(`ArrayDataset '${name}': ${images.length} pixel values for ${labels.length} images of [${imageShape.join(', ')}]`);
    }
    this.length = labels.length;
  }

  get(i: number): Sample {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new Error(`${this.name}: index ${i} is outside [0, ${this.length})`);
    const per = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    return { image: ndarray(this.images.subarray(i * per, (i + 1) * per), [...this.imageShape]), label: this.labels[i] };
  }

  /** The samples at `indices`, as a new dataset (copies). */
  subset(name: string, indices: ArrayLike<number>): ArrayDataset {
    const per = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const images = new Float32Array(indices.length * per);
    const labels = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      images.set(this.images.subarray(indices[k] * per, (indices[k] + 1) * per), k * per);
      labels[k] = this.labels[indices[k]];
    }
    return new ArrayDataset(name, images, labels, this.imageShape, this.numClasses);
  }
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
