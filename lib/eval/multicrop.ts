/**
 * Multi-crop evaluation (§3.2, after Szegedy et al. 2014): for each scale Q, a regular
 * grid of crops of the net's input size over the image rescaled so its smallest side is
 * Q, each crop also horizontally flipped, every view through the FC net (as trained), and
 * the softmax posteriors of all views of all scales averaged. The paper uses a 5×5 grid ×
 * 2 flips at 3 scales: 150 crops per image (§4.3).
 *
 * Grid geometry: on an image of H×W, a g×g grid of size×size crops has its tops at
 * round(i·(H−size)/(g−1)) and its lefts at round(j·(W−size)/(g−1)), i, j = 0 … g−1: the
 * corners and evenly spaced positions between them (g = 1: the centre crop). A flipped
 * view is the mirror of its crop (x → size−1−x), which is also the crop of the flipped
 * image at the mirrored grid position.
 */
import type { Vgg } from '../models/vgg.js';
import { crop, horizontalFlip, type Image } from '../data/transforms.js';
import { imageAtScales, batchOf, posteriorsOf, fuse, type EvalImage } from './posteriors.js';
import { ValueError, describeValue } from '../core/errors.js';

/** The options of multi-crop evaluation (§3.2: a grid of crops at each scale, with flips). */
export interface MultiCropOptions {
  /** the smallest image sides Q (default [model.options.inputSize]; see scalesFor) */
  scales?: readonly number[];
  /** add the horizontal flip of every crop (default true) */
  flip?: boolean;
  /** crops per side of the grid (default 5: 25 positions) */
  grid?: number;
  /** views per forward pass (default 10) */
  batchSize?: number;
}

/** One crop of multi-crop evaluation: where it is and whether it is flipped. */
export interface CropView {
  /** the crop's first row in the image */
  top: number;
  /** the crop's first column in the image */
  left: number;
  /** whether it is the horizontal flip of the crop */
  flipped: boolean;
  /** a view [C, size, size] into the image (no copy) */
  image: Image;
}

/** The top-left corners of a grid×grid regular grid of size×size crops on an H×W image, row by row. */
export function cropGrid(H: number, W: number, size: number, grid: number): {
  /** the crop's first row */
  top: number;
  /** the crop's first column */
  left: number;
}[] {
  if (typeof grid !== 'number' || !Number.isInteger(grid) || grid < 1) throw new ValueError(`cropGrid: expected a positive integer grid, got ${describeValue(grid)}`);
  for (const [name, v] of [['H', H], ['W', W], ['size', size]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`cropGrid: expected ${name} to be a positive integer, got ${describeValue(v)}`);
  }
  if (size > H || size > W) throw new ValueError(`cropGrid: a ${size}×${size} crop does not fit an image of ${H}×${W}`);
  const at = (extent: number, i: number) => (grid === 1 ? Math.floor((extent - size) / 2) : Math.round((i * (extent - size)) / (grid - 1)));
  const out: { top: number; left: number }[] = [];
  for (let i = 0; i < grid; i++) for (let j = 0; j < grid; j++) out.push({ top: at(H, i), left: at(W, j) });
  return out;
}

/** The views of one scale: each crop of the grid, followed by its mirror when `flip`. */
export function cropViews(img: Image, size: number, grid: number, flip: boolean): CropView[] {
  const [, H, W] = img.shape;
  return cropGrid(H, W, size, grid).flatMap(({ top, left }) => {
    const view = crop(img, top, left, size);
    const plain: CropView = { top, left, flipped: false, image: view };
    return flip ? [plain, { top, left, flipped: true, image: horizontalFlip(view) }] : [plain];
  });
}

/**
 * Multi-crop evaluation of one image: the mean softmax posterior over the crop views of
 * every scale Q in `scales` (the image at Q: a ScalableImage's own rescale, see posteriors.ts). Returns the class posteriors (numClasses values).
 */
export async function multiCrop(model: Vgg, image: EvalImage, options: MultiCropOptions = {}): Promise<Float32Array> {
  const at = await imageAtScales('evaluate.multiCrop', model, image);
  if (options === null || typeof options !== 'object') throw new ValueError(`evaluate.multiCrop: expected options { scales, flip, grid, batchSize }, got ${describeValue(options)}`);
  const size = model.options.inputSize;
  const { scales = [size], flip = true, grid = 5, batchSize = 10 } = options;
  if (!Array.isArray(scales) || scales.length === 0) throw new ValueError(`evaluate.multiCrop: expected scales to be a non-empty array of sides Q, got ${Array.isArray(scales) ? 'an empty array' : describeValue(scales)}`);
  if (typeof grid !== 'number' || !Number.isInteger(grid) || grid < 1) throw new ValueError(`evaluate.multiCrop: expected a positive integer grid, got ${describeValue(grid)}`);
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`evaluate.multiCrop: expected a positive integer batchSize, got ${describeValue(batchSize)}`);
  const posteriors: Float32Array[] = [];
  for (const Q of scales) {
    const views = cropViews(await at(Q), size, grid, flip);
    for (let s = 0; s < views.length; s += batchSize) {
      const batch = views.slice(s, s + batchSize).map((v) => v.image);
      posteriors.push(...await posteriorsOf(model, () => model.forward(batchOf(batch))));
    }
  }
  return fuse(posteriors);
}
