/**
 * Real images: decoding (JPEG, PNG, WebP, TIFF, GIF) with the npm package `sharp`, whose
 * libvips ships inside its npm package, and an image-folder dataset.
 *
 *  - decodeImage(path): an RGB image [3, H, W] in [0, 1] (float32): the EXIF orientation is
 *    applied, greyscale becomes three equal channels, CMYK and other colour spaces become
 *    sRGB, and an alpha channel is dropped (as PIL's convert('RGB') does for torchvision);
 *    with `{ smallestSide: Q }`, the image rescaled to smallest side Q (see below);
 *  - scalableImage(path, { preprocessing }): the file as evaluate's ScalableImage, which
 *    gives the preprocessed image at each smallest side Q the protocols ask for;
 *  - imageFolder(root): torchvision's ImageFolder layout, `root/<class>/**\/<image>`, one
 *    sub-folder per class, classes sorted by name and numbered 0, 1, ...; images decode
 *    lazily (`await ds.load(i)`); `for await (const s of ds)` skips a file that does not
 *    decode, with a warning that names it, and goes on. With `split` it is one split of a
 *    `root/{train,val,test}/<class>` folder, or of a seeded `valFraction` split of
 *    `root/<class>`; with `transform` it is also a training set for train.fit (a
 *    BatchSource: §3.1's augmentation in worker threads, folder-pipeline.ts).
 *
 * Downscaling is antialiased, in one sharp pipeline with decoding: sharp's 'linear' kernel
 * is a triangle filter widened by the reduction factor, as PIL's bilinear resize is, which
 * torchvision's Resize uses for the pretrained weights (on uint8 pixels, as here; the
 * preprocessing comes after). The hand-written bilinear `rescale` (transforms.ts, what the
 * browser uses) reads only the 2×2 pixels nearest each output pixel, so a 4000-px photo
 * downscaled to 256 aliases. Of sharp 0.34's kernels, 'linear' is the closest to PIL's
 * (test/pretrained.test.ts measures it). Upscaling stays with `rescale`: for enlargement
 * PIL's bilinear is plain interpolation between pixel centres, which `rescale` is and
 * sharp's enlargement is not. The other side is Math.round(side · Q / smallest), as in
 * `rescale`; torchvision truncates it (int(...)), at most one pixel shorter.
 *
 * sharp is an optional dependency, loaded when the first image is decoded; where it is
 * missing, decoding throws an error that says how to install it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { rescale, type Image } from './transforms.js';
import { applyPreprocessing, checkPreprocessing, type Preprocessing } from './preprocess.js';
import { DataError, ValueError, describeValue } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { permutation } from './array-dataset.js';
import { FolderPipeline, type FolderTransform, type FolderStatistics, type PipelineOptions } from './folder-pipeline.js';
import type { ArrayDataset } from './array-dataset.js';
import type { Batch } from './loader.js';

export { loadSharp, type Sharp, type SharpPipeline } from './sharp.js';
import { loadSharp, type SharpPipeline } from './sharp.js';

/** the parts of sharp's API that downscaling adds to SharpPipeline (lib/data/sharp.ts) */
type ResizingPipeline = SharpPipeline & {
  resize(options: { width: number; height: number; fit: 'fill'; kernel: 'linear'; fastShrinkOnLoad: boolean }): ResizingPipeline;
  metadata(): Promise<{ width?: number; height?: number; orientation?: number; autoOrient?: { width: number; height: number } }>;
};

/** decodeImage's options. */
export interface DecodeOptions {
  /**
   * the smallest side Q of the image returned: downscaled by sharp (antialiased, as
   * torchvision's Resize), upscaled by `rescale` (bilinear); the other side in proportion
   */
  smallestSide?: number;
}

