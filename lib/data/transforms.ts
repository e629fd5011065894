/**
 * Training-time data transforms of §3.1, on ndarray views (ndarray, ndarray-ops).
 * Images are float32 ndarrays of shape [C, H, W] (channels first, as the network wants).
 *
 *  - rescale(img, S): isotropic rescale so that the smallest side is S (bilinear);
 *    `jitteredScale(rng, Smin, Smax)` draws S for scale jittering (§3.1, S ∈ [256, 512]);
 *  - randomCrop(img, size, rng): a size×size view at a random position (no copy);
 *  - horizontalFlip(img): a mirrored view (no copy); `randomFlip` does it with p = 0.5;
 *  - pcaColourShift(img, rng): AlexNet's colour augmentation (Krizhevsky et al. 2012,
 *    §4.1): adds Σ_i α_i·λ_i·p_i to every pixel, α_i ~ N(0, 0.1), with the eigenvalues λ
 *    and eigenvectors p of ImageNet's RGB covariance (pixels in [0, 1]);
 *  - subtractMean(img, mean): subtracts the training set's mean RGB (§2.1);
 *  - pad(img, to): zero padding to a larger square, centred (MNIST's 28 → 32).
 * Every random choice comes from the Rng that the caller passes, so runs repeat exactly.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import ops from 'ndarray-ops';
import { Rng } from '../core/random.js';
import { DataError, ShapeError, ValueError, describeValue } from '../core/errors.js';
import { isNdarray } from '../core/values.js';

/** An image: a float32 ndarray of shape [C, H, W], channels first (possibly a strided view). */
export type Image = NdArray<Float32Array>;

/** Anything but an ndarray is a ValueError; an ndarray of another rank a ShapeError. */
function expectImage(where: string, img: Image): void {
  if (!isNdarray(img)) throw new ValueError(`${where}: expected an image ndarray of shape [C, H, W], got ${describeValue(img)}`);
  if (img.shape.length !== 3) throw new ShapeError(`${where}: expected an image ndarray of shape [C, H, W], got [${img.shape.join(', ')}]`);
}

/** Random transforms take the loader's generator; without one they would throw a TypeError. */
function expectRng(where: string, rng: Rng): void {
  if (!(rng instanceof Rng)) throw new ValueError(`${where}: expected an Rng (a DataLoader's transform gets one as its second argument), got ${describeValue(rng)}`);
}

/** A size or position in pixels: a fractional one would read between pixels (undefined values). */
function expectInteger(where: string, name: string, v: number, least: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < least) throw new ValueError(`${where}: expected ${name} to be an integer of at least ${least}, got ${describeValue(v)}`);
}

/** A dense copy (any view becomes a plain [C, H, W] array in row-major order). */
export function materialize(img: Image): Image {
  expectImage('materialize', img);
  return denseCopy(img);
}

/** materialize without its check, for callers that have checked `img` already. */
function denseCopy(img: Image): Image {
  const out = ndarray(new Float32Array(img.shape[0] * img.shape[1] * img.shape[2]), img.shape.slice());
  ops.assign(out, img);
  return out;
}

