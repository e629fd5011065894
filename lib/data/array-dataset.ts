/**
 * The Dataset interface and ArrayDataset, images in one Float32Array: the in-memory sets
 * that every loader, trainer and evaluation reads. Plain TypeScript (no Node modules), so
 * that browsers can use them too; the named datasets that read files are in datasets.ts.
 */
import ndarray from 'ndarray';
import { Rng } from '../core/random.js';
import type { Image } from './transforms.js';
import { DataError, ShapeError, ValueError, describeValue } from '../core/errors.js';

/** One labelled image of a Dataset. */
export interface Sample {
  /** the image, an ndarray [C, H, W] */
  image: Image;
  /** its class, an integer in [0, numClasses) */
  label: number;
}

/** What DataLoader and evaluate.errors read: a fixed number of labelled images of one shape, by index. */
export interface Dataset {
  /** what messages and logs call it ('mnist/train') */
  readonly name: string;
  /** the number of samples */
  readonly length: number;
  /** the number of classes; every label is in [0, numClasses) */
  readonly numClasses: number;
  /** [C, H, W] of every image */
  readonly imageShape: readonly [number, number, number];
  /** Sample `i`, for an integer i in [0, length). */
  get(i: number): Sample;
}

/** Images in one Float32Array [N, C, H, W] with Int32 labels; `get` returns views. */
export class ArrayDataset implements Dataset {
  /** the number of images (labels.length) */
  readonly length: number;

  /**
   * @param name what messages call it
   * @param images every image's values, [N, C, H, W] row-major
   * @param labels one label per image, each in [0, numClasses) (a DataError otherwise)
   * @param imageShape [C, H, W]
   * @param numClasses the number of classes
   */
  constructor(readonly name: string, readonly images: Float32Array, readonly labels: Int32Array,
    readonly imageShape: readonly [number, number, number], readonly numClasses: number) {
    const where = `ArrayDataset '${name}'`;
    if (!(images instanceof Float32Array)) throw new ValueError(`${where}: expected images as a Float32Array [N·C·H·W], got ${describeValue(images)}`);
    if (!(labels instanceof Int32Array)) throw new ValueError(`${where}: expected labels as an Int32Array, got ${describeValue(labels)}`);
    if (!Array.isArray(imageShape) || imageShape.length !== 3 || !imageShape.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new ShapeError(`${where}: expected imageShape [C, H, W] of positive integers, got ${Array.isArray(imageShape) ? `[${imageShape.join(', ')}]` : describeValue(imageShape)}`);
    }
    if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1) throw new ValueError(`${where}: expected numClasses to be a positive integer, got ${describeValue(numClasses)}`);
    const per = imageShape[0] * imageShape[1] * imageShape[2];
    if (images.length !== labels.length * per) {
      throw new ShapeError(`${where}: ${images.length} pixel values for ${labels.length} images of [${imageShape.join(', ')}]`);
    }
    // a label past the classes would train against a class the net does not have
    const bad = labels.findIndex((l) => l < 0 || l >= numClasses);
    if (bad >= 0) throw new DataError(`${where}: label ${labels[bad]} of image ${bad} is outside the ${numClasses} classes [0, ${numClasses})`);
    this.length = labels.length;
  }

  get(i: number): Sample {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.length) throw new ValueError(`${this.name}: index ${describeValue(i)} is outside [0, ${this.length})`);
    const per = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    return { image: ndarray(this.images.subarray(i * per, (i + 1) * per), [...this.imageShape]), label: this.labels[i] };
  }

  /** The samples at `indices`, as a new dataset (copies). */
  subset(name: string, indices: ArrayLike<number>): ArrayDataset {
    // an index out of range would copy nothing and leave a black image labelled 0
    const bad = Array.prototype.findIndex.call(indices ?? [], (i: number) => !Number.isInteger(i) || i < 0 || i >= this.length);
    if (!indices || typeof indices.length !== 'number' || bad >= 0) {
      throw new ValueError(`ArrayDataset.subset of '${this.name}': expected indices in [0, ${this.length}), got ${bad >= 0 ? `${describeValue(indices[bad])} at position ${bad}` : describeValue(indices)}`);
    }
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
