/**
 * What the test protocols of §3.2 share: the image they take, the network run in eval
 * mode, the class posteriors (softmax of the scores) and their averages, the scales Q of
 * §4.2, and the top-k ranking.
 *
 * Posteriors are Float32Arrays of numClasses values. Every average in the paper is an
 * average of posteriors, never of scores: over an image and its flip and over the crops
 * (§3.2), over the scales Q (§4.2), over dense and multi-crop (§4.3), over nets (§4.4).
 */
import ndarray from 'ndarray';
import ndops from 'ndarray-ops';
import { Tensor, formatShape, noGrad, tidy } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { rescale, type Image } from '../data/transforms.js';
import { topK as topKRows } from './topk.js';
import { Vgg } from '../models/vgg.js';
import { ShapeError, ValueError, describeValue } from '../core/errors.js';
import { isNdarray } from '../core/values.js';

/**
 * An image that gives itself at any smallest side Q, preprocessed as the model expects: in
 * Node, lib/data/images.ts's `scalableImage(path)` decodes the file and downscales it at Q
 * with sharp (antialiased, as torchvision's PIL pipeline does), rather than the whole
 * image being decoded and then rescaled here with the plain bilinear `rescale`, which
 * aliases on a large downscale. The evaluation checks what it gives.
 */
export interface ScalableImage {
  /** the channels of every image it gives (the model's inputChannels) */
  readonly channels: number;
  /** the image [channels, H, W] with min(H, W) = Q */
  atSmallestSide(Q: number): Image | Promise<Image>;
}

/** An image to classify: an ndarray [C, H, W], a Tensor [1, C, H, W] (or [C, H, W]), or a ScalableImage. */
export type EvalImage = Image | Tensor | ScalableImage;

/** A labelled image for evaluate.errors: a Dataset's Sample, or one whose image is any EvalImage. */
export interface EvalSample {
  /** the image, [C, H, W] (an ndarray, a Tensor or a ScalableImage) */
  image: EvalImage;
  /** its class, an integer in [0, numClasses) */
  label: number;
}

const isScalable = (image: unknown): image is ScalableImage => !isNdarray(image) && !(image instanceof Tensor) &&
  typeof (image as ScalableImage | null)?.atSmallestSide === 'function';

/** The image as an ndarray [C, H, W] with the model's channel count. */
export async function asImage(where: string, model: Vgg, image: Image | Tensor): Promise<Image> {
  if (!(model instanceof Vgg)) throw new ValueError(`${where}: expected a Vgg model, got ${describeValue(model)}`);
  let img: Image;
  if (image instanceof Tensor) {
    const s = image.shape;
    if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) {
      throw new ShapeError(`${where}: expected an image Tensor of shape [1, C, H, W] or [C, H, W], got ${formatShape(s)}`);
    }
    img = ndarray(await image.data(), [...s.slice(-3)]);
  } else if (isNdarray(image) && image.shape.length === 3) {
    img = image;
  } else {
    const message = `${where}: expected an image ndarray [C, H, W] or a Tensor [1, C, H, W], got ${Array.isArray(image?.shape) ? formatShape(image.shape) : describeValue(image)}` +
      ' (or a ScalableImage { channels, atSmallestSide(Q) }, e.g. data.scalableImage(path) in Node)';
    throw Array.isArray(image?.shape) ? new ShapeError(message) : new ValueError(message);
  }
  const C = model.options.inputChannels;
  if (img.shape[0] !== C) throw new ShapeError(`${where}: the model takes ${C} channels, but the image has shape ${formatShape(img.shape)} ([C, H, W])`);
  return img;
}

/** §3.2: "the test image is isotropically rescaled to a pre-defined smallest image side Q" */
export function rescaleTo(where: string, img: Image, Q: number, least: number): Image {
  checkScale(where, Q, least);
  return rescale(img, Q);
}

function checkScale(where: string, Q: number, least: number): void {
  if (typeof Q !== 'number' || !Number.isInteger(Q) || Q < least) throw new ValueError(`${where}: expected every scale Q to be an integer of at least ${least} (the model's inputSize), got ${describeValue(Q)}`);
}

/**
 * The image at smallest side Q, for each Q a protocol asks: a ScalableImage's own (checked:
 * an ndarray of the model's channels whose smallest side is Q), else the image rescaled
 * here (bilinear, `rescale`; browser-safe). The model and image are checked at once.
 */