/** Bilinear resampling to exactly [C, outH, outW] (pixel centres aligned, as PIL and torchvision do). */
export function resize(img: Image, outH: number, outW: number): Image {
  expectImage('resize', img);
  expectInteger('resize', 'outH', outH, 1);
  expectInteger('resize', 'outW', outW, 1);
  const [C, H, W] = img.shape;
  const out = ndarray(new Float32Array(C * outH * outW), [C, outH, outW]);
  const sy = H / outH, sx = W / outW;
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, H - 1), wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, W - 1), wx = fx - x0;
      for (let c = 0; c < C; c++) {
        const top = img.get(c, y0, x0) * (1 - wx) + img.get(c, y0, x1) * wx;
        const bottom = img.get(c, y1, x0) * (1 - wx) + img.get(c, y1, x1) * wx;
        out.set(c, y, x, top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}

/** Isotropic rescale: the smallest side becomes S, the aspect ratio is kept (§3.1). */
export function rescale(img: Image, S: number): Image {
  expectImage('rescale', img);
  if (typeof S !== 'number' || !Number.isInteger(S) || S < 1) throw new ValueError(`rescale: expected a positive integer S, got ${describeValue(S)}`);
  const [, H, W] = img.shape;
  if (Math.min(H, W) === S) return img;
  const f = S / Math.min(H, W);
  return H <= W ? resize(img, S, Math.round(W * f)) : resize(img, Math.round(H * f), S);
}

/** §3.1 scale jittering: S drawn uniformly from the integers in [Smin, Smax]. */
export function jitteredScale(rng: Rng, Smin: number, Smax: number): number {
  expectRng('jitteredScale', rng);
  expectInteger('jitteredScale', 'Smin', Smin, 1);
  expectInteger('jitteredScale', 'Smax', Smax, Smin); // Smax < Smin would draw below Smin
  return Smin + rng.int(Smax - Smin + 1);
}

/** A crop view [C, size, size] at (top, left); no copy. */
export function crop(img: Image, top: number, left: number, size: number, width = size): Image {
  expectImage('crop', img);
  for (const [name, v, least] of [['top', top, 0], ['left', left, 0], ['size', size, 1], ['width', width, 1]] as const) expectInteger('crop', name, v, least);
  const [, H, W] = img.shape;
  if (top + size > H || left + width > W) {
    throw new ValueError(`crop: a ${size}×${width} crop at (${top}, ${left}) does not fit an image of ${H}×${W}`);
  }
  return cropView(img, top, left, size, width);
}

/** crop without its checks, for callers that have checked the image and the crop already. */
function cropView(img: Image, top: number, left: number, size: number, width = size): Image {
  return img.lo(0, top, left).hi(img.shape[0], size, width) as Image;
}

/**
 * A size×size crop view at a position drawn uniformly from `rng` (§3.1's random 224×224
 * crop); no copy. A ValueError when the crop does not fit the image.
 */
export function randomCrop(img: Image, size: number, rng: Rng): Image {
  expectImage('randomCrop', img);
  expectInteger('randomCrop', 'size', size, 1);
  expectRng('randomCrop', rng);
  const [, H, W] = img.shape;
  if (size > H || size > W) throw new ValueError(`randomCrop: a ${size}×${size} crop does not fit an image of ${H}×${W}`);
  return cropView(img, rng.int(H - size + 1), rng.int(W - size + 1), size);
}

/** The central size×size crop view (an odd margin leaves its extra pixel below and right); no copy. A ValueError when it does not fit. */
export function centerCrop(img: Image, size: number): Image {
  expectImage('centerCrop', img);
  expectInteger('centerCrop', 'size', size, 1);
  const [, H, W] = img.shape;
  if (size > H || size > W) throw new ValueError(`centerCrop: a ${size}×${size} crop does not fit an image of ${H}×${W}`);
  return cropView(img, Math.floor((H - size) / 2), Math.floor((W - size) / 2), size);
}

/** A mirrored view (x → W−1−x); no copy. */
export function horizontalFlip(img: Image): Image {
  expectImage('horizontalFlip', img);
  return img.step(1, 1, -1) as Image;
}

/** §3.1's random horizontal flip: horizontalFlip(img) with probability 0.5, else `img` itself. */
export function randomFlip(img: Image, rng: Rng): Image {
  expectImage('randomFlip', img);
  expectRng('randomFlip', rng);
  return rng.uniform() < 0.5 ? horizontalFlip(img) : img;
}

/** ImageNet's RGB eigenvalues and eigenvectors (columns), for pixels in [0, 1]. */
export const IMAGENET_PCA = {
  /** λ, largest first */
  eigenvalues: [0.2175, 0.0188, 0.0045],
  /** p as 3×3 rows R, G, B: column i is the eigenvector of eigenvalues[i] */
  eigenvectors: [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.814],
    [-0.5836, -0.6948, 0.4203],
  ],
};