/** An RGB image [3, H, W] in [0, 1] from an image file, at its size or at `smallestSide`; the error names the file. */
export async function decodeImage(path: string, options: DecodeOptions = {}): Promise<Image> {
  if (typeof path !== 'string') throw new ValueError(`decodeImage: expected a file path (a string), got ${describeValue(path)}`);
  if (options === null || typeof options !== 'object') throw new ValueError(`decodeImage: expected options { smallestSide }, got ${describeValue(options)}`);
  const Q = options.smallestSide;
  if (Q !== undefined && (typeof Q !== 'number' || !Number.isInteger(Q) || Q < 1)) throw new ValueError(`decodeImage: expected smallestSide to be a positive integer, got ${describeValue(Q)}`);
  const sharp = await loadSharp();
  let decoded;
  try {
    let pipeline = sharp(path).autoOrient() as ResizingPipeline; // before resize: its sizes are the oriented image's
    if (Q !== undefined) {
      const [H, W] = orientedSize(await (sharp(path) as ResizingPipeline).metadata());
      // fastShrinkOnLoad off: JPEG's shrink-on-load decodes at 1/2, 1/4 or 1/8 by averaging DCT blocks, which PIL does not do
      if (Q < Math.min(H, W)) pipeline = pipeline.resize({ ...otherSide(H, W, Q), fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    }
    decoded = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataError(`decodeImage: cannot decode ${path}: ${(e as Error).message}`, { cause: e });
  }
  const { data, info: { width: W, height: H, channels, depth } } = decoded;
  if (channels !== 3 || (depth && depth !== 'uchar')) throw new DataError(`decodeImage: ${path} decoded to ${channels} channels of ${depth}, expected 3 of uchar`);
  // sharp gives interleaved pixels, p[y][x][c]; the network wants planes, img[c][y][x]
  const out = new Float32Array(3 * H * W);
  for (let i = 0; i < H * W; i++) {
    for (let c = 0; c < 3; c++) out[c * H * W + i] = data[3 * i + c] / 255;
  }
  const img = ndarray(out, [3, H, W]);
  return Q !== undefined && Q >= Math.min(H, W) ? rescale(img, Q) : img;
}

/** [H, W] as displayed: an EXIF orientation of 5 to 8 turns the stored image by 90° */
function orientedSize(meta: Awaited<ReturnType<ResizingPipeline['metadata']>>): [number, number] {
  if (meta.autoOrient) return [meta.autoOrient.height, meta.autoOrient.width];
  const { width = 0, height = 0, orientation = 1 } = meta;
  return orientation >= 5 ? [width, height] : [height, width];
}

/** the size at smallest side Q, the other side rounded as transforms.rescale rounds it */
function otherSide(H: number, W: number, Q: number): { width: number; height: number } {
  const f = Q / Math.min(H, W);
  return H <= W ? { height: Q, width: Math.round(W * f) } : { height: Math.round(H * f), width: Q };
}

/** scalableImage's options. */
export interface ScalableImageOptions {
  /** applied after rescaling (default: none, RGB in [0, 1]) */
  preprocessing?: Preprocessing;
}

/**
 * An image file as evaluate's ScalableImage: `atSmallestSide(Q)` decodes it at smallest
 * side Q (decodeImage's antialiased downscaling), then applies the preprocessing; each Q
 * is decoded once. `await image.load(scales)` decodes those now, so that a file that does
 * not decode fails there, naming the file, rather than inside an evaluation.
 */
export class ScalableImageFile {
  /** channels of the images it gives: 1 with 'gray' preprocessing, else 3 */
  readonly channels: number;
  private readonly preprocessing?: Preprocessing;
  private readonly scales = new Map<number, Promise<Image>>();

  /**
   * @param path the image file, read on the first atSmallestSide (a ValueError if not a string)
   * @param options the preprocessing (checked here: a ValueError for a bad one)
   */
  constructor(readonly path: string, options: ScalableImageOptions = {}) {
    if (typeof path !== 'string') throw new ValueError(`scalableImage: expected a file path (a string), got ${describeValue(path)}`);
    if (options === null || typeof options !== 'object') throw new ValueError(`scalableImage: expected options { preprocessing }, got ${describeValue(options)}`);
    this.preprocessing = options.preprocessing && checkPreprocessing(options.preprocessing, 'scalableImage: preprocessing');
    this.channels = this.preprocessing?.channelOrder === 'gray' ? 1 : 3;
  }

  /** The image rescaled to smallest side Q, then preprocessed: [3, H, W] (or [1, H, W]); decoded once per Q, rejects with a DataError naming the file. */
  atSmallestSide(Q: number): Promise<Image> {
    let img = this.scales.get(Q);
    if (!img) {
      img = decodeImage(this.path, { smallestSide: Q }).then((rgb) => (this.preprocessing ? applyPreprocessing(rgb, this.preprocessing) : rgb));
      this.scales.set(Q, img);
    }
    return img;
  }

  /** decodes the image at each of `scales` now; resolves to itself */
  async load(scales: readonly number[]): Promise<this> {
    await Promise.all(scales.map((Q) => this.atSmallestSide(Q)));
    return this;
  }
}

/** An image file that evaluate.dense, multiCrop and errors rescale by decoding it at each Q (see ScalableImageFile). */
export function scalableImage(path: string, options: ScalableImageOptions = {}): ScalableImageFile {
  return new ScalableImageFile(path, options);
}

/** what torchvision's ImageFolder takes, less the formats that sharp does not read (BMP, PPM, PGM) */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif'];

/** imageFolder's options; the defaults are in brackets. */
export interface ImageFolderOptions {
  /** file name endings to take, case-insensitive (IMAGE_EXTENSIONS); other files are ignored */
  extensions?: string[];
  /** where a skipped file is reported (console.warn) */
  warn?: (line: string) => void;
  /**
   * one split: `root/<split>/<class>/...` where that folder exists; else, for 'train' and
   * 'val' with `valFraction`, a seeded split of `root/<class>/...` (stratified: that
   * fraction of each class, rounded, is 'val')
   */
  split?: 'train' | 'val' | 'test';
  /** the share of each class held out as 'val' when the folder has no train/ and val/ (0 < f < 1) */
  valFraction?: number;
  /** seed of the valFraction split, of the statistics sample and of the augmentation (0) */
  seed?: number;
  /** §3.1's pipeline: makes the folder a training set (batches) and an evaluation set */
  transform?: FolderTransform;
  /** keep decoded images in memory when they fit (false) */
  cache?: boolean;
  /** decoding worker threads (the cores less one, 1 to 4) */
  workers?: number;
  /** batches made ahead of the trainer (4) */
  prefetch?: number;
  /**
   * the mean RGB and PCA to use: given, or another folder's (a validation split takes its
   * training split's); default: computed from this folder
   */
  statistics?: FolderStatistics | ImageFolder;
  /** where notes go (console.log) */
  log?: (line: string) => void;
}

/** One image of an ImageFolder, with where it came from. */
export interface ImageSample<T = Image> {
  /** the decoded image: by default RGB [3, H, W] in [0, 1] (decodeImage) */
  image: T;
  /** its class: the index of its sub-folder in `classes` */
  label: number;
  /** the file it was decoded from */
  path: string;
  /** its position in the folder's `files` */
  index: number;
}

/**
 * An image-folder dataset (see the header and imageFolder): the files are listed when it
 * is made, and decode lazily; with a `transform` it is also a BatchSource for train.fit.
 */
export class ImageFolder {
  /** 'image folder <root>', with the split for a valFraction split; used in messages */
  readonly name: string;
  /** class names, sorted; class i is the i-th */
  readonly classes: string[];
  /** every image file found, in class order, then by name (sub-folders in turn) */
  readonly files: {
    /** the file's path (root joined with its place under the class folder) */
    path: string;
    /** its class, an index into `classes` */
    label: number;
  }[];
  /** the files that iteration skipped, with the reason */
  readonly skipped: {
    /** the file */
    path: string;
    /** why it did not decode (the error's message) */
    error: string;
  }[] = [];
  private readonly warn: (line: string) => void;

  /** the folder whose sub-folders are the classes: the given root, or root/<split> where that exists */
  readonly root: string;

  constructor(root: string, options: ImageFolderOptions = {}) {
    if (typeof root !== 'string') throw new ValueError(`imageFolder: expected a folder path (a string), got ${describeValue(root)}`);
    const given = options?.extensions;
    if (given !== undefined && (!Array.isArray(given) || !given.length || !given.every((e) => typeof e === 'string'))) {
      throw new ValueError(`imageFolder: expected extensions to be a non-empty array of file endings such as ['.jpg', '.png'], got ${describeValue(given)}`);
    }
    const extensions = (given ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    if (options?.warn !== undefined && typeof options.warn !== 'function') throw new ValueError(`imageFolder: expected warn to be a function (line) => void, got ${describeValue(options.warn)}`);
    this.warn = options?.warn ?? ((line) => console.warn(line));
    this.options = options ?? {};
    const { split, valFraction, seed = 0 } = this.options;
    if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new ValueError(`imageFolder: expected split to be 'train', 'val' or 'test', got ${describeValue(split)}`);
    if (valFraction !== undefined && !(typeof valFraction === 'number' && valFraction > 0 && valFraction < 1)) {
      throw new DataError(`imageFolder: expected valFraction to be a number in (0, 1), got ${describeValue(valFraction)}`);
    }
    if (!Number.isInteger(seed)) throw new ValueError(`imageFolder: expected seed to be an integer, got ${describeValue(seed)}`);
    let fractionSplit = false;
    if (split !== undefined) {
      const sub = join(root, split);
      if (statSync(sub, { throwIfNoEntry: false })?.isDirectory()) root = sub;
      else if (split !== 'test' && valFraction !== undefined) fractionSplit = true;
      else {
        throw new DataError(`imageFolder: ${root} has no ${split}/ folder` + (split === 'test' ? '' : `; give valFraction for a seeded split of ${root}/<class>/`));
      }
    }
    this.root = root;
    this.name = `image folder ${root}${fractionSplit ? ` (${split}, ${valFraction} held out, seed ${seed})` : ''}`;
    let entries;
    try {
      entries = readdirSync(root, { withFileTypes: true });
    } catch (e) {
      throw new DataError(`imageFolder: cannot read the folder ${root}: ${(e as Error).message}`, { cause: e });
    }
    // a dangling link is not a class folder (statSync would throw ENOENT)
    this.classes = entries.filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name), { throwIfNoEntry: false })?.isDirectory()))
      .map((e) => e.name).sort();
    if (!this.classes.length) throw new DataError(`imageFolder: ${root} has no class sub-folders (expected ${root}/<class>/<image>)`);
    this.files = [];
    const empty: string[] = [];
    this.classes.forEach((cls, label) => {
      let under: string[];
      try {
        under = filesUnder(join(root, cls));
      } catch (e) {
        throw new DataError(`imageFolder: cannot read the class folder ${join(root, cls)}: ${(e as Error).message}`, { cause: e });
      }
      const found = under.filter((f) => extensions.some((ext) => f.toLowerCase().endsWith(ext)));
      if (!found.length) empty.push(cls);
      for (const path of found) this.files.push({ path, label });
    });
    if (empty.length) {
      throw new DataError(`imageFolder: no image files (${extensions.join(', ')}) in the class folder${empty.length > 1 ? 's' : ''} ${empty.map((c) => join(root, c)).join(', ')}`);
    }
    if (fractionSplit) {
      // stratified: each class's files in a seeded order, the first round(f · n) held out
      const rng = new Rng(seed * 7919 + 17);
      const kept: { path: string; label: number }[] = [];
      this.classes.forEach((_, label) => {
        const own = this.files.filter((f) => f.label === label);
        const order = permutation(own.length, rng);
        const held = Math.round(valFraction! * own.length);
        const take = split === 'val' ? order.subarray(0, held) : order.subarray(held);
        for (const i of Array.from(take).sort((a, b) => a - b)) kept.push(own[i]);
      });
      if (!kept.length) throw new DataError(`imageFolder: valFraction ${valFraction} of ${this.files.length} images in ${this.classes.length} classes leaves no ${split} image`);
      this.files.splice(0, this.files.length, ...kept);
    }
  }

  private readonly options: ImageFolderOptions;
  private folderPipeline: FolderPipeline | null = null;

  /** the training pipeline (folder-pipeline.ts), made on first use; needs `transform` */
  get pipeline(): FolderPipeline {
    if (!this.folderPipeline) {
      const o = this.options;
      if (!o.transform) throw new ValueError(`${this.name}: training and evaluation batches need imageFolder(root, { transform: { input, scale, flip, pcaColour } })`);
      const stats = o.statistics;
      const statistics: PipelineOptions['statistics'] = stats instanceof ImageFolder ? () => stats.statistics() : stats;
      this.folderPipeline = new FolderPipeline(this.name, this.files, this.numClasses, o.transform,
        { cache: o.cache, workers: o.workers, prefetch: o.prefetch, seed: o.seed, statistics, log: o.log });
    }
    return this.folderPipeline;
  }

  /** The mean RGB (0–255) subtracted from every sample, and the PCA of the colours; see FolderPipeline. */
  statistics(): Promise<FolderStatistics> {
    return this.pipeline.statistics();
  }

  /** The augmented batches of an epoch (train.fit's BatchSource); `seed` must be the folder's. */
  batches(epoch: number, batchSize: number, seed?: number): AsyncGenerator<Batch> {
    return this.pipeline.batches(epoch, batchSize, seed);
  }

  /** The centre crops at Q as an in-memory dataset, for evaluate. */
  evaluationSet(): Promise<ArrayDataset> {
    return this.pipeline.evaluationSet();
  }

  /** Stops the decoding workers (they do not keep the process alive either way). */
  async close(): Promise<void> {
    await this.folderPipeline?.close();
  }

  /** the number of image files (of this split) */
  get length(): number {
    return this.files.length;
  }

  /** the number of classes (class sub-folders) */
  get numClasses(): number {
    return this.classes.length;
  }

  /** The i-th image, decoded; rejects with an error that names the file. */
  async load(i: number): Promise<ImageSample> {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.length) throw new ValueError(`${this.name}: index ${describeValue(i)} is outside [0, ${this.length})`);
    const { path, label } = this.files[i];
    return { image: await decodeImage(path), label, path, index: i };
  }

  /** Every image that decodes, in order; one that does not is skipped with a warning. The next image decodes while the caller works. */
  [Symbol.asyncIterator](): AsyncGenerator<ImageSample> {
    return this.samples((path) => decodeImage(path));
  }

  /**
   * The iteration with another decoder: e.g. `(path) => scalableImage(path).load([256, 384])`
   * decodes each image at those smallest sides only. A file whose decoding rejects is
   * skipped with a warning, as in the plain iteration.
   */
  async *samples<T>(decode: (path: string) => Promise<T>): AsyncGenerator<ImageSample<T>> {
    if (typeof decode !== 'function') throw new ValueError(`${this.name}: samples expects a decoder (path) => Promise<image>, got ${describeValue(decode)}`);
    if (this.length) await loadSharp(); // no sharp is no reason to skip files: it throws
    const load = async (i: number): Promise<ImageSample<T>> => ({ image: await decode(this.files[i].path), label: this.files[i].label, path: this.files[i].path, index: i });
    const settle = (i: number) => load(i).then((sample) => ({ sample }), (e: Error) => ({ error: e, path: this.files[i].path }));
    let next = this.length ? settle(0) : null;
    for (let i = 0; i < this.length; i++) {
      const current = await next!;
      next = i + 1 < this.length ? settle(i + 1) : null;
      if ('error' in current) {
        this.skipped.push({ path: current.path, error: current.error.message });
        this.warn(`warning: skipped (the run goes on without it): ${current.error.message}`);
        continue;
      }
      yield current.sample;
    }
  }
}

/** torchvision's ImageFolder layout: root/<class>/**\/<image>, classes sorted by name. */
export function imageFolder(root: string, options: ImageFolderOptions = {}): ImageFolder {
  return new ImageFolder(root, options);
}

/** the files under dir, at any depth, sorted by path (symbolic links followed) */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const s = statSync(path, { throwIfNoEntry: false });
    if (s?.isDirectory()) out.push(...filesUnder(path));
    else if (s?.isFile()) out.push(path);
  }
  return out;
}