export async function imageAtScales(where: string, model: Vgg, image: EvalImage): Promise<(Q: number) => Promise<Image>> {
  const least = model instanceof Vgg ? model.options.inputSize : 1;
  if (!isScalable(image)) {
    const img = await asImage(where, model, image);
    return async (Q) => rescaleTo(where, img, Q, least);
  }
  if (!(model instanceof Vgg)) throw new ValueError(`${where}: expected a Vgg model, got ${describeValue(model)}`);
  const C = model.options.inputChannels;
  if (image.channels !== C) throw new ShapeError(`${where}: the model takes ${C} channels, but the ScalableImage gives ${describeValue(image.channels)}`);
  return async (Q) => {
    checkScale(where, Q, least);
    const img = await image.atSmallestSide(Q);
    if (!isNdarray(img) || img.shape.length !== 3 || img.shape[0] !== C || Math.min(img.shape[1], img.shape[2]) !== Q) {
      throw new ShapeError(`${where}: a ScalableImage's atSmallestSide(${Q}) must give an image [${C}, H, W] with min(H, W) = ${Q}, got ${Array.isArray(img?.shape) ? formatShape(img.shape) : describeValue(img)}`);
    }
    return img;
  };
}

/** The images (any views, all [C, H, W] of one size) as one batch Tensor [B, C, H, W]. */
export function batchOf(images: Image[]): Tensor {
  const [C, H, W] = images[0].shape;
  const per = C * H * W;
  const values = new Float32Array(images.length * per);
  images.forEach((img, i) => ndops.assign(ndarray(values.subarray(i * per, (i + 1) * per), [C, H, W]), img));
  return Tensor.from(values, [images.length, C, H, W]);
}

/**
 * Runs `scores(model)` in eval mode (dropout off, as at test time) without recording the
 * graph, and returns the softmax of each row of the scores [B, K] it gives, as B posteriors.
 */
export async function posteriorsOf(model: Vgg, scores: () => Tensor): Promise<Float32Array[]> {
  const wasTraining = model.training;
  model.eval();
  try {
    const values = await tidy(() => noGrad(() => ops.softmax(scores()).data()));
    const K = model.options.numClasses;
    return Array.from({ length: values.length / K }, (_, b) => values.subarray(b * K, (b + 1) * K));
  } finally {
    model.train(wasTraining);
  }
}

/**
 * Fusion: the mean of several posteriors, class by class. The paper averages posteriors
 * over flips and crops (§3.2), scales (§4.2), dense and multi-crop (§4.3) and nets (§4.4).
 */
export function fuse(posteriors: readonly Float32Array[]): Float32Array {
  if (!Array.isArray(posteriors) || posteriors.length === 0 || !posteriors.every((p) => p instanceof Float32Array)) {
    throw new ValueError(`fuse: expected a non-empty array of posteriors (Float32Arrays), got ${!Array.isArray(posteriors) ? describeValue(posteriors) : posteriors.length ? `${describeValue(posteriors.find((p) => !(p instanceof Float32Array)))} in the array` : 'an empty array'}`);
  }
  const K = posteriors[0].length;
  const sum = new Float64Array(K);
  for (const p of posteriors) {
    if (p.length !== K) throw new ShapeError(`fuse: expected posteriors of one length, got ${K} and ${p.length}`);
    for (let k = 0; k < K; k++) sum[k] += p[k];
  }
  return Float32Array.from(sum, (s) => s / posteriors.length);
}

/** The classes of the k largest posteriors, best first (ties: the lower class first). */
export function topK(posteriors: Float32Array, k: number): number[] {
  if (!(posteriors instanceof Float32Array)) throw new ValueError(`topK: expected posteriors as a Float32Array, got ${describeValue(posteriors)}`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new ValueError(`topK: expected a positive integer k, got ${describeValue(k)}`);
  return topKRows(posteriors, posteriors.length, Math.min(k, posteriors.length))[0];
}

/**
 * §4.2's test scales Q: {S−32, S, S+32} for a net trained at a fixed S, and
 * {Smin, (Smin+Smax)/2, Smax} for one trained with scale jittering S ∈ [Smin, Smax].
 */
export function scalesFor(training: { S: number } | { Smin: number; Smax: number }): number[] {
  if (!training || typeof training !== 'object') throw new ValueError(`scalesFor: expected { S } or { Smin, Smax }, got ${describeValue(training)}`);
  const isInt = (v: number) => Number.isInteger(v) && v > 0;
  if ('S' in training) {
    if (!isInt(training.S) || training.S <= 32) throw new ValueError(`scalesFor: expected an integer S > 32, got ${describeValue(training.S)}`);
    return [training.S - 32, training.S, training.S + 32];
  }
  const { Smin, Smax } = training;
  if (!isInt(Smin) || !isInt(Smax) || Smin >= Smax) throw new ValueError(`scalesFor: expected integers Smin < Smax, got Smin=${describeValue(Smin)}, Smax=${describeValue(Smax)}`);
  return [Smin, Math.round((Smin + Smax) / 2), Smax];
}
