/**
 * The Fashion-MNIST side of examples/pytorch-ddp that export.ts and evaluate.ts share: the
 * preprocessing `verydeep train --data fashion-mnist` gives its weights, the test set alone
 * (without reading the 60,000 training images), and the transform that feeds a 28×28 image
 * to a net under a file's preprocessing.
 *
 * The preprocessing is stored in the weights file ('preprocessing' metadata) and read from
 * there by both sides (vgg_torch.py's normalise is the same arithmetic), so the two sides
 * agree whatever the mean is; computing it as the trainer does only makes an exported net
 * expect what a verydeep-trained one expects.
 */
import { join } from 'node:path';
import { data } from '../../lib/index.js';
import { fashionMnistSplit, missingFashionMnistFiles } from '../../lib/data/datasets.js';
import { PIXEL_SCALE } from '../../lib/train/run.js';
import type { Preprocessing } from '../../lib/data/preprocess.js';
import type { Image } from '../../lib/data/transforms.js';
import { DataError } from '../../lib/core/errors.js';
import ndarray from 'ndarray';
import { existsSync, readFileSync } from 'node:fs';

export const FASHION_MNIST_DIR = data.FASHION_MNIST_DIR;

/** a DataError naming the files that `dir` lacks, for the examples' commands */
export function checkFashionMnist(where: string, dir = FASHION_MNIST_DIR): void {
  const missing = missingFashionMnistFiles(dir);
  if (missing.length) {
    throw new DataError(`${where}: Fashion-MNIST is not in ${dir} (${missing.join(', ')}, .gz or plain, missing); ` +
      "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass --data <folder>");
  }
}

/**
 * The preprocessing verydeep's trainer stores with Fashion-MNIST weights (lib/train/run.ts):
 * one grey channel in [0, 255], the mean intensity of its 55,000 training images (the
 * 60,000 less the 5,000 that fashionMnistSplit holds out) subtracted, std 1.
 */
export function trainerPreprocessing(dir = FASHION_MNIST_DIR): Preprocessing {
  checkFashionMnist('trainerPreprocessing', dir);
  const kept = fashionMnistSplit(dir).train;
  const mean = data.channelMean(Array.from({ length: kept.length }, (_, i) => kept.get(i).image)).map((m) => m * PIXEL_SCALE);
  return { channelOrder: 'gray', range: '0-255', mean, std: [1] };
}

/** Fashion-MNIST's 10,000 test images, pixels in [0, 1] as data.fashionMnist gives them. */
export function fashionMnistTest(dir = FASHION_MNIST_DIR): data.ArrayDataset {
  checkFashionMnist('fashionMnistTest', dir);
  const file = (f: string) => [join(dir, `${f}.gz`), join(dir, f)].find((p) => existsSync(p))!;
  const images = data.readIdx(readFileSync(file('t10k-images-idx3-ubyte')), 't10k-images-idx3-ubyte');
  const labels = data.readIdx(readFileSync(file('t10k-labels-idx1-ubyte')), 't10k-labels-idx1-ubyte');
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return new data.ArrayDataset('fashion-mnist (test)', pixels, Int32Array.from(labels.data), [1, images.shape[1], images.shape[2]], 10);
}

/**
 * A 28×28 grey image [1, 28, 28] in [0, 1] as the net sees it under `p`: zero-padded,
 * centred, to size×size, taken in p's range, the mean subtracted and divided by the std.
 * With std 1 these are the trainer's own steps (pad, scale, subtractMean), rounding to
 * float32 where they do.
 */
export function fashionTransform(p: Preprocessing, size: number): (img: Image) => Image {
  if (p.channelOrder !== 'gray') throw new DataError(`fashionTransform: Fashion-MNIST is grey; these weights expect ${p.channelOrder} images`);
  const range = p.range === '0-255' ? 255 : 1;
  const [mean, std] = [p.mean[0], p.std[0]];
  return (img: Image) => {
    const padded = data.pad(img, size);
    const out = ndarray(new Float32Array(size * size), [1, size, size]);
    const src = padded.data as Float32Array, dst = out.data as Float32Array;
    for (let i = 0; i < dst.length; i++) dst[i] = (Math.fround(src[i] * range) - mean) / std;
    return out;
  };
}
