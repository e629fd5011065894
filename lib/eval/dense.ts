/**
 * Dense evaluation (§3.2): the fully-connected layers become convolutions that share
 * their weights, so the whole net is convolutional and runs on the whole, uncropped image.
 *
 *   FC6 (Linear, weight [F, C·k·k]) → a k×k conv, weight [F, C, k, k]
 *   FC7 (Linear, weight [F, F])     → a 1×1 conv, weight [F, F, 1, 1]
 *   FC8 (Linear, weight [K, F])     → a 1×1 conv, weight [K, F, 1, 1]
 *
 * k is the side of the last pool's map at the model's inputSize (7 at 224, 1 at 32). The
 * flatten before FC6 orders a [C, k, k] map as c·k² + y·k + x, which is exactly the
 * row-major layout of a conv weight's [C, k, k]: the conv weights are the Linear weights
 * seen in another shape (the same storage, no copy; VGG-16's FC6 alone is 392 MiB).
 *
 * The FC layers see every k×k window of the last pool's map: a "valid" convolution. For
 * an image rescaled to smallest side Q, the map is ⌊Q/32⌋ wide, so the class score map is
 * [1, K, ⌊H/32⌋−k+1, ⌊W/32⌋−k+1]: 2×2, 6×6 and 10×10 at Q = 256, 384 and 512 (k = 7).
 * It is averaged over its positions (sum-pooled, in the paper's words) into one score
 * vector, whose softmax is the posterior. The image and its horizontal flip are averaged
 * (posteriors, not scores), then the scales Q.
 *
 * Evaluation only: no gradient flows through the crop of `validConv2d`.
 */
import { Tensor, opResult, formatShape } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { Linear, ReLU, Dropout } from '../nn/layers.js';
import type { Vgg } from '../models/vgg.js';
import { horizontalFlip } from '../data/transforms.js';
import { imageAtScales, batchOf, posteriorsOf, fuse, type EvalImage } from './posteriors.js';
import { ShapeError, ValueError, describeValue } from '../core/errors.js';

/** The options of dense evaluation (§3.2: the net applied fully-convolutionally to the whole image). */
export interface DenseOptions {
  /** the smallest image sides Q to average over (default [model.options.inputSize]; see scalesFor) */
  scales?: readonly number[];
  /** average with the horizontally flipped image (default true, §3.2) */
  flip?: boolean;
}

/**
 * The border of width `border` cut off every side of the maps of x [N, C, H, W]:
 * [N, C, H−2·border, W−2·border], y[n,c,i,j] = x[n,c,i+border,j+border]. No backward.
 */
export function cropBorder(x: Tensor, border: number): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`cropBorder: expected a Tensor [N, C, H, W], got ${describeValue(x)}`);
  if (typeof border !== 'number' || !Number.isInteger(border) || border < 0) throw new ValueError(`cropBorder: expected border to be an integer >= 0, got ${describeValue(border)}`);
  const [N, C, H, W] = x.shape;
  if (x.shape.length !== 4 || 2 * border >= Math.min(H, W)) {
    throw new ShapeError(`cropBorder: cannot cut a border of ${border} off a map of shape ${formatShape(x.shape)} ([N, C, H, W])`);
  }
  const h = H - 2 * border, w = W - 2 * border;
  return opResult('cropBorder', [N, C, h, w], [x], ([xv]) => {
    const out = new Float32Array(N * C * h * w);
    for (let plane = 0; plane < N * C; plane++) {
      for (let i = 0; i < h; i++) {
        const from = (plane * H + i + border) * W + border;
        out.set(xv.subarray(from, from + w), (plane * h + i) * w);
      }
    }
    return out;
  });
}

/**
 * A "valid" convolution (no padding, stride 1): x [N, Cin, H, W], w [Cout, Cin, k, k] →
 * [N, Cout, H−k+1, W−k+1]. ops.conv2d pads by P = (k−1)/2 ("same"); its outputs at rows
 * and columns [P, H−P) read no padding, and they are the valid ones, so the valid
 * convolution is the same-padded one with a border of P cut off. k must be odd.
 */
export function validConv2d(x: Tensor, w: Tensor, b: Tensor): Tensor {
  for (const [name, t] of [['x', x], ['w', w], ['b', b]] as const) {
    if (!(t instanceof Tensor)) throw new ValueError(`validConv2d: expected ${name} to be a Tensor, got ${describeValue(t)}`);
  }
  if (x.shape.length !== 4 || w.shape.length !== 4) throw new ShapeError(`validConv2d: expected x [N, Cin, H, W] and w [Cout, Cin, k, k], got ${formatShape(x.shape)} and ${formatShape(w.shape)}`);
  const k = w.shape[2];
  if (x.shape[2] < k || x.shape[3] < k) {
    throw new ShapeError(`validConv2d: a ${k}×${k} convolution needs a map of at least ${k}×${k}, got shape ${formatShape(x.shape)}`);
  }
  const y = ops.conv2d(x, w, b);
  return k === 1 ? y : cropBorder(y, (k - 1) / 2);
}

