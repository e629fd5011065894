/**
 * Real images: decoding (JPEG, PNG, WebP, TIFF, GIF) with the npm package `sharp`, whose
 * libvips ships inside its npm package, and an image-folder dataset.
 *
 *  - decodeImage(path): an RGB image [3, H, W] in [0, 1] (float32): the EXIF orientation is
 *    applied, greyscale becomes three equal channels, CMYK and other colour spaces become
 *    sRGB, and an alpha channel is dropped (as PIL's convert('RGB') does for torchvision);
 *  - imageFolder(root): torchvision's ImageFolder layout, `root/<class>/**\/<image>`, one
 *    sub-folder per class, classes sorted by name and numbered 0, 1, ...; images decode
 *    lazily (`await ds.load(i)`); `for await (const s of ds)` skips a file that does not
 *    decode, with a warning that names it, and goes on.
 *
 * sharp is an optional dependency, loaded when the first image is decoded; where it is
 * missing, decoding throws an error that says how to install it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ndarray from 'ndarray';
import type { Image } from './transforms.js';
import { DataError, ValueError, describeValue } from '../core/errors.js';

export { loadSharp, type Sharp, type SharpPipeline } from './sharp.js';
import { loadSharp } from './sharp.js';

/** An RGB image [3, H, W] in [0, 1] from an image file; the error names the file. */
export async function decodeImage(path: string): Promise<Image> {
  if (typeof path !== 'string') throw new ValueError(`decodeImage: expected a file path (a string), got ${describeValue(path)}`);
  const sharp = await loadSharp();
  let decoded;
  try {
    decoded = await sharp(path).autoOrient().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
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
  return ndarray(out, [3, H, W]);
}

/** what torchvision's ImageFolder takes, less the formats that sharp does not read (BMP, PPM, PGM) */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif'];

export interface ImageFolderOptions {
  /** file name endings to take, case-insensitive (IMAGE_EXTENSIONS); other files are ignored */
  extensions?: string[];
  /** where a skipped file is reported (console.warn) */
  warn?: (line: string) => void;
}

export interface ImageSample {
  image: Image;
  label: number;
  path: string;
  index: number;
}

export class ImageFolder {
  readonly name: string;
  /** class names, sorted; class i is the i-th */
  readonly classes: string[];
  /** every image file found, in class order, then by name (sub-folders in turn) */
  readonly files: { path: string; label: number }[];
  /** the files that iteration skipped, with the reason */
  readonly skipped: { path: string; error: string }[] = [];
  private readonly warn: (line: string) => void;

  constructor(readonly root: string, options: ImageFolderOptions = {}) {
    if (typeof root !== 'string') throw new ValueError(`imageFolder: expected a folder path (a string), got ${describeValue(root)}`);
    const given = options?.extensions;
    if (given !== undefined && (!Array.isArray(given) || !given.length || !given.every((e) => typeof e === 'string'))) {
      throw new ValueError(`imageFolder: expected extensions to be a non-empty array of file endings such as ['.jpg', '.png'], got ${describeValue(given)}`);
    }
    const extensions = (given ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    if (options?.warn !== undefined && typeof options.warn !== 'function') throw new ValueError(`imageFolder: expected warn to be a function (line) => void, got ${describeValue(options.warn)}`);
    this.warn = options?.warn ?? ((line) => console.warn(line));
    this.name = `image folder ${root}`;
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
  }

  get length(): number {
    return this.files.length;
  }

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
  async *[Symbol.asyncIterator](): AsyncGenerator<ImageSample> {
    if (this.length) await loadSharp(); // no sharp is no reason to skip files: it throws
    const settle = (i: number) => this.load(i).then((sample) => ({ sample }), (e: Error) => ({ error: e, path: this.files[i].path }));
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