/** AlexNet's PCA colour shift: a dense copy with Σ_i α_i λ_i p_i added to each pixel. */
export function pcaColourShift(img: Image, rng: Rng, sigma = 0.1, scale = 1): Image {
  expectImage('pcaColourShift', img);
  if (img.shape[0] !== 3) throw new ShapeError(`pcaColourShift: expected 3 (RGB) channels, got ${img.shape[0]}`);
  expectRng('pcaColourShift', rng);
  for (const [name, v] of [['sigma', sigma], ['scale', scale]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`pcaColourShift: expected ${name} to be a finite number, got ${describeValue(v)}`);
  }
  const alpha = [0, 1, 2].map(() => sigma * rng.normal());
  const out = denseCopy(img);
  for (let c = 0; c < 3; c++) {
    let shift = 0;
    for (let i = 0; i < 3; i++) shift += IMAGENET_PCA.eigenvectors[c][i] * alpha[i] * IMAGENET_PCA.eigenvalues[i];
    ops.addseq(out.pick(c, null, null), shift * scale);
  }
  return out;
}

/** The mean of each channel over a set of images (the training set's mean RGB, §2.1). */
export function channelMean(images: Iterable<Image>): number[] {
  if (!images || typeof (images as Iterable<Image>)[Symbol.iterator] !== 'function') throw new ValueError(`channelMean: expected an iterable of images [C, H, W], got ${describeValue(images)}`);
  let sums: number[] | null = null;
  let count = 0;
  let i = 0;
  for (const img of images) {
    expectImage(`channelMean: image ${i}`, img);
    sums ??= new Array(img.shape[0]).fill(0);
    // a different channel count would add into sums[c] that do not exist: NaN means
    if (img.shape[0] !== sums.length) throw new ShapeError(`channelMean: image ${i} has ${img.shape[0]} channels, the first had ${sums.length}`);
    i++;
    for (let c = 0; c < img.shape[0]; c++) sums[c] += ops.sum(img.pick(c, null, null));
    count += img.shape[1] * img.shape[2];
  }
  if (!sums) throw new DataError('channelMean: expected at least one image, got none');
  return sums.map((s) => s / count);
}

/** A dense copy with mean[c] subtracted from channel c. */
export function subtractMean(img: Image, mean: number[]): Image {
  expectImage('subtractMean', img);
  if (!Array.isArray(mean) || mean.length !== img.shape[0] || !mean.every((m) => typeof m === 'number' && Number.isFinite(m))) {
    throw new ValueError(`subtractMean: expected ${img.shape[0]} channel means (finite numbers), got ${Array.isArray(mean) ? `${mean.length}: [${mean.join(', ')}]` : describeValue(mean)}`);
  }
  const out = denseCopy(img);
  mean.forEach((m, c) => ops.subseq(out.pick(c, null, null), m));
  return out;
}

/** A dense copy with every pixel multiplied by s (e.g. [0, 1] → [0, 255]). */
export function scale(img: Image, s: number): Image {
  expectImage('scale', img);
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new ValueError(`scale: expected a finite factor, got ${describeValue(s)}`);
  const out = denseCopy(img);
  ops.mulseq(out, s);
  return out;
}

/** Zero padding to [C, size, size], the image centred (MNIST's 28×28 → 32×32). */
export function pad(img: Image, size: number): Image {
  expectImage('pad', img);
  const [C, H, W] = img.shape;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < H || size < W) throw new ValueError(`pad: expected an integer size of at least ${Math.max(H, W)}, got ${describeValue(size)}`);
  const out = ndarray(new Float32Array(C * size * size), [C, size, size]);
  const top = Math.floor((size - H) / 2), left = Math.floor((size - W) / 2);
  ops.assign(out.lo(0, top, left).hi(C, H, W), img);
  return out;
}