/** A Linear layer's weight [out, C·k·k] seen as a conv weight [out, C, k, k]: the same storage. */
function asConvWeight(fc: Linear, k: number): Tensor {
  const [out, inFeatures] = fc.weight.shape;
  if (inFeatures % (k * k) !== 0) throw new ShapeError(`dense: ${fc.describe()} does not take a ${k}×${k} map (${inFeatures} inputs)`);
  return new Tensor([out, inFeatures / (k * k), k, k], fc.weight.storage('dense evaluation'));
}

/** The side k of the last pool's map at the model's inputSize: FC6's window (7 at 224, 1 at 32). */
export function fc6Window(model: Vgg): number {
  const [, , k, k2] = model.features.outputShape(model.defaultInputShape());
  if (k !== k2 || k % 2 !== 1) {
    throw new ShapeError(`dense: ${model.describe()} gives a ${k}×${k2} map to FC6 at inputSize ${model.options.inputSize}; dense evaluation needs an odd square (inputSize 224 → 7, 32 → 1)`);
  }
  return k;
}

/**
 * The class score map of the fully convolutional net (§3.2): x [N, C, H, W] →
 * [N, numClasses, ⌊H/32⌋−k+1, ⌊W/32⌋−k+1] (k = fc6Window(model); at H = W = inputSize it is
 * 1×1 and equals the FC net's scores). Call it in eval mode under noGrad (dense() does).
 */
export function denseScoreMap(model: Vgg, x: Tensor): Tensor {
  const k = fc6Window(model);
  let h = model.features.forward(x);
  if (h.shape[2] < k || h.shape[3] < k) {
    throw new ShapeError(`dense: an input of ${x.shape[2]}×${x.shape[3]} gives a ${h.shape[2]}×${h.shape[3]} map to FC6, smaller than its ${k}×${k} window; rescale to at least the model's inputSize ${model.options.inputSize}`);
  }
  let window = k;
  for (const layer of model.classifier.layers) {
    if (layer instanceof Linear) {
      h = validConv2d(h, asConvWeight(layer, window), layer.bias);
      window = 1; // FC7 and FC8 see one position of FC6's output: 1×1 convs
    } else if (layer instanceof ReLU) {
      h = layer.forward(h);
    } else if (!(layer instanceof Dropout)) { // dropout is the identity at test time
      throw new ValueError(`dense: cannot convert ${layer.describe()} of the classifier into a convolution`);
    }
  }
  return h;
}

/** The score map [N, K, h, w] averaged over its positions: scores [N, K]. */
function spatialMean(map: Tensor): Tensor {
  const [N, K, h, w] = map.shape;
  return opResult('spatialMean', [N, K], [map], ([v]) => {
    const out = new Float32Array(N * K);
    for (let i = 0; i < N * K; i++) {
      let s = 0;
      for (let p = 0; p < h * w; p++) s += v[i * h * w + p];
      out[i] = s / (h * w);
    }
    return out;
  });
}

/**
 * Dense evaluation of one image (§3.2): for each Q in `scales`, the image rescaled so its
 * smallest side is Q (a ScalableImage's own rescale; see posteriors.ts) (and its horizontal flip) through the fully convolutional net, the
 * score map averaged spatially, softmax; the posteriors averaged over flips and scales.
 * Returns the class posteriors (numClasses values).
 */
export async function dense(model: Vgg, image: EvalImage, options: DenseOptions = {}): Promise<Float32Array> {
  const at = await imageAtScales('evaluate.dense', model, image);
  if (options === null || typeof options !== 'object') throw new ValueError(`evaluate.dense: expected options { scales, flip }, got ${describeValue(options)}`);
  const { scales = [model.options.inputSize], flip = true } = options;
  if (!Array.isArray(scales) || scales.length === 0) throw new ValueError(`evaluate.dense: expected scales to be a non-empty array of sides Q, got ${Array.isArray(scales) ? 'an empty array' : describeValue(scales)}`);
  const perScale: Float32Array[] = [];
  for (const Q of scales) {
    const scaled = await at(Q);
    const views = flip ? [scaled, horizontalFlip(scaled)] : [scaled];
    perScale.push(fuse(await posteriorsOf(model, () => spatialMean(denseScoreMap(model, batchOf(views))))));
  }
  return fuse(perScale);
}
