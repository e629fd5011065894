/**
 * The preprocessing a set of weights expects, as an explicit object.
 *
 * Images come out of decodeImage as RGB in [0, 1]. A network was trained on pixels in one
 * channel order and range, normalised per channel:
 *
 *   out[c] = (pixel[order[c]] · range − mean[c]) / std[c]
 *
 * with mean and std given in the network's channel order and range. The two presets:
 *  - torchvision's weights: RGB in [0, 1], ImageNet's mean and std;
 *  - the paper's Caffe weights (§2.1: "subtracting the mean RGB value, computed on the
 *    training set"): BGR in [0, 255], mean subtraction only (std 1).
 *
 * Weights files carry their preprocessing as JSON under the safetensors metadata key
 * 'preprocessing' (io.saveSafetensors / io.loadSafetensors).
 */
import ndarray from 'ndarray';
import type { Image } from './transforms.js';
import { ShapeError, ValueError } from '../core/errors.js';

/** The channel order, range and per-channel normalisation a network's inputs take (see the header); checkPreprocessing checks one. */
export interface Preprocessing {
  /** the network's channel order; 'gray' is one channel of luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) */
  channelOrder: 'RGB' | 'BGR' | 'gray';
  /** the network's pixel range */
  range: '0-1' | '0-255';
  /** per channel, in the network's order and range */
  mean: number[];
  /** per channel, in the network's order and range */
  std: number[];
}

/** torchvision's pretrained weights: RGB in [0, 1], normalised by ImageNet's per-channel mean and std. */
export const TORCHVISION_PREPROCESSING: Preprocessing = {
  channelOrder: 'RGB', range: '0-1', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
};

/** The paper's released Caffe weights (§2.1): BGR in [0, 255], less the training set's mean (std 1). */
export const CAFFE_VGG_PREPROCESSING: Preprocessing = {
  channelOrder: 'BGR', range: '0-255', mean: [103.939, 116.779, 123.68], std: [1, 1, 1],
};

/** Checks a preprocessing object (e.g. parsed from a file's metadata); returns a clean copy. */
export function checkPreprocessing(p: unknown, where = 'preprocessing'): Preprocessing {
  const o = p as Partial<Preprocessing> | null;
  const problems: string[] = [];
  if (!o || typeof o !== 'object') throw new ValueError(`${where}: expected an object { channelOrder, range, mean, std }, got ${JSON.stringify(p)}`);
  if (o.channelOrder !== 'RGB' && o.channelOrder !== 'BGR' && o.channelOrder !== 'gray') problems.push(`channelOrder must be 'RGB', 'BGR' or 'gray', got ${JSON.stringify(o.channelOrder)}`);
  const channels = o.channelOrder === 'gray' ? 1 : 3;
  if (o.range !== '0-1' && o.range !== '0-255') problems.push(`range must be '0-1' or '0-255', got ${JSON.stringify(o.range)}`);
  for (const key of ['mean', 'std'] as const) {
    const v = o[key];
    if (!Array.isArray(v) || v.length !== channels || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) problems.push(`${key} must be ${channels} finite numbers, got ${JSON.stringify(v)}`);
  }
  if (Array.isArray(o.std) && o.std.some((s) => s === 0)) problems.push('std must not be 0');
  if (problems.length) throw new ValueError(`${where}: ${problems.join('; ')}`);
  return { channelOrder: o.channelOrder!, range: o.range!, mean: [...o.mean!], std: [...o.std!] };
}

/** A dense [3, H, W] (or [1, H, W] for 'gray') copy of an RGB [0, 1] image, in the order, range and normalisation of `p`. */
export function applyPreprocessing(img: Image, p: Preprocessing): Image {
  if (img?.shape?.length !== 3 || img.shape[0] !== 3) throw new ShapeError(`applyPreprocessing: expected an RGB image of shape [3, H, W], got ${img?.shape ? `[${img.shape.join(', ')}]` : typeof img}`);
  const { channelOrder, range, mean, std } = checkPreprocessing(p, 'applyPreprocessing');
  const [, H, W] = img.shape;
  const scale = range === '0-255' ? 255 : 1;
  if (channelOrder === 'gray') {
    const grey = ndarray(new Float32Array(H * W), [1, H, W]);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const luma = 0.299 * img.get(0, y, x) + 0.587 * img.get(1, y, x) + 0.114 * img.get(2, y, x);
        grey.set(0, y, x, (luma * scale - mean[0]) / std[0]);
      }
    }
    return grey;
  }
  const out = ndarray(new Float32Array(3 * H * W), [3, H, W]);
  for (let c = 0; c < 3; c++) {
    const source = channelOrder === 'BGR' ? 2 - c : c;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) out.set(c, y, x, (img.get(source, y, x) * scale - mean[c]) / std[c]);
    }
  }
  return out;
}
